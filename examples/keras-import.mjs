// Keras import: a Keras MDN in the TensorFlow.js Layers format (the model.json and weight files that
// `tensorflowjs_converter --input_format keras model.h5 tfjs_model` writes) becomes an MDN that
// predicts as the Keras model does and trains on here.
// Run: node examples/keras-import.mjs
//
// A stand-in for your converted model: the seed notebook's network built with
// @tensorflow/tfjs-layers (npm install @tensorflow/tfjs-core @tensorflow/tfjs-layers
// @tensorflow/tfjs-backend-cpu; not needed to import) and saved to ./tfjs_model in a temporary folder.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";

tf.enableProdMode(); // quiet: no "install tfjs-node" banner
await tf.setBackend("cpu");
const glorot = (seed) => tfl.initializers.glorotUniform({ seed }); // seeded: the same model every run
const apply = (layer, x) => /** @type {tfl.SymbolicTensor} */ (layer.apply(x));
const input = tfl.input({ shape: [2] });
let h = input;
for (let i = 0; i < 2; i++) {
  h = apply(tfl.layers.dense({ units: 32, activation: "relu", kernelInitializer: glorot(i) }), h);
  h = apply(tfl.layers.dropout({ rate: 0.2 }), h);
  h = apply(tfl.layers.batchNormalization(), h);
}
const heads = [
  apply(tfl.layers.dense({ units: 8, activation: "linear", kernelInitializer: glorot(2), name: "mdn_mu" }), h), // K * D means
  apply(tfl.layers.dense({ units: 4, activation: "softplus", kernelInitializer: glorot(3), name: "mdn_sigma" }), h), // K sigmas
  apply(tfl.layers.dense({ units: 4, activation: "softmax", kernelInitializer: glorot(4), name: "mdn_pi" }), h), // K weights
];
const keras = tfl.model({ inputs: input, outputs: apply(tfl.layers.concatenate(), heads) });
process.chdir(await mkdtemp(path.join(tmpdir(), "mdn-keras-")));
await keras.save(tf.io.withSaveHandler(async (artifacts) => {
  await mkdir("tfjs_model");
  const weightsManifest = [{ paths: ["group1-shard1of1.bin"], weights: artifacts.weightSpecs }];
  await writeFile("tfjs_model/model.json", JSON.stringify({ format: "layers-model", modelTopology: artifacts.modelTopology, weightsManifest }));
  await writeFile("tfjs_model/group1-shard1of1.bin", new Uint8Array(/** @type {ArrayBuffer} */ (artifacts.weightData)));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
}));

// #region keras
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { adjustedRandScore, seedClusters } from "mdn-wasm";
import { fromKeras } from "mdn-wasm/keras";

const dir = "tfjs_model"; // model.json and its weight files
const modelJson = await readFile(join(dir, "model.json"), "utf8");
const model = await fromKeras({ modelJson, weights: (path) => readFile(join(dir, path)) }, { seed: 0 });
console.log(model.summary());
// #endregion

// The imported model predicts what Keras predicts (Keras' output is [mu | sigma | pi] per row).
const { x, y, z } = seedClusters(1024, 0);
const probe = x.subarray(0, 2 * 16);
const want = /** @type {Float32Array} */ (/** @type {tf.Tensor} */ (keras.predict(tf.tensor2d(probe, [16, 2]))).dataSync());
const got = model.predict({ data: probe, shape: [16, 2] });
let diff = 0;
for (let r = 0; r < 16; r++) {
  for (let j = 0; j < 8; j++) diff = Math.max(diff, Math.abs(got.mu[8 * r + j] - want[16 * r + j]));
  for (let k = 0; k < 4; k++) {
    diff = Math.max(diff, Math.abs(got.sigma[4 * r + k] - want[16 * r + 8 + k]), Math.abs(got.pi[4 * r + k] - want[16 * r + 12 + k]));
  }
}
console.log(`largest difference from Keras' predict over 16 rows: ${diff.toExponential(1)}`);

// And trains on here, from Keras' weights.
await model.fit({ data: x.subarray(0, 1024), shape: [512, 2] }, { data: y.subarray(0, 1024), shape: [512, 2] }, { epochs: 128, batchSize: 128 });
const { pi } = model.predict({ data: x.subarray(1024), shape: [512, 2] });
const labels = Array.from({ length: 512 }, (_, n) => {
  const row = pi.subarray(4 * n, 4 * n + 4);
  return row.indexOf(Math.max(...row));
});
console.log(`after 128 epochs here: test ARI ${adjustedRandScore(z.subarray(512), labels).toFixed(3)}`);
model.dispose();
