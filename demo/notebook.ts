// The seed notebook's computation with the public API only: its data, architecture and training
// settings, then argmax(pi) on the test rows, the clustering scores and the per-label averages of
// the predicted means and sigmas, computed as the notebook does.

import { adjustedRandScore, type History, type Logs, MDN, normalizedMutualInfoScore, seedClusters } from "mdn-wasm";

/** Notebook: generate_data(1024), then the first 512 rows train and the rest test. */
export const ROWS = 1024;
export const TRAIN_ROWS = 512;
const K = 4;
const D = 2;

export interface NotebookOptions {
  seed: number;
  epochs: number;
  /** Called before training with the model summary. */
  onSummary?: (summary: string, params: { total: number; trainable: number; nonTrainable: number }) => void;
  onEpochEnd?: (epoch: number, logs: Logs) => void;
}

/** One predicted label's averages over the test rows assigned to it (notebook cell 11). */
export interface LabelAverage {
  label: number;
  rows: number;
  /** Mean over those rows of mu[row, label, :]. */
  mean: [number, number];
  /** Mean over those rows of sigma[row, label]. */
  sigma: number;
  /** The true cluster most of those rows come from, and its centre. */
  majorityCluster: number;
  trueMean: [number, number];
}

export interface NotebookResult {
  seed: number;
  data: ReturnType<typeof seedClusters>;
  params: { total: number; trainable: number; nonTrainable: number };
  history: History;
  sigmaFloor: number;
  /** True clusters and argmax(pi) of the 512 test rows. */
  zTest: number[];
  zPred: number[];
  ari: number;
  nmi: number;
  labels: LabelAverage[];
}

export async function runNotebook(o: NotebookOptions): Promise<NotebookResult> {
  const data = seedClusters(ROWS, o.seed);
  const model = await MDN.create({
    inputDim: D, outputDim: D, components: K,
    hidden: [
      { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
      { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
    ],
    sigma: { activation: "exp" },
    seed: o.seed,
  });
  try {
    const params = model.countParams();
    o.onSummary?.(model.summary(), params);
    const history = await model.fit(
      { data: data.x.subarray(0, TRAIN_ROWS * D), shape: [TRAIN_ROWS, D] },
      { data: data.y.subarray(0, TRAIN_ROWS * D), shape: [TRAIN_ROWS, D] },
      {
        epochs: o.epochs, batchSize: 128, shuffle: true, validationSplit: 0.2,
        optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
        // Keras 2 EarlyStopping has no restore_best_weights: the notebook keeps the last epoch.
        earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32, restoreBestWeights: false },
        onEpochEnd: o.onEpochEnd,
      },
    );
    const testRows = ROWS - TRAIN_ROWS;
    const p = model.predict({ data: data.x.subarray(TRAIN_ROWS * D), shape: [testRows, D] });
    const zPred = argmaxRows(p.pi, testRows, K);
    const zTest = Array.from(data.z.subarray(TRAIN_ROWS));
    return {
      seed: o.seed,
      data,
      params,
      history,
      sigmaFloor: model.config.sigma.floor,
      zTest,
      zPred,
      ari: adjustedRandScore(zTest, zPred),
      nmi: normalizedMutualInfoScore(zTest, zPred),
      labels: labelAverages(p.mu, p.sigma, zPred, zTest, data.mu),
    };
  } finally {
    model.dispose();
  }
}

function argmaxRows(pi: Float32Array, rows: number, k: number): number[] {
  const z = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (pi[r * k + j]! > pi[r * k + best]!) best = j;
    z[r] = best;
  }
  return z;
}

/** Notebook cell 11, for each label in np.unique(z_pred); plus the majority true cluster to line them up. */
function labelAverages(mu: Float32Array, sigma: Float32Array, zPred: number[], zTest: number[], centres: number[][]): LabelAverage[] {
  const out: LabelAverage[] = [];
  for (let label = 0; label < K; label++) {
    let rows = 0;
    let mx = 0;
    let my = 0;
    let s = 0;
    const votes = new Array<number>(K).fill(0);
    zPred.forEach((z, r) => {
      if (z !== label) return;
      rows++;
      mx += mu[(r * K + label) * D]!;
      my += mu[(r * K + label) * D + 1]!;
      s += sigma[r * K + label]!;
      votes[zTest[r]!]!++;
    });
    if (rows === 0) continue;
    const majorityCluster = votes.indexOf(Math.max(...votes));
    const c = centres[majorityCluster]!;
    out.push({ label, rows, mean: [mx / rows, my / rows], sigma: s / rows, majorityCluster, trueMean: [c[0]!, c[1]!] });
  }
  return out;
}
