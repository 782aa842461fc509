// mdn-wasm side of the end-to-end comparison, run in its own process by bench/run.mjs:
//   node bench/e2e/mdn.mjs '{"quick":true}'   -> one JSON line of results on stdout
import { MDN } from "../../dist/index.js";
import { measure } from "../lib.mjs";
import { mixtureData, SEED, seedData, tiledData, W2, W3, W3B } from "./workloads.mjs";

const opts = JSON.parse(process.argv[2] ?? "{}");
const quick = !!opts.quick;

function config(w, seed = 0) {
  const hidden = w.hidden.map((units) => ({ units, activation: "relu", dropout: 0.2, batchNorm: true }));
  return { inputDim: w.inputDim, outputDim: w.outputDim, components: w.components, hidden, seed };
}
const m = (data, cols, rows = data.length / cols) => ({ data, shape: [rows, cols] });

const out = {};

// W1: the seed notebook's fit, validation loss every epoch.
{
  const d = seedData();
  const f = SEED.fit;
  let model;
  const r = await measure(async () => {
    // Like the TensorFlow.js side (tf.disposeVariables), each round releases the last round's model.
    model?.dispose();
    model = await MDN.create(config(SEED));
    const t0 = performance.now();
    await model.fit(m(d.x, 2), m(d.y, 2), {
      epochs: f.epochs, batchSize: f.batchSize, shuffle: true, validationSplit: f.validationSplit,
      optimizer: { name: "adam", learningRate: f.lr, beta1: f.beta1, beta2: f.beta2, epsilon: f.epsilon },
    });
    return { overriddenDuration: performance.now() - t0 };
  }, { iterations: quick ? 5 : 15, warmup: 2 });
  out.w1 = { fitMs: r };

  // Single-row predict of the seed model: one input, one answer (pi, mu, sigma copied out).
  const one = m(d.x.subarray(0, 2), 2);
  const reps = 2000;
  const p = await measure(() => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) model.predict(one);
    return { overriddenDuration: (performance.now() - t0) / reps };
  }, { iterations: quick ? 30 : 100, warmup: 20 });
  out.predict1 = { us: { median: p.median * 1e3, min: p.min * 1e3, max: p.max * 1e3 } };
}

// W2 and W3: training rows/s over whole epochs (no validation), after a warm-up fit.
async function trainRate(w, epochs, d = mixtureData(w)) {
  const model = await MDN.create(config(w));
  const fitOpts = { epochs, batchSize: w.batchSize, shuffle: true };
  await model.fit(m(d.x.subarray(0, 16 * w.batchSize * w.inputDim), w.inputDim), m(d.y.subarray(0, 16 * w.batchSize * w.outputDim), w.outputDim), { ...fitOpts, epochs: 1 });
  const r = await measure(async () => {
    const t0 = performance.now();
    await model.fit(m(d.x, w.inputDim), m(d.y, w.outputDim), fitOpts);
    return { overriddenDuration: performance.now() - t0 };
  }, { iterations: quick ? 2 : 3, warmup: 0 });
  const rowsPerS = (ms) => (d.rows * epochs) / (ms / 1e3);
  return { model, d, rate: { median: rowsPerS(r.median), min: rowsPerS(r.max), max: rowsPerS(r.min) } };
}

{
  const { model, d, rate } = await trainRate(W2, 1);
  out.w2 = { trainRowsPerS: rate };
  const B = W2.predictBatch;
  const x = m(d.x.subarray(0, B * W2.inputDim), W2.inputDim);
  const p = await measure(() => { model.predict(x, { batchSize: B }); }, { iterations: quick ? 20 : 60, warmup: 5 });
  out.w2.predictRowsPerS = { median: B / (p.median / 1e3), min: B / (p.max / 1e3), max: B / (p.min / 1e3) };
}
{
  const { rate } = await trainRate(W3, quick ? 1 : 2);
  out.w3 = { trainRowsPerS: rate };
}
{
  const { rate } = await trainRate(W3B, quick ? 1 : 2, tiledData(W3B));
  out.w3b = { trainRowsPerS: rate };
}

console.log(JSON.stringify(out));
