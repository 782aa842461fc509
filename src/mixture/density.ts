// The conditional density p(y | x) of a trained MDN as a mathematical object: log densities,
// moments, modes and calibration, batched over rows. The engine gives the head's parameters and
// the per-row NLL and responsibilities (engine/infer.ts); this file is float64 host math on those
// parameters (small: K components of dimension D per row).
//
// Every covariance type is held as a packed lower-triangular Cholesky factor L per component
// (isotropic: sigma I, diagonal: diag(sigma), full: the learned L), so one code path serves all:
// Sigma_k = L_k L_k^T, log N(y; mu_k, Sigma_k) = -sum_i log L_ii - (D/2) log 2 pi - |L^-1 (y - mu)|^2 / 2.

import type { ResolvedConfig } from "../core/config.js";
import { headOf, triIndex } from "../engine/head.js";
import type { HeadParams } from "../engine/infer.js";

export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** A Gaussian mixture per row, float64: pi (N, K), mu (N, K, D), L (N, K, T) packed, T = D(D+1)/2. */
export interface Mixture {
  N: number;
  K: number;
  D: number;
  pi: Float64Array;
  mu: Float64Array;
  L: Float64Array;
}

/** Every covariance type as packed Cholesky factors. */
export function toMixture(h: HeadParams, cfg: ResolvedConfig): Mixture {
  const { components: K, outputDim: D } = cfg;
  const T = (D * (D + 1)) / 2;
  const L = new Float64Array(h.N * K * T);
  const head = headOf(cfg.covariance);
  for (let nk = 0; nk < h.N * K; nk++) head.factor(h.scale, nk, D, L, nk * T);
  return { N: h.N, K, D, pi: Float64Array.from(h.pi), mu: Float64Array.from(h.mu), L };
}

/** Packed L (T) of row n, component k, as a subarray. */
function factor(m: Mixture, n: number, k: number): Float64Array {
  const T = (m.D * (m.D + 1)) / 2;
  const o = (n * m.K + k) * T;
  return m.L.subarray(o, o + T);
}

/** Sigma = L L^T (D, D) row-major, from a packed L. */
export function covarianceOf(L: ArrayLike<number>, D: number): Float64Array {
  const S = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t <= j; t++) s += L[triIndex(i, t)]! * L[triIndex(j, t)]!;
      S[i * D + j] = s;
      S[j * D + i] = s;
    }
  }
  return S;
}

/** log pi_k + log N(y; mu_k, L_k L_k^T) for every k of row n: the log joints. */
export function logJoints(m: Mixture, n: number, y: ArrayLike<number>): Float64Array {
  const { K, D } = m;
  const out = new Float64Array(K);
  const u = new Float64Array(D + 1);
  for (let k = 0; k < K; k++) {
    const z = whiten(m, n, k, y, u);
    out[k] = Math.log(m.pi[n * K + k]!) - u[D]! - D * HALF_LOG_2PI - z / 2;
  }
  return out;
}

/**
 * Component k of row n at y: returns z = |L^-1 (y - mu_k)|^2 and leaves L^-1 (y - mu_k) in
 * u[0, D) and log det L_k in u[D] (u has D + 1 entries).
 */
export function whiten(m: Mixture, n: number, k: number, y: ArrayLike<number>, u: Float64Array): number {
  const { K, D } = m;
  const L = factor(m, n, k);
  const mu = m.mu.subarray((n * K + k) * D, (n * K + k + 1) * D);
  let z = 0;
  let logDet = 0;
  for (let i = 0; i < D; i++) {
    let acc = y[i]! - mu[i]!;
    for (let j = 0; j < i; j++) acc -= L[triIndex(i, j)]! * u[j]!;
    const Lii = L[triIndex(i, i)]!;
    u[i] = acc / Lii;
    z += u[i]! * u[i]!;
    logDet += Math.log(Lii);
  }
  u[D] = logDet;
  return z;
}

export function logSumExp(v: ArrayLike<number>): number {
  let mx = -Infinity;
  for (let i = 0; i < v.length; i++) mx = Math.max(mx, v[i]!);
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]! - mx);
  return mx + Math.log(s);
}

/** log p(y | row n) in float64. */
export function logDensity(m: Mixture, n: number, y: ArrayLike<number>): number {
  return logSumExp(logJoints(m, n, y));
}

/** Mixture means E[y | x] (N, D) = sum_k pi_k mu_k. */
export function mixtureMean(m: Mixture): Float64Array {
  const { N, K, D } = m;
  const out = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const p = m.pi[n * K + k]!;
      for (let d = 0; d < D; d++) out[n * D + d] = out[n * D + d]! + p * m.mu[(n * K + k) * D + d]!;
    }
  }
  return out;
}

/**
 * Mixture covariances Cov[y | x] (N, D, D) by the law of total variance:
 * sum_k pi_k Sigma_k (expected within-component variance) + sum_k pi_k (mu_k - m)(mu_k - m)^T
 * (variance of the component means), with m the mixture mean.
 */
export function mixtureCovariance(m: Mixture): Float64Array {
  const { N, K, D } = m;
  const mean = mixtureMean(m);
  const out = new Float64Array(N * D * D);
  for (let n = 0; n < N; n++) {
    const C = out.subarray(n * D * D, (n + 1) * D * D);
    for (let k = 0; k < K; k++) {
      const p = m.pi[n * K + k]!;
      const S = covarianceOf(factor(m, n, k), D);
      const mu = m.mu.subarray((n * K + k) * D, (n * K + k + 1) * D);
      for (let i = 0; i < D; i++) {
        const di = mu[i]! - mean[n * D + i]!;
        for (let j = 0; j < D; j++) C[i * D + j] = C[i * D + j]! + p * (S[i * D + j]! + di * (mu[j]! - mean[n * D + j]!));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Modes

export interface ModeOptions {
  /** Stop a fixed-point run when a step is shorter than tol * scale; default 1e-9. */
  tol?: number;
  /** Merge modes closer than mergeTol * scale; default 1e-3. */
  mergeTol?: number;
  /** Cap on fixed-point iterations per start; default 1000. */
  maxIter?: number;
}

/** The local modes of one row's density, highest first. */
export interface RowModes {
  /** (M, D) row-major. */
  points: Float64Array;
  /** p(mode | x) for each of the M modes. */
  density: Float64Array;
  shape: [number, number];
}

/** Solve A x = b for symmetric positive definite A (D, D) by Cholesky; A and b are not kept. */
function solveSpd(A: Float64Array, b: Float64Array, D: number): Float64Array {
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * D + j]!;
      for (let t = 0; t < j; t++) s -= L[i * D + t]! * L[j * D + t]!;
      L[i * D + j] = i === j ? Math.sqrt(s) : s / L[j * D + j]!;
    }
  }
  const u = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let s = b[i]!;
    for (let t = 0; t < i; t++) s -= L[i * D + t]! * u[t]!;
    u[i] = s / L[i * D + i]!;
  }
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let s = u[i]!;
    for (let t = i + 1; t < D; t++) s -= L[t * D + i]! * x[t]!;
    x[i] = s / L[i * D + i]!;
  }
  return x;
}

/** Precision Sigma^-1 = L^-T L^-1 (D, D) from a packed L. */
function precisionOf(L: ArrayLike<number>, D: number): Float64Array {
  // Columns of L^-1 by forward substitution, then P = (L^-1)^T L^-1.
  const Linv = new Float64Array(D * D);
  for (let c = 0; c < D; c++) {
    for (let i = c; i < D; i++) {
      let s = i === c ? 1 : 0;
      for (let j = c; j < i; j++) s -= L[triIndex(i, j)]! * Linv[j * D + c]!;
      Linv[i * D + c] = s / L[triIndex(i, i)]!;
    }
  }
  const P = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let t = 0; t < D; t++) s += Linv[t * D + i]! * Linv[t * D + j]!;
      P[i * D + j] = s;
    }
  }
  return P;
}

/**
 * Every local mode of row n's mixture by the Gaussian-mixture mean-shift fixed point
 * (Carreira-Perpinan, "Mode-finding for mixtures of Gaussian distributions", IEEE TPAMI 2000):
 * at a stationary point of p, sum_k w_k(y) P_k (y - mu_k) = 0 with w_k the responsibilities and
 * P_k = Sigma_k^-1, so iterate y <- (sum_k w_k P_k)^-1 sum_k w_k P_k mu_k from every component
 * mean; each step increases p, and the runs end at the modes. Runs that end within mergeTol of
 * each other are one mode. `scale` is the smallest component standard deviation of the row.
 */
export function rowModes(m: Mixture, n: number, o: ModeOptions = {}): RowModes {
  const { K, D } = m;
  const tol = o.tol ?? 1e-9;
  const mergeTol = o.mergeTol ?? 1e-3;
  const maxIter = o.maxIter ?? 1000;
  const live = [...Array(K).keys()].filter((k) => m.pi[n * K + k]! > 0);
  const P = live.map((k) => precisionOf(factor(m, n, k), D));
  const Pmu = live.map((k, i) => {
    const mu = m.mu.subarray((n * K + k) * D, (n * K + k + 1) * D);
    const out = new Float64Array(D);
    for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) out[r] = out[r]! + P[i]![r * D + c]! * mu[c]!;
    return out;
  });
  let scale = Infinity;
  for (const k of live) {
    const S = covarianceOf(factor(m, n, k), D);
    for (let d = 0; d < D; d++) scale = Math.min(scale, Math.sqrt(S[d * D + d]!));
  }
  const found: Float64Array[] = [];
  for (const start of live) {
    let y: Float64Array = Float64Array.from(m.mu.subarray((n * K + start) * D, (n * K + start + 1) * D));
    for (let it = 0; it < maxIter; it++) {
      const lj = logJoints(m, n, y);
      const lse = logSumExp(lj);
      const A = new Float64Array(D * D);
      const b = new Float64Array(D);
      live.forEach((k, i) => {
        const w = Math.exp(lj[k]! - lse);
        for (let r = 0; r < D * D; r++) A[r] = A[r]! + w * P[i]![r]!;
        for (let r = 0; r < D; r++) b[r] = b[r]! + w * Pmu[i]![r]!;
      });
      const next = solveSpd(A, b, D);
      let step = 0;
      for (let d = 0; d < D; d++) step = Math.max(step, Math.abs(next[d]! - y[d]!));
      y = next;
      if (step < tol * scale) break;
    }
    const dup = found.some((f) => f.every((v, d) => Math.abs(v - y[d]!) < mergeTol * scale));
    if (!dup) found.push(y);
  }
  const dens = found.map((y) => Math.exp(logDensity(m, n, y)));
  const order = [...found.keys()].sort((a, b) => dens[b]! - dens[a]!);
  const points = new Float64Array(found.length * D);
  order.forEach((i, r) => points.set(found[i]!, r * D));
  return { points, density: Float64Array.from(order.map((i) => dens[i]!)), shape: [found.length, D] };
}

// ---------------------------------------------------------------------------------------------
// Calibration (1-D targets)

export interface Calibration {
  /** Probability integral transform F(y_n | x_n) per row (N); uniform on [0, 1] when calibrated. */
  pit: Float64Array;
  /** For each level c, the fraction of rows whose y lies in the central c interval of p(y | x). */
  coverage: Array<{ level: number; observed: number }>;
}

/** erfc(x) to ~1.2e-7 relative everywhere (Numerical Recipes in C, 2nd ed., erfcc, Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
      t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * PIT values and central-interval coverage for 1-D targets. y lies in the central c interval
 * [F^-1((1 - c) / 2), F^-1((1 + c) / 2)] exactly when its PIT lies in [(1 - c) / 2, (1 + c) / 2],
 * so no quantile needs inverting.
 */
export function calibrationOf(m: Mixture, y: ArrayLike<number>, levels: readonly number[]): Calibration {
  const { N, K } = m;
  const pit = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let F = 0;
    for (let k = 0; k < K; k++) F += m.pi[n * K + k]! * normalCdf((y[n]! - m.mu[n * K + k]!) / m.L[n * K + k]!);
    pit[n] = Math.min(1, Math.max(0, F));
  }
  const coverage = levels.map((level) => {
    const lo = (1 - level) / 2;
    const hi = (1 + level) / 2;
    let inside = 0;
    for (const p of pit) if (p >= lo && p <= hi) inside++;
    return { level, observed: inside / N };
  });
  return { pit, coverage };
}
