// Float64 reference for assembly/mixture.ts, written for clarity: the driver as mixtureOver, one
// row and one component at a time, over a component's term; the isotropic term here (the
// diagonal and full ones in mixture_diag.ts and mixture_full.ts).
//
// a (N, P) with P = K + K*D + K*Sk: each row [logits (K) | mu (K, D) | s (K, Sk)]; y (N, D).
// sigma = min(max(act(s), floor), SIGMA_CEILING) with act = exp or softplus;
// log N_k at least LOG_DENSITY_MIN in reported densities (not in the training step's gradient);
// nll = -logsumexp_k(log pi_k + log N_k); gamma = softmax_k(log pi_k + log N_k).
// Gradients: Bishop, PRML eqs. 5.155-5.157, chained through log sigma(s).
// No subnormals, as the kernels (assembly/lanes.ts): each softmax takes e^(t_k - max t) below
// 2^-70 as 0, so pi and gamma are 0 or at least 2^-80.
// Isotropic: log N_k = -D log sigma_k - (D/2) log(2 pi) - |y - mu_k|^2 / (2 sigma_k^2).

import { LOG_DENSITY_MIN, SIGMA_CEILING } from "../../src/engine/head.js";
import { SIGMA_EXP } from "../../src/engine/kernels.js";
import { sigmoid, softplus } from "./simdmath.js";

export interface MixtureDims {
  N: number;
  K: number;
  D: number;
  floor: number;
  sigmaAct: number;
}

export function headWidth(K: number, D: number): number {
  return K + K * D + K;
}

/** sigma after activation, floor and ceiling; log sigma; d log sigma / d s (0 where a bound is active). */
export function sigmaOf(s: number, floor: number, sigmaAct: number): { sigma: number; logSigma: number; dLogSigma: number } {
  const act = sigmaAct === SIGMA_EXP ? Math.exp(s) : softplus(s);
  if (act < floor) return { sigma: floor, logSigma: Math.log(floor), dLogSigma: 0 };
  if (act > SIGMA_CEILING) return { sigma: SIGMA_CEILING, logSigma: Math.log(SIGMA_CEILING), dLogSigma: 0 };
  const dLogSigma = sigmaAct === SIGMA_EXP ? 1 : sigmoid(s) / act;
  return { sigma: act, logSigma: Math.log(act), dLogSigma };
}

/** The softmaxes' cut: e^x below 2^-70 is 0 (assembly/lanes.ts SOFTMAX_CUT). */
export const SOFTMAX_CUT = Math.log(2 ** -70);

/** e^x for x = t - max t of a softmax: 0 below the cut. */
export function softmaxExp(x: number): number {
  return x < SOFTMAX_CUT ? 0 : Math.exp(x);
}

export function logSumExp(v: number[]): number {
  const m = Math.max(...v);
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** One component's log density log N(y; mu_k, .) and its gradient in mu_k and the sigma block s_k. */
export interface ComponentTerm {
  logN: number;
  dmu: number[]; // d logN / d mu_k (D)
  ds: number[]; // d logN / d s_k (S / K)
}

/**
 * Any Gaussian head over rows a = [logits (K) | mu (K, D) | s (K, Sk)]: nll, gamma and the
 * gradient scale * d sum nll / d a, given one component's term. d nll / d logit = pi - gamma and
 * d nll / d theta_k = -gamma_k d log N_k / d theta_k (the mixture chain rule, Bishop 5.6).
 * bounded: log N_k at least LOG_DENSITY_MIN, as the kernels report densities (the training step,
 * whose gradient this is with scale, leaves it unbounded).
 */
export function mixtureOver(
  a: ArrayLike<number>,
  y: ArrayLike<number>,
  dims: MixtureDims,
  Sk: number,
  term: (s: number[], mu: number[], y: number[]) => ComponentTerm,
  scale = 1,
  bounded = true,
): { nll: Float64Array; gamma: Float64Array; sum: number; da: Float64Array } {
  const { N, K, D } = dims;
  const P = K + K * D + K * Sk;
  const nll = new Float64Array(N);
  const gamma = new Float64Array(N * K);
  const da = new Float64Array(N * P);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const base = n * P;
    const logits = Array.from({ length: K }, (_, k) => a[base + k]!);
    const lsePi = logSumExp(logits);
    const yn = Array.from({ length: D }, (_, d) => y[n * D + d]!);
    const terms = logits.map((_, k) => {
      const mu = Array.from({ length: D }, (_, d) => a[base + K + k * D + d]!);
      const s = Array.from({ length: Sk }, (_, j) => a[base + K + K * D + k * Sk + j]!);
      const t = term(s, mu, yn);
      // Below the bound (or NaN) log N_k is the bound.
      return !bounded || t.logN > LOG_DENSITY_MIN ? t : { ...t, logN: LOG_DENSITY_MIN };
    });
    const joint = terms.map((t, k) => logits[k]! - lsePi + t.logN);
    // gamma = e^(l_k - M) / S rather than e^(l_k - logsumexp): at |M| ~ 1e37, M + log S rounds to M.
    const M = Math.max(...joint);
    const e = joint.map((l) => softmaxExp(l - M));
    const S = e.reduce((t, v) => t + v, 0);
    const lse = M + Math.log(S);
    nll[n] = -lse;
    sum += -lse;
    const mPi = Math.max(...logits);
    for (let k = 0; k < K; k++) {
      const g = e[k]! / S;
      gamma[n * K + k] = g;
      const pi = softmaxExp(logits[k]! - mPi) === 0 ? 0 : Math.exp(logits[k]! - lsePi);
      da[base + k] = scale * (pi - g);
      terms[k]!.dmu.forEach((v, d) => (da[base + K + k * D + d] = -scale * g * v));
      terms[k]!.ds.forEach((v, j) => (da[base + K + K * D + k * Sk + j] = -scale * g * v));
    }
  }
  return { nll, gamma, sum, da };
}

/** pi (N, K) = softmax(logits) and mu (N, K, D) of any head whose sigma block has Sk floats. */
export function mixturePiMu(a: ArrayLike<number>, dims: MixtureDims, Sk: number): { pi: Float64Array; mu: Float64Array } {
  const { N, K, D } = dims;
  const P = K + K * D + K * Sk;
  const pi = new Float64Array(N * K);
  const mu = new Float64Array(N * K * D);
  for (let n = 0; n < N; n++) {
    const logits = Array.from({ length: K }, (_, k) => a[n * P + k]!);
    const lse = logSumExp(logits);
    const m = Math.max(...logits);
    for (let k = 0; k < K; k++) pi[n * K + k] = softmaxExp(logits[k]! - m) === 0 ? 0 : Math.exp(logits[k]! - lse);
    for (let j = 0; j < K * D; j++) mu[n * K * D + j] = a[n * P + K + j]!;
  }
  return { pi, mu };
}

// ---------------------------------------------------------------------------------------------
// Isotropic

/** log N_k and its gradients: d/d mu_k = (y - mu_k) / sigma^2, d/d s_k = (z - D) d log sigma / d s. */
function isoTerm(dims: MixtureDims) {
  return (s: number[], mu: number[], y: number[]): ComponentTerm => {
    const D = y.length;
    const sg = sigmaOf(s[0]!, dims.floor, dims.sigmaAct);
    const r = y.map((yd, d) => yd - mu[d]!);
    const z = r.reduce((t, v) => t + v * v, 0) / (sg.sigma * sg.sigma);
    const logN = -D * sg.logSigma - (D / 2) * Math.log(2 * Math.PI) - z / 2;
    return { logN, dmu: r.map((v) => v / (sg.sigma * sg.sigma)), ds: [(z - D) * sg.dLogSigma] };
  };
}

/** nll (N), gamma (N, K) and the sum of nll. */
export function mixtureForward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims) {
  return mixtureOver(a, y, dims, 1, isoTerm(dims));
}

/** scale * sum_n nll_n: the function whose gradient the fused kernel accumulates. */
export function mixtureLoss(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): number {
  return scale * mixtureForward(a, y, dims).sum;
}

/** scale * d (sum_n nll_n) / d a, (N, P), by Bishop's closed form. */
export function mixtureBackward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): Float64Array {
  return mixtureOver(a, y, dims, 1, isoTerm(dims), scale, false).da;
}

/** sigma (N, K) after activation and floor. */
export function mixtureSigma(a: ArrayLike<number>, dims: MixtureDims): Float64Array {
  const { N, K, D } = dims;
  const P = headWidth(K, D);
  const out = new Float64Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * K + k] = sigmaOf(a[n * P + K + K * D + k]!, dims.floor, dims.sigmaAct).sigma;
  return out;
}
