// Training in a Node worker thread: the main thread stays free; progress arrives every epoch and the
// whole trained model (weights, statistics, training state) comes back.
// Run: node examples/node-worker/main.mjs
// #region main
import { Worker } from "node:worker_threads";
import { adjustedRandScore, seedClusters } from "mdn-wasm";
import { trainInWorker } from "mdn-wasm/worker";

const { x, y, z } = seedClusters(1024, 0);
const worker = new Worker(new URL("./train.worker.mjs", import.meta.url));
const stop = new AbortController(); // stop.abort() stops the worker before its next batch
try {
  const { model, history } = await trainInWorker(worker, {
    config: {
      inputDim: 2, outputDim: 2, components: 4, seed: 0,
      hidden: [
        { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
        { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
      ],
    },
    x: { data: x.slice(0, 1024), shape: [512, 2] },
    y: { data: y.slice(0, 1024), shape: [512, 2] },
    fit: { epochs: 128, batchSize: 128, validationSplit: 0.2, earlyStopping: true },
  }, {
    onEpochEnd: ({ epoch, logs }) => { if (epoch % 32 === 0) console.log(`worker: epoch ${epoch}, loss ${logs.loss.toFixed(3)}`); },
    signal: stop.signal,
  });
  console.log(`trained ${history.epoch.length} epochs in the worker`);
  const { pi } = model.predict({ data: x.subarray(1024), shape: [512, 2] });
  const labels = Array.from({ length: 512 }, (_, n) => {
    const row = pi.subarray(4 * n, 4 * n + 4);
    return row.indexOf(Math.max(...row));
  });
  console.log(`test ARI ${adjustedRandScore(z.subarray(512), labels).toFixed(3)} (model predicting on the main thread)`);
  model.dispose();
} finally {
  await worker.terminate();
}
// #endregion
