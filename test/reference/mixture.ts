// Float64 reference for assembly/mixture.ts, written for clarity: one row, one component at a time.
//
// a (N, P) with P = K + K*D + K: each row [logits (K) | mu (K, D) | s (K)]; y (N, D).
// sigma = max(act(s), floor) with act = exp or softplus;
// log N_k = -D log sigma_k - (D/2) log(2 pi) - |y - mu_k|^2 / (2 sigma_k^2);
// nll = -logsumexp_k(log pi_k + log N_k); gamma = softmax_k(log pi_k + log N_k).
// Gradients: Bishop, PRML eqs. 5.155-5.157, chained through log sigma(s).

import { SIGMA_EXP } from "../../src/kernels.js";
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

/** sigma after activation and floor; log sigma; d log sigma / d s (0 where the floor is active). */
export function sigmaOf(s: number, floor: number, sigmaAct: number): { sigma: number; logSigma: number; dLogSigma: number } {
  const act = sigmaAct === SIGMA_EXP ? Math.exp(s) : softplus(s);
  if (act < floor) return { sigma: floor, logSigma: Math.log(floor), dLogSigma: 0 };
  const dLogSigma = sigmaAct === SIGMA_EXP ? 1 : sigmoid(s) / act;
  return { sigma: act, logSigma: Math.log(act), dLogSigma };
}

export function logSumExp(v: number[]): number {
  const m = Math.max(...v);
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

interface Row {
  pi: number[];
  sigma: number[];
  dLogSigma: number[];
  z: number[]; // |y - mu_k|^2 / sigma_k^2
  logJoint: number[]; // log pi_k + log N_k
}

function row(a: ArrayLike<number>, y: ArrayLike<number>, n: number, dims: MixtureDims): Row {
  const { K, D, floor, sigmaAct } = dims;
  const P = headWidth(K, D);
  const base = n * P;
  const logits: number[] = [];
  for (let k = 0; k < K; k++) logits.push(a[base + k]!);
  const lse = logSumExp(logits);
  const out: Row = { pi: [], sigma: [], dLogSigma: [], z: [], logJoint: [] };
  for (let k = 0; k < K; k++) {
    const logPi = logits[k]! - lse;
    const sg = sigmaOf(a[base + K + K * D + k]!, floor, sigmaAct);
    let dist2 = 0;
    for (let d = 0; d < D; d++) {
      const diff = y[n * D + d]! - a[base + K + k * D + d]!;
      dist2 += diff * diff;
    }
    const z = dist2 / (sg.sigma * sg.sigma);
    const logN = -D * sg.logSigma - (D / 2) * Math.log(2 * Math.PI) - z / 2;
    out.pi.push(Math.exp(logPi));
    out.sigma.push(sg.sigma);
    out.dLogSigma.push(sg.dLogSigma);
    out.z.push(z);
    out.logJoint.push(logPi + logN);
  }
  return out;
}

/** nll (N), gamma (N, K) and the sum of nll. */
export function mixtureForward(
  a: ArrayLike<number>,
  y: ArrayLike<number>,
  dims: MixtureDims,
): { nll: Float64Array; gamma: Float64Array; sum: number } {
  const { N, K } = dims;
  const nll = new Float64Array(N);
  const gamma = new Float64Array(N * K);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const r = row(a, y, n, dims);
    const lse = logSumExp(r.logJoint);
    nll[n] = -lse;
    sum += -lse;
    for (let k = 0; k < K; k++) gamma[n * K + k] = Math.exp(r.logJoint[k]! - lse);
  }
  return { nll, gamma, sum };
}

/** scale * sum_n nll_n: the function whose gradient mixture_backward accumulates. */
export function mixtureLoss(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): number {
  return scale * mixtureForward(a, y, dims).sum;
}

/** scale * d (sum_n nll_n) / d a, (N, P), by Bishop's closed form. */
export function mixtureBackward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): Float64Array {
  const { N, K, D } = dims;
  const P = headWidth(K, D);
  const da = new Float64Array(N * P);
  for (let n = 0; n < N; n++) {
    const r = row(a, y, n, dims);
    const lse = logSumExp(r.logJoint);
    for (let k = 0; k < K; k++) {
      const gamma = Math.exp(r.logJoint[k]! - lse);
      const sigma = r.sigma[k]!;
      da[n * P + k] = scale * (r.pi[k]! - gamma); // 5.155
      for (let d = 0; d < D; d++) {
        const mu = a[n * P + K + k * D + d]!;
        da[n * P + K + k * D + d] = (scale * gamma * (mu - y[n * D + d]!)) / (sigma * sigma); // 5.156
      }
      da[n * P + K + K * D + k] = scale * gamma * (D - r.z[k]!) * r.dLogSigma[k]!; // 5.157, chained
    }
  }
  return da;
}

/** pi (N, K), mu (N, K, D), sigma (N, K). */
export function mixtureParams(
  a: ArrayLike<number>,
  dims: MixtureDims,
): { pi: Float64Array; mu: Float64Array; sigma: Float64Array } {
  const { N, K, D, floor, sigmaAct } = dims;
  const P = headWidth(K, D);
  const pi = new Float64Array(N * K);
  const mu = new Float64Array(N * K * D);
  const sigma = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    const logits: number[] = [];
    for (let k = 0; k < K; k++) logits.push(a[n * P + k]!);
    const lse = logSumExp(logits);
    for (let k = 0; k < K; k++) {
      pi[n * K + k] = Math.exp(logits[k]! - lse);
      sigma[n * K + k] = sigmaOf(a[n * P + K + K * D + k]!, floor, sigmaAct).sigma;
    }
    for (let j = 0; j < K * D; j++) mu[n * K * D + j] = a[n * P + K + j]!;
  }
  return { pi, mu, sigma };
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
 */
export function mixtureOver(
  a: ArrayLike<number>,
  y: ArrayLike<number>,
  dims: MixtureDims,
  Sk: number,
  term: (s: number[], mu: number[], y: number[]) => ComponentTerm,
  scale = 1,
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
      return term(s, mu, yn);
    });
    const joint = terms.map((t, k) => logits[k]! - lsePi + t.logN);
    const lse = logSumExp(joint);
    nll[n] = -lse;
    sum += -lse;
    for (let k = 0; k < K; k++) {
      const g = Math.exp(joint[k]! - lse);
      gamma[n * K + k] = g;
      da[base + k] = scale * (Math.exp(logits[k]! - lsePi) - g);
      terms[k]!.dmu.forEach((v, d) => (da[base + K + k * D + d] = -scale * g * v));
      terms[k]!.ds.forEach((v, j) => (da[base + K + K * D + k * Sk + j] = -scale * g * v));
    }
  }
  return { nll, gamma, sum, da };
}
