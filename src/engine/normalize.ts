// Optional standardisation of inputs and targets (`normalize: true`), learned from the training
// rows at the first fit and stored in the model file. The network sees x' = (x - mean_x) / std_x and
// y' = (y - mean_y) / std_y; everything handed back is in original units:
//   mu = mu' * std_y + mean_y,  sigma = sigma' * std_y,
//   log p(y | x) = log p'(y' | x') - sum_d log std_y_d   (the Jacobian of y -> y').
// An isotropic mixture stays isotropic in original units only if every target dimension is scaled
// alike, so for covariance "isotropic" std_y is one shared scale, sqrt(mean_d var_d), repeated D times;
// diagonal and full covariances take a scale per dimension.
// Statistics are float64 sums rounded to float32 once, so a saved and reloaded model applies exactly
// the same numbers.

import type { Checked } from "../core/data.js";
import { MdnError } from "../core/errors.js";
import { type Covariance, headOf } from "./head.js";

export interface Normalization {
  xMean: Float32Array; // (I)
  xStd: Float32Array; // (I)
  yMean: Float32Array; // (D)
  yStd: Float32Array; // (D)
}

/** Per-column mean and population standard deviation (a constant column gets std 1, as scikit-learn). */
function columnStats(m: Checked): { mean: Float64Array; variance: Float64Array } {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  const variance = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c]! += data[r * cols + c]!;
  for (let c = 0; c < cols; c++) mean[c]! /= rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const t = data[r * cols + c]! - mean[c]!;
      variance[c]! += t * t;
    }
  }
  for (let c = 0; c < cols; c++) variance[c]! /= rows;
  return { mean, variance };
}

/**
 * A usable scale: positive, and finite when inverted in float32, the arena's type (a std of 1e-40
 * would turn every input more than 0.03 from the mean into Infinity).
 */
function usableScale(s: number): boolean {
  return s > 0 && Number.isFinite(s) && Number.isFinite(Math.fround(1 / s));
}

/** The scale of a column with this variance: its standard deviation when usable, else 1. */
function scale(variance: number): number {
  const s = Math.fround(Math.sqrt(variance));
  return usableScale(s) ? s : 1;
}

export function learnNormalization(x: Checked, y: Checked, sharedYScale: boolean): Normalization {
  const xs = columnStats(x);
  const ys = columnStats(y);
  const xStd = Float32Array.from(xs.variance, scale);
  let yStd = Float32Array.from(ys.variance, scale);
  if (sharedYScale) {
    let v = 0;
    for (const c of ys.variance) v += c;
    yStd = new Float32Array(y.cols).fill(scale(v / y.cols));
  }
  return { xMean: Float32Array.from(xs.mean), xStd, yMean: Float32Array.from(ys.mean), yStd };
}

/** Why a stored normalisation cannot be used, or null when it can. */
export function normalizationProblem(n: Normalization, sharedYScale: boolean): string | null {
  for (const [name, std] of [["x_std", n.xStd], ["y_std", n.yStd]] as const) {
    for (let i = 0; i < std.length; i++) {
      if (!usableScale(std[i]!)) return `${name}[${i}] is ${std[i]}, not a positive scale with a float32 reciprocal`;
    }
  }
  if (sharedYScale && n.yStd.some((v) => v !== n.yStd[0])) return "y_std differs between dimensions of an isotropic model";
  return null;
}

/** (m - mean) / std row by row, as a new float32 matrix (computed in float64, rounded once). */
export function standardize(m: Checked, mean: Float32Array, std: Float32Array): Checked {
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = (data[r * cols + c]! - mean[c]!) / std[c]!;
  }
  return { data: out, rows, cols };
}

/**
 * A head's means (N, K, D) and sigma blocks back to original units, in place: mu = mu' std + mean,
 * and each block as its covariance type's Head says (src/engine/head.ts unscale). Throws MdnError
 * NON_FINITE naming the row of x whose mixture overflows float32 in original units.
 */
export function unscaleHead(n: Normalization, h: { N: number; mu: Float32Array; scale: Float32Array }, covariance: Covariance, D: number, firstRow = 0): void {
  const { mu, scale } = h;
  for (let i = 0; i < mu.length; i++) {
    const d = i % D;
    mu[i] = mu[i]! * n.yStd[d]! + n.yMean[d]!;
  }
  headOf(covariance).unscale(scale, n.yStd, D);
  for (const v of [mu, scale]) {
    const bad = firstNonFinite(v);
    if (bad >= 0) {
      const row = Math.floor(bad / (v.length / h.N));
      throw new MdnError("NON_FINITE", `x[${firstRow + row}]`, "an input row whose mixture is finite in float32 in the targets' units", "a row whose means or spreads overflow once scaled back by y's standard deviations");
    }
  }
}

/** Index of the first value that is NaN or infinite, or -1. */
function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (v[i]! - v[i]! !== 0) return i;
  return -1;
}

/** log |d y' / d y| = -sum_d log std_y_d: add its negative to an NLL to state it in original units. */
export function logScale(n: Normalization): number {
  let s = 0;
  for (const v of n.yStd) s += Math.log(v);
  return s;
}
