// Training in a module Web Worker: the page stays responsive, progress arrives every epoch, Stop
// cancels, and the whole trained model comes back to the page.
// Run: npx vite examples/web-worker (any bundler that understands new URL(..., import.meta.url) works).
// #region main
import { adjustedRandScore, seedClusters } from "mdn-wasm";
import { trainInWorker } from "mdn-wasm/worker";

const button = document.body.appendChild(document.createElement("button"));
const out = document.body.appendChild(document.createElement("pre"));
const print = (line) => { out.textContent += `${line}\n`; };

const { x, y, z } = seedClusters(1024, 0);
const worker = new Worker(new URL("./train.worker.js", import.meta.url), { type: "module" });
const stop = new AbortController();
button.textContent = "Stop";
button.onclick = () => stop.abort(new Error("stopped by the user"));
try {
  const { model, history } = await trainInWorker(worker, {
    config: { inputDim: 2, outputDim: 2, components: 4, seed: 0 },
    x: { data: x.slice(0, 1024), shape: [512, 2] }, // the first 512 rows, 2 numbers each
    y: { data: y.slice(0, 1024), shape: [512, 2] },
    fit: { epochs: 128, batchSize: 128, validationSplit: 0.2, earlyStopping: true },
  }, {
    onEpochEnd: ({ epoch, logs }) => print(`epoch ${epoch}: loss ${logs.loss.toFixed(3)}, val_loss ${logs.val_loss?.toFixed(3)}`),
    signal: stop.signal, // an abort stops the worker before its next batch
  });
  const { pi } = model.predict({ data: x.subarray(1024), shape: [512, 2] }); // the other 512 rows
  const labels = Array.from({ length: 512 }, (_, n) => {
    const row = pi.subarray(4 * n, 4 * n + 4);
    return row.indexOf(Math.max(...row)); // the most probable component
  });
  print(`trained ${history.epoch.length} epochs in the worker; test ARI ${adjustedRandScore(z.subarray(512), labels).toFixed(3)}`);
  model.dispose();
} catch (error) {
  print(stop.signal.aborted ? "stopped" : `failed: ${error}`);
} finally {
  worker.terminate();
  button.disabled = true;
}
// #endregion
