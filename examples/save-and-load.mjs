// Saving and loading: a model as bytes (the same format in Node and browsers), as a file through
// mdn-wasm/node, and a checkpoint that resumes training exactly where it stopped.
// Run: node examples/save-and-load.mjs
// #region save
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MDN, seedClusters } from "mdn-wasm";
// Node only: a separate entry, so browser bundles never see node: imports.
import { loadCheckpointFile, loadFile, saveCheckpointFile, saveFile } from "mdn-wasm/node";

const { x, y } = seedClusters(512, 0);
const xs = { data: x, shape: [512, 2] }, ys = { data: y, shape: [512, 2] };
const config = { inputDim: 2, outputDim: 2, components: 4, seed: 0 };
const model = await MDN.create(config);
await model.fit(xs, ys, { epochs: 20, batchSize: 128 });

const bytes = model.save(); // Uint8Array: config, weights, normalisation, generator state
const same = await MDN.load(bytes);
console.log(`${bytes.length} bytes; loaded model predicts the same: ${same.evaluate(xs, ys) === model.evaluate(xs, ys)}`);

const dir = await mkdtemp(join(tmpdir(), "mdn-example-"));
await saveFile(model, join(dir, "model.mdn")); // written to a temporary file, then renamed
const again = await loadFile(join(dir, "model.mdn"));
console.log(`model.mdn loads back with the same bytes: ${Buffer.compare(again.save(), bytes) === 0}`);

// A checkpoint adds the training state (Adam's moments, the generator, the row order): 20 more
// epochs after loading it give the same weights as 40 epochs in one go.
await saveCheckpointFile(model, join(dir, "model.ckpt"));
const resumed = await loadCheckpointFile(join(dir, "model.ckpt"));
await resumed.fit(xs, ys, { epochs: 40, initialEpoch: 20, batchSize: 128 });
const straight = await MDN.create(config);
await straight.fit(xs, ys, { epochs: 40, batchSize: 128 });
console.log(`resumed equals straight through: ${Buffer.compare(resumed.save(), straight.save()) === 0}`);
for (const m of [model, same, again, resumed, straight]) m.dispose();
// #endregion
