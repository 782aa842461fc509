// Small data sets with known truth for the issue-18 experiments, each seeded. Targets and inputs
// are float32; `trueNll(x, y)` is the exact conditional density's mean NLL where it is known.
import { dataRng, seedClusters } from "../../dist/index.js";

/** The library's data generator (sfc32): uniform in [0, 1) and standard normal draws. */
const draws = (seed) => dataRng(seed);
const m = (data, cols) => ({ data, shape: [data.length / cols, cols] });

const g = (t) => t + 0.3 * Math.sin(2 * Math.PI * t);
/** Bishop's inverse problem (PRML 5.6) as test/bishop.test.ts: t ~ U(0,1), x = g(t) + U(-0.1, 0.1); learn t | x. */
export function bishop(seed, N) {
  const r = draws(seed).uniform;
  const x = new Float32Array(N), t = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    t[i] = r();
    x[i] = t[i] + 0.3 * Math.sin(2 * Math.PI * t[i]) + (r() * 0.2 - 0.1);
  }
  return { x: m(x, 1), y: m(t, 1) };
}
/** True p(t | x) is uniform on {t in [0, 1] : |x - g(t)| <= 0.1}: -log p = log of that set's length. */
const GRID = 20000;
const gGrid = Float64Array.from({ length: GRID }, (_, i) => g((i + 0.5) / GRID));
function bishopTrueNll(x) {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    let c = 0;
    for (let j = 0; j < GRID; j++) if (Math.abs(x[i] - gGrid[j]) <= 0.1) c++;
    s += Math.log(c / GRID);
  }
  return s / x.length;
}

/** Heteroscedastic 1-D regression: x ~ U(-3, 3), y = sin(x) + 0.1 x + sd(x) e, sd(x) = 0.05 + 0.1 |x|. */
export function hetero(seed, N) {
  const r = draws(seed);
  const x = new Float32Array(N), y = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    x[i] = 6 * r.uniform() - 3;
    y[i] = Math.sin(x[i]) + 0.1 * x[i] + (0.05 + 0.1 * Math.abs(x[i])) * r.normal();
  }
  return { x: m(x, 1), y: m(y, 1) };
}
const heteroTrueNll = (x) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.log(0.05 + 0.1 * Math.abs(x[i])) + 0.5 * Math.log(2 * Math.PI * Math.E);
  return s / x.length;
};

/** Correlated 2-D targets (test/bishop.test.ts): y = 0.3 (x + e1, x + 0.9 e1 + sqrt(0.19) e2), x ~ U(-1, 1). */
export function corr2d(seed, N) {
  const r = draws(seed);
  const x = new Float32Array(N), y = new Float32Array(2 * N);
  for (let i = 0; i < N; i++) {
    x[i] = 2 * r.uniform() - 1;
    const e1 = r.normal(), e2 = r.normal();
    y[2 * i] = 0.3 * (x[i] + e1);
    y[2 * i + 1] = 0.3 * (x[i] + 0.9 * e1 + Math.sqrt(1 - 0.81) * e2);
  }
  return { x: m(x, 1), y: m(y, 2) };
}
// Covariance 0.09 [[1, 0.9], [0.9, 1]]: -log N averages log(2 pi) + 0.5 log det + 1.
const corrTrueNll = () => Math.log(2 * Math.PI) + 0.5 * Math.log(0.09 ** 2 * (1 - 0.81)) + 1;

/** The seed notebook's clusters; a draw of N rows. */
export function clusters(seed, N) {
  const d = seedClusters(N, seed);
  return { x: m(d.x, 2), y: m(d.y, 2), z: d.z };
}

/**
 * The problems: data, model config and fit settings (the settings of test/bishop.test.ts for
 * bishop and corr2d, the notebook's for clusters, plain defaults for hetero).
 */
export const PROBLEMS = {
  bishop: {
    make: bishop, trainRows: 1000, testRows: 2000, trueNll: (d) => bishopTrueNll(d.x.data),
    config: { inputDim: 1, outputDim: 1, components: 5, hidden: [{ units: 32, activation: "tanh" }, { units: 32, activation: "tanh" }] },
    fit: { batchSize: 64, optimizer: { learningRate: 5e-3 } },
  },
  hetero: {
    make: hetero, trainRows: 500, testRows: 2000, trueNll: (d) => heteroTrueNll(d.x.data),
    config: { inputDim: 1, outputDim: 1, components: 3, hidden: [32, 32] },
    fit: { batchSize: 32 },
  },
  clusters: {
    make: clusters, trainRows: 512, testRows: 2000, trueNll: null,
    config: { inputDim: 2, outputDim: 2, components: 4, hidden: [{ units: 32, activation: "relu", dropout: 0.2, batchNorm: true }, { units: 32, activation: "relu", dropout: 0.2, batchNorm: true }] },
    fit: { batchSize: 128, optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } },
  },
  corr2d: {
    make: corr2d, trainRows: 2000, testRows: 2000, trueNll: () => corrTrueNll(),
    config: { inputDim: 1, outputDim: 2, components: 2, hidden: [16], covariance: "full" },
    fit: { batchSize: 64, optimizer: { learningRate: 5e-3 } },
  },
};
