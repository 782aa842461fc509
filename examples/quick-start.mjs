// Quick start: the seed notebook's model on its four clusters, trained and scored.
// Run: node examples/quick-start.mjs
// #region use
import { adjustedRandScore, MDN, normalizedMutualInfoScore, seedClusters } from "mdn-wasm";

// 1,024 rows: x is a point near one of four cluster centres, y is that centre, z its cluster.
// x and y come as flat Float32Arrays, two numbers a row; a matrix is { data, shape: [rows, cols] }.
const { x, y, z } = seedClusters(1024, 0);
const rows = (a, from, to) => ({ data: a.subarray(2 * from, 2 * to), shape: [to - from, 2] });
const xTrain = rows(x, 0, 512), yTrain = rows(y, 0, 512);
const xTest = rows(x, 512, 1024), yTest = rows(y, 512, 1024);

const model = await MDN.create({
  inputDim: 2, outputDim: 2, components: 4,
  hidden: [
    { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
    { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
  ],
  seed: 0, // the same seed and data give bit-identical weights, in Node and in browsers
});
console.log(model.summary()); // a Keras-like table: Total params: 1,936

const stop = new AbortController(); // stop.abort() ends training before the next batch
const history = await model.fit(xTrain, yTrain, {
  epochs: 128, batchSize: 128, validationSplit: 0.2,
  optimizer: { name: "adam", learningRate: 1e-3 },
  earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32, restoreBestWeights: true },
  onEpochEnd: (epoch, logs) => {
    if (epoch % 16 === 0) console.log(`epoch ${epoch}: loss ${logs.loss.toFixed(3)}, val_loss ${logs.val_loss?.toFixed(3)}`);
  },
  signal: stop.signal,
});
console.log(`trained ${history.epoch.length} epochs`);

// pi (N, K), mu (N, K, D) and sigma (N, K) as Float32Arrays you own.
const { pi, mu, sigma } = model.predict(xTest);
const labels = Array.from({ length: 512 }, (_, n) => {
  const row = pi.subarray(4 * n, 4 * n + 4);
  return row.indexOf(Math.max(...row)); // the most probable component of row n
});
const k = labels[0];
console.log(`row 0: pi ${Array.from(pi.subarray(0, 4), (p) => p.toFixed(2)).join(" ")}; ` +
  `component ${k}: mean (${mu[2 * k].toFixed(2)}, ${mu[2 * k + 1].toFixed(2)}), sigma ${sigma[k].toFixed(4)}`);
console.log(`test NLL ${model.evaluate(xTest, yTest).toFixed(3)}`);
const zTest = z.subarray(512);
console.log(`test ARI ${adjustedRandScore(zTest, labels).toFixed(3)}, NMI ${normalizedMutualInfoScore(zTest, labels).toFixed(3)}`);
model.dispose(); // frees the model's WebAssembly memory for the next model
// #endregion
