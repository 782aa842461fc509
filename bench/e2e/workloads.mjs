// The end-to-end workloads, defined once and shared by both sides (mdn.mjs, tfjs.mjs), so each
// process builds the same model on the same data with the same settings.
import { dataRng, seedClusters } from "../../dist/index.js";

/** The seed notebook's model: hidden [32, 32], relu, dropout 0.2, batch norm; K = 4, D = 2. */
export const SEED = {
  inputDim: 2, outputDim: 2, components: 4,
  hidden: [32, 32],
  fit: { epochs: 128, batchSize: 128, validationSplit: 0.2, lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  rows: 512,
};

/** W2 and W3: same layer pattern as the seed (relu, dropout 0.2, batch norm), larger layers. */
export const W2 = { inputDim: 2, outputDim: 2, components: 8, hidden: [256, 256], rows: 65536, batchSize: 256, predictBatch: 4096 };
export const W3 = { inputDim: 16, outputDim: 16, components: 16, hidden: [128, 128], rows: 16384, batchSize: 256 };
/**
 * W3b, the seed's data scaled up as the threads issue measured it: 2 inputs, targets the cluster
 * centre tiled to 16 dimensions plus N(0, 0.1^2) noise; [128, 128], K = 16. Its responsibilities
 * sharpen as it trains, so it is the workload where subnormal floats appear (issue 16).
 */
export const W3B = { inputDim: 2, outputDim: 16, components: 16, hidden: [128, 128], rows: 16384, batchSize: 256 };

export function seedData() {
  const d = seedClusters(1024, 0);
  return { x: d.x.subarray(0, 2 * SEED.rows), y: d.y.subarray(0, 2 * SEED.rows), rows: SEED.rows };
}

/**
 * A K-cluster conditional mixture in any dimension: cluster k has centre c_k (I), x ~ N(c_k, 0.5 I)
 * and y = W_k x / sqrt(I) + 0.1 noise (D). Seeded, so both processes see identical rows.
 */
export function mixtureData(w, seed = 1) {
  const { rows: n, inputDim: I, outputDim: D, components: K } = w;
  const rng = dataRng(seed);
  const centre = Array.from({ length: K }, () => Array.from({ length: I }, () => 4 * rng.uniform() - 2));
  const map = Array.from({ length: K }, () => Array.from({ length: D * I }, () => rng.normal() / Math.sqrt(I)));
  const x = new Float32Array(n * I);
  const y = new Float32Array(n * D);
  for (let r = 0; r < n; r++) {
    const k = Math.floor(rng.uniform() * K);
    for (let i = 0; i < I; i++) x[r * I + i] = centre[k][i] + Math.SQRT1_2 * rng.normal();
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += map[k][d * I + i] * x[r * I + i];
      y[r * D + d] = s + 0.1 * rng.normal();
    }
  }
  return { x, y, rows: n };
}

/** W3b's rows: seedClusters' inputs; each target the row's cluster centre tiled to D plus noise. */
export function tiledData(w, seed = 2) {
  const { rows: n, outputDim: D } = w;
  const c = seedClusters(n, seed);
  const rng = dataRng(seed + 1);
  const y = new Float32Array(n * D);
  for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) y[r * D + d] = c.y[r * 2 + (d % 2)] + 0.1 * rng.normal();
  return { x: c.x, y, rows: n };
}

/** Median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
