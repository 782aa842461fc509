// TensorFlow.js side of the end-to-end comparison, run in its own process by bench/run.mjs:
//   node bench/e2e/tfjs.mjs '{"backend":"wasm","quick":true}'   -> one JSON line on stdout
// tfjs-core + tfjs-layers 4.22 with the same model as mdn-wasm: Dense -> relu -> Dropout(0.2) ->
// BatchNormalization per hidden layer, one Dense head of P = K + K*D + K outputs, and the same
// negative log-likelihood written in log space (log-softmax, log-sum-exp, sigma = max(exp(s),
// floor) as log sigma = max(s, log floor)). Backends: `cpu` (plain JS) and `wasm` with SIMD; the
// wasm backend's multithreaded build needs SharedArrayBuffer workers, which tfjs-backend-wasm
// does not use in Node, so it runs on one thread, like mdn-wasm.
import { createRequire } from "node:module";
import path from "node:path";
import { measure } from "../lib.mjs";
import { mixtureData, SEED, seedData, tiledData, W2, W3, W3B } from "./workloads.mjs";

// All four through require: the packages' Node entry points are CommonJS, and importing some as ES
// modules would load a second tfjs-core whose registry the backends never see.
const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs-core");
require("@tensorflow/tfjs-backend-cpu");
const wasm = require("@tensorflow/tfjs-backend-wasm");
const tfl = require("@tensorflow/tfjs-layers");

const opts = JSON.parse(process.argv[2] ?? "{}");
const quick = !!opts.quick;
const FLOOR = 1e-4; // mdn-wasm's default sigma floor
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

if (opts.backend === "wasm") {
  const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")) + "/dist/";
  wasm.setWasmPaths(dist);
}
await tf.setBackend(opts.backend);
await tf.ready();

/** The model and its loss; targets are padded to P columns (tfjs-layers checks target shapes). */
function build(w, epsilon = 1e-7) {
  const { inputDim: I, outputDim: D, components: K } = w;
  const P = K + K * D + K;
  const model = tfl.sequential();
  w.hidden.forEach((units, i) => {
    model.add(tfl.layers.dense({ units, activation: "relu", ...(i === 0 ? { inputShape: [I] } : {}) }));
    model.add(tfl.layers.dropout({ rate: 0.2 }));
    model.add(tfl.layers.batchNormalization());
  });
  model.add(tfl.layers.dense({ units: P }));
  const logFloor = Math.log(FLOOR);
  const loss = (yTrue, a) => tf.tidy(() => {
    const n = a.shape[0];
    const logits = tf.slice(a, [0, 0], [n, K]);
    const mu = tf.reshape(tf.slice(a, [0, K], [n, K * D]), [n, K, D]);
    const logSigma = tf.maximum(tf.slice(a, [0, K + K * D], [n, K]), logFloor);
    const y = tf.reshape(tf.slice(yTrue, [0, 0], [n, D]), [n, 1, D]);
    const z = tf.mul(tf.sum(tf.square(tf.sub(y, mu)), 2), tf.exp(tf.mul(logSigma, -2)));
    const logN = tf.sub(tf.sub(tf.mul(logSigma, -D), D * HALF_LOG_2PI), tf.mul(z, 0.5));
    const l = tf.add(tf.logSoftmax(logits), logN);
    return tf.mean(tf.neg(tf.logSumExp(l, 1)));
  });
  return { model, loss, P, epsilon };
}

function compile(b, lr = 1e-3, beta1 = 0.9, beta2 = 0.999) {
  b.model.compile({ optimizer: tf.train.adam(lr, beta1, beta2, b.epsilon), loss: b.loss });
}

/** x (n, I) and y padded to (n, P) as tensors. */
function tensors(d, w, P) {
  const { inputDim: I, outputDim: D } = w;
  const yp = new Float32Array(d.rows * P);
  for (let r = 0; r < d.rows; r++) for (let j = 0; j < D; j++) yp[r * P + j] = d.y[r * D + j];
  return { x: tf.tensor2d(d.x, [d.rows, I]), y: tf.tensor2d(yp, [d.rows, P]) };
}

const out = { backend: tf.getBackend() };
if (opts.backend === "wasm") {
  out.wasmSimd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  out.wasmThreads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
}

// W1: the seed's fit, validation loss every epoch.
{
  const d = seedData();
  const f = SEED.fit;
  let b;
  let t;
  const fit = async (epochs) => {
    tf.disposeVariables();
    b = build(SEED, f.epsilon);
    compile(b, f.lr, f.beta1, f.beta2);
    t?.x.dispose(); t?.y.dispose();
    t = tensors(d, SEED, b.P);
    const t0 = performance.now();
    await b.model.fit(t.x, t.y, { epochs, batchSize: f.batchSize, shuffle: true, validationSplit: f.validationSplit, verbose: 0 });
    return { overriddenDuration: performance.now() - t0 };
  };
  // Quick mode warms up with a fit of 4 epochs (every kernel and the fit loop run, JIT-compiled)
  // rather than a whole untimed fit; the timed fits are always the full 128 epochs.
  if (quick) await fit(4);
  const r = await measure(() => fit(f.epochs), { iterations: quick ? 1 : 3, warmup: quick ? 0 : 1 });
  out.w1 = { fitMs: r };

  // Single-row predict: one input in, pi/mu/sigma values out (as the user would read them).
  const row = d.x.subarray(0, 2);
  const reps = 50;
  const p = await measure(() => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) {
      tf.tidy(() => {
        const a = b.model.predict(tf.tensor2d(row, [1, 2]));
        const K = SEED.components, D = SEED.outputDim;
        const pi = tf.softmax(tf.slice(a, [0, 0], [1, K]));
        const sigma = tf.maximum(tf.exp(tf.slice(a, [0, K + K * D], [1, K])), FLOOR);
        pi.dataSync(); a.dataSync(); sigma.dataSync();
      });
    }
    return { overriddenDuration: (performance.now() - t0) / reps };
  }, { iterations: quick ? 20 : 60, warmup: 5 });
  out.predict1 = { us: { median: p.median * 1e3, min: p.min * 1e3, max: p.max * 1e3 } };
}

/**
 * Training rows/s on the full data set: fit one epoch, time batches skip..skip+count (steady
 * state; fit's own set-up is left out, which favours TensorFlow.js), then stop.
 */
async function trainRate(w, count, d = mixtureData(w)) {
  tf.disposeVariables();
  const b = build(w);
  compile(b);
  const t = tensors(d, w, b.P);
  const skip = 3;
  const r = await measure(async () => {
    let t0 = 0;
    let ms = 0;
    await b.model.fit(t.x, t.y, {
      epochs: 1, batchSize: w.batchSize, shuffle: true, verbose: 0,
      callbacks: {
        onBatchEnd: (batch) => {
          if (batch === skip - 1) t0 = performance.now();
          if (batch === skip + count - 1) {
            ms = performance.now() - t0;
            b.model.stopTraining = true;
          }
        },
      },
    });
    return { overriddenDuration: ms };
  }, { iterations: quick ? 2 : 3, warmup: 0 });
  const rowsPerS = (ms) => (count * w.batchSize) / (ms / 1e3);
  return { b, t, rate: { median: rowsPerS(r.median), min: rowsPerS(r.max), max: rowsPerS(r.min) } };
}

{
  const { b, t, rate } = await trainRate(W2, quick ? 8 : 24);
  out.w2 = { trainRowsPerS: rate };
  const B = W2.predictBatch;
  const x = tf.slice(t.x, [0, 0], [B, W2.inputDim]);
  const p = await measure(() => {
    tf.tidy(() => {
      const a = b.model.predict(x, { batchSize: B });
      a.dataSync();
    });
  }, { iterations: quick ? 3 : 15, warmup: quick ? 1 : 2 });
  out.w2.predictRowsPerS = { median: B / (p.median / 1e3), min: B / (p.max / 1e3), max: B / (p.min / 1e3) };
}
{
  const { rate } = await trainRate(W3, quick ? 8 : 24);
  out.w3 = { trainRowsPerS: rate };
}
{
  const { rate } = await trainRate(W3B, quick ? 8 : 24, tiledData(W3B));
  out.w3b = { trainRowsPerS: rate };
}

console.log(JSON.stringify(out));
