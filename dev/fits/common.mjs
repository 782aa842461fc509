// Shared helpers for the issue-18 experiments (dev/fits/*.mjs). They import the built library
// (run `npm run build` first) and never touch the mainline.
import { MDN, adjustedRandScore, normalizedMutualInfoScore, seedClusters, dataRng } from "../../dist/index.js";

export { MDN, adjustedRandScore, normalizedMutualInfoScore, seedClusters, dataRng };

/** The seed notebook's settings: architecture and fit options (test/seed-model.ts, demo/notebook.ts). */
export const NOTEBOOK_HIDDEN = [
  { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
  { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
];
export const NOTEBOOK_FIT = {
  epochs: 128, batchSize: 128, shuffle: true, validationSplit: 0.2,
  optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32, restoreBestWeights: false },
};

export function argmaxRows(p, rows, K) {
  const z = new Int32Array(rows);
  for (let r = 0; r < rows; r++) for (let k = 1; k < K; k++) if (p[r * K + k] > p[r * K + z[r]]) z[r] = k;
  return z;
}

/** log N(x; mu, diag(v)) for 2-D x. */
function logNormDiag(x0, x1, mu, v) {
  return -0.5 * ((x0 - mu[0]) ** 2 / v[0] + (x1 - mu[1]) ** 2 / v[1]) - 0.5 * Math.log(v[0] * v[1]) - Math.log(2 * Math.PI);
}

/** Bayes-optimal posterior p(k | x) (rows, K) of the seed data's true mixture, float64. */
export function bayesPosterior(d, from, to) {
  const K = d.pi.length;
  const out = new Float64Array((to - from) * K);
  for (let r = from; r < to; r++) {
    const l = d.pi.map((p, k) => Math.log(p) + logNormDiag(d.x[2 * r], d.x[2 * r + 1], d.mu[k], d.variance[k]));
    const m = Math.max(...l);
    const s = l.reduce((a, v) => a + Math.exp(v - m), 0);
    for (let k = 0; k < K; k++) out[(r - from) * K + k] = Math.exp(l[k] - m) / s;
  }
  return out;
}

export const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
};
export const median = (xs) => quantile(xs, 0.5);
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** "median [q1, q3] (min-max)" */
export const spread = (xs, f = 3) => `${median(xs).toFixed(f)} [${quantile(xs, 0.25).toFixed(f)}, ${quantile(xs, 0.75).toFixed(f)}] (${Math.min(...xs).toFixed(f)}-${Math.max(...xs).toFixed(f)})`;
export const mm = (xs, f = 3) => `${mean(xs).toFixed(f)} (${Math.min(...xs).toFixed(f)}-${Math.max(...xs).toFixed(f)})`;

/**
 * The seed task: data seed `dataSeed`, the first 512 rows train (or `trainData` instead), the
 * last 512 test. Returns test ARI/NMI of argmax(pi), the history, and the components used.
 */
export async function seedTask({ dataSeed, modelSeed = dataSeed, config = {}, fit = {}, trainRows = null, before = null, keep = false }) {
  const d = seedClusters(1024, dataSeed);
  const n = 512;
  let xTr = d.x.subarray(0, 2 * n), yTr = d.y.subarray(0, 2 * n), nTr = n;
  if (trainRows) {
    // A bigger training set from an unrelated stream; the test rows stay the same.
    const big = seedClusters(trainRows, dataSeed + 7_000_000);
    xTr = big.x; yTr = big.y; nTr = trainRows;
  }
  const model = await MDN.create({ inputDim: 2, outputDim: 2, components: 4, hidden: NOTEBOOK_HIDDEN, sigma: { activation: "exp" }, seed: modelSeed, ...config });
  try {
    if (before) before(model, { data: xTr, rows: nTr, cols: 2 }, { data: yTr, rows: nTr, cols: 2 });
    const history = await model.fit({ data: xTr, shape: [nTr, 2] }, { data: yTr, shape: [nTr, 2] }, { ...NOTEBOOK_FIT, ...fit });
    const xTe = { data: d.x.subarray(2 * n), shape: [1024 - n, 2] };
    const p = model.predict(xTe);
    const zPred = argmaxRows(p.pi, 1024 - n, 4);
    const zTest = d.z.subarray(n);
    const used = new Set(zPred).size;
    const testNll = model.evaluate(xTe, { data: d.y.subarray(2 * n), shape: [1024 - n, 2] });
    return { ari: adjustedRandScore(zTest, zPred), nmi: normalizedMutualInfoScore(zTest, zPred), history, used, testNll, model: keep ? model : null, data: d };
  } finally {
    if (!keep) model.dispose();
  }
}
