// Clustering scores with scikit-learn's semantics: adjusted Rand index and normalised mutual
// information (arithmetic-mean normalisation, sklearn's default since 0.22). Labels are any
// integers (or strings); only equality matters.

import { describe, MdnError } from "../core/errors.js";

type Labels = ArrayLike<number | string>;

/** Contingency table of two labelings: rows true classes, columns predicted clusters. */
function contingency(trueLabels: Labels, predLabels: Labels): { table: number[][]; rows: number[]; cols: number[]; n: number } {
  if (!isLabels(trueLabels)) throw new MdnError("INVALID_ARGUMENT", "labelsTrue", "an array of labels", describe(trueLabels));
  if (!isLabels(predLabels)) throw new MdnError("INVALID_ARGUMENT", "labelsPred", "an array of labels", describe(predLabels));
  const n = trueLabels.length;
  if (predLabels.length !== n) {
    throw new MdnError("ROW_COUNT_MISMATCH", "labelsPred", `${n} labels like labelsTrue`, `${predLabels.length} labels`);
  }
  const ri = new Map<number | string, number>();
  const ci = new Map<number | string, number>();
  const table: number[][] = [];
  for (let i = 0; i < n; i++) {
    const t = trueLabels[i]!;
    const p = predLabels[i]!;
    let r = ri.get(t);
    if (r === undefined) {
      r = ri.size;
      ri.set(t, r);
      table.push([]);
    }
    let c = ci.get(p);
    if (c === undefined) {
      c = ci.size;
      ci.set(p, c);
    }
    const row = table[r]!;
    row[c] = (row[c] ?? 0) + 1;
  }
  const rows = table.map((row) => row.reduce((a, b) => a + (b ?? 0), 0));
  const cols = new Array<number>(ci.size).fill(0);
  for (const row of table) row.forEach((v, c) => (cols[c]! += v ?? 0));
  return { table, rows, cols, n };
}

function isLabels(v: unknown): v is Labels {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/**
 * Adjusted Rand index, as sklearn.metrics.adjusted_rand_score: from the pair confusion matrix,
 * 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)), and 1 when there are no
 * disagreeing pairs (identical partitions, including one cluster or all singletons).
 */
export function adjustedRandScore(labelsTrue: Labels, labelsPred: Labels): number {
  const { table, rows, cols, n } = contingency(labelsTrue, labelsPred);
  let sumSquares = 0;
  let byCol = 0; // sum_ij n_ij * colsum_j
  let byRow = 0; // sum_ij n_ij * rowsum_i
  table.forEach((row, r) =>
    row.forEach((v, c) => {
      if (!v) return;
      sumSquares += v * v;
      byCol += v * cols[c]!;
      byRow += v * rows[r]!;
    }),
  );
  const tp = sumSquares - n;
  const fp = byCol - sumSquares;
  const fn = byRow - sumSquares;
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

function entropy(counts: number[], n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/**
 * Normalised mutual information, as sklearn.metrics.normalized_mutual_info_score with
 * average_method="arithmetic": MI / ((H(true) + H(pred)) / 2), natural logarithms; 1 when both
 * labelings have a single class, 0 when MI is 0.
 */
export function normalizedMutualInfoScore(labelsTrue: Labels, labelsPred: Labels): number {
  const { table, rows, cols, n } = contingency(labelsTrue, labelsPred);
  if (rows.length === cols.length && (rows.length === 1 || rows.length === 0)) return 1;
  let mi = 0;
  table.forEach((row, r) =>
    row.forEach((v, c) => {
      if (!v) return;
      mi += (v / n) * (Math.log(v) + Math.log(n) - Math.log(rows[r]!) - Math.log(cols[c]!));
    }),
  );
  mi = Math.max(mi, 0);
  if (mi === 0) return 0;
  const norm = (entropy(rows, n) + entropy(cols, n)) / 2;
  return mi / norm;
}
