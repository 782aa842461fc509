// Reference classifiers for the seed task, trained on the TRUE cluster labels: plug-in Gaussian
// (QDA with diagonal covariances, the true model's family), softmax regression (linear and
// quadratic features, float64 full-batch Newton-free gradient descent) and the notebook's MLP with
// cross-entropy (TensorFlow.js layers, cpu backend).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let tf, tfl;
function loadTf() {
  if (!tf) {
    tf = require("@tensorflow/tfjs-core");
    require("@tensorflow/tfjs-backend-cpu");
    tfl = require("@tensorflow/tfjs-layers");
  }
  return { tf, tfl };
}

/** Plug-in QDA (diagonal): pi, mu, per-dim variances estimated from rows [0, n) of (x, z). */
export function qdaPredict(x, z, n, xTest, K = 4) {
  const cnt = new Float64Array(K), mu = new Float64Array(2 * K), v = new Float64Array(2 * K);
  for (let r = 0; r < n; r++) { cnt[z[r]]++; for (let d = 0; d < 2; d++) mu[2 * z[r] + d] += x[2 * r + d]; }
  for (let k = 0; k < K; k++) for (let d = 0; d < 2; d++) mu[2 * k + d] /= Math.max(1, cnt[k]);
  for (let r = 0; r < n; r++) for (let d = 0; d < 2; d++) v[2 * z[r] + d] += (x[2 * r + d] - mu[2 * z[r] + d]) ** 2;
  for (let k = 0; k < K; k++) for (let d = 0; d < 2; d++) v[2 * k + d] = v[2 * k + d] / Math.max(1, cnt[k] - 1);
  const m = xTest.length / 2;
  const out = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    let best = -Infinity;
    for (let k = 0; k < K; k++) {
      let l = Math.log(cnt[k] / n);
      for (let d = 0; d < 2; d++) l += -0.5 * (xTest[2 * r + d] - mu[2 * k + d]) ** 2 / v[2 * k + d] - 0.5 * Math.log(v[2 * k + d]);
      if (l > best) { best = l; out[r] = k; }
    }
  }
  return out;
}

/** Softmax regression on features f(x) (linear or quadratic), float64, full-batch gradient descent with a tiny L2. */
export function softmaxPredict(x, z, n, xTest, quadratic, K = 4) {
  const feat = (x0, x1) => (quadratic ? [1, x0, x1, x0 * x0, x1 * x1, x0 * x1] : [1, x0, x1]);
  const F = feat(0, 0).length;
  const W = new Float64Array(F * K);
  const X = Array.from({ length: n }, (_, r) => feat(x[2 * r], x[2 * r + 1]));
  const g = new Float64Array(F * K);
  // Adam in float64 on the convex CE: converges to the (lightly regularised) MLE.
  const m1 = new Float64Array(F * K), m2 = new Float64Array(F * K);
  for (let it = 1; it <= 3000; it++) {
    g.fill(0);
    for (let r = 0; r < n; r++) {
      const l = new Float64Array(K);
      for (let k = 0; k < K; k++) for (let f = 0; f < F; f++) l[k] += X[r][f] * W[f * K + k];
      const mx = Math.max(...l);
      let s = 0;
      for (let k = 0; k < K; k++) s += (l[k] = Math.exp(l[k] - mx));
      for (let k = 0; k < K; k++) for (let f = 0; f < F; f++) g[f * K + k] += X[r][f] * (l[k] / s - (z[r] === k ? 1 : 0)) / n;
    }
    for (let i = 0; i < W.length; i++) {
      g[i] += 1e-4 * W[i];
      m1[i] = 0.9 * m1[i] + 0.1 * g[i];
      m2[i] = 0.999 * m2[i] + 0.001 * g[i] * g[i];
      W[i] -= (0.05 * (m1[i] / (1 - 0.9 ** it))) / (Math.sqrt(m2[i] / (1 - 0.999 ** it)) + 1e-12);
    }
  }
  const m = xTest.length / 2;
  const out = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const f = feat(xTest[2 * r], xTest[2 * r + 1]);
    let best = -Infinity;
    for (let k = 0; k < K; k++) {
      let l = 0;
      for (let j = 0; j < F; j++) l += f[j] * W[j * K + k];
      if (l > best) { best = l; out[r] = k; }
    }
  }
  return out;
}

/**
 * The notebook's MLP (Dense 32 relu -> Dropout 0.2 -> BN, twice) with a softmax head and
 * cross-entropy on the true labels; Adam(1e-3, eps 1e-8), batch 128, validationSplit 0.2.
 */
export async function mlpPredict(x, z, n, xTest, { epochs = 128, earlyStopping = null, seed = 0, K = 4 } = {}) {
  const { tf, tfl } = loadTf();
  await tf.setBackend("cpu");
  // tfjs-layers draws initial weights and dropout from Math.random: seed it here.
  const rngState = { s: seed >>> 0 };
  const saved = Math.random;
  Math.random = () => {
    rngState.s = (rngState.s + 0x6d2b79f5) >>> 0;
    let t = rngState.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  try {
    const model = tfl.sequential();
    for (let i = 0; i < 2; i++) {
      model.add(tfl.layers.dense({ units: 32, activation: "relu", ...(i === 0 ? { inputShape: [2] } : {}) }));
      model.add(tfl.layers.dropout({ rate: 0.2 }));
      model.add(tfl.layers.batchNormalization());
    }
    model.add(tfl.layers.dense({ units: K, activation: "softmax" }));
    model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8), loss: "sparseCategoricalCrossentropy" });
    const xs = tf.tensor2d(x.subarray(0, 2 * n), [n, 2]);
    const ys = tf.tensor2d(Float32Array.from(z.subarray(0, n)), [n, 1]);
    const callbacks = earlyStopping ? [tfl.callbacks.earlyStopping(earlyStopping)] : [];
    const h = await model.fit(xs, ys, { epochs, batchSize: 128, shuffle: true, validationSplit: 0.2, verbose: 0, callbacks });
    const p = model.predict(tf.tensor2d(xTest, [xTest.length / 2, 2]));
    const out = Int32Array.from(await tf.argMax(p, 1).data());
    tf.disposeVariables();
    return { z: out, epochs: h.epoch.length };
  } finally {
    Math.random = saved;
  }
}
