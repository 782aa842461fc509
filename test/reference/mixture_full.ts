// Float64 reference for assembly/mixture_full.ts: Sigma_k = L_k L_k^T, L_k lower triangular.
//
// a (N, P) with P = K + K D + K T, T = D (D + 1) / 2: rows [logits (K) | mu (K, D) | s (K, T)],
// s_k packing L_k's lower triangle row by row (s_k[i (i + 1) / 2 + j] -> L_ij, j <= i).
// L_ii = min(max(act(s_ii), floor), ceiling), L_ij = s_ij within +-ceiling; u = L^-1 (y - mu), v = L^-T u;
// log N = -sum_i log L_ii - (D/2) log 2 pi - |u|^2 / 2;
// d log N / d mu = v, d log N / d L_ij = v_i u_j (j < i, 0 where |s_ij| >= ceiling),
// d log N / d s_ii = (v_i u_i L_ii - 1) d log L_ii / d s_ii.

import { SIGMA_CEILING } from "../../src/engine/head.js";
import { type ComponentTerm, type MixtureDims, mixtureOver, sigmaOf } from "./mixture.js";

export const triSize = (D: number): number => (D * (D + 1)) / 2;
export const triIndex = (i: number, j: number): number => (i * (i + 1)) / 2 + j;

export function fullHeadWidth(K: number, D: number): number {
  return K + K * D + K * triSize(D);
}

/** L (D, D) as rows of numbers, and d log L_ii / d s_ii, from one component's packed s. */
export function unpackL(s: ArrayLike<number>, D: number, floor: number, sigmaAct: number): { L: number[][]; logDiag: number[]; dLogDiag: number[] } {
  const L = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  const logDiag: number[] = [];
  const dLogDiag: number[] = [];
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < i; j++) L[i]![j] = Math.min(Math.max(s[triIndex(i, j)]!, -SIGMA_CEILING), SIGMA_CEILING);
    const sg = sigmaOf(s[triIndex(i, i)]!, floor, sigmaAct);
    L[i]![i] = sg.sigma;
    logDiag.push(sg.logSigma);
    dLogDiag.push(sg.dLogSigma);
  }
  return { L, logDiag, dLogDiag };
}

function fullTerm(dims: MixtureDims) {
  return (s: number[], mu: number[], y: number[]): ComponentTerm => {
    const D = y.length;
    const { L, logDiag, dLogDiag } = unpackL(s, D, dims.floor, dims.sigmaAct);
    const u = new Array<number>(D).fill(0);
    for (let i = 0; i < D; i++) {
      let acc = y[i]! - mu[i]!;
      for (let j = 0; j < i; j++) acc -= L[i]![j]! * u[j]!;
      u[i] = acc / L[i]![i]!;
    }
    const v = new Array<number>(D).fill(0);
    for (let i = D - 1; i >= 0; i--) {
      let acc = u[i]!;
      for (let j = i + 1; j < D; j++) acc -= L[j]![i]! * v[j]!;
      v[i] = acc / L[i]![i]!;
    }
    const z = u.reduce((t, x) => t + x * x, 0);
    const logN = -logDiag.reduce((t, x) => t + x, 0) - (D / 2) * Math.log(2 * Math.PI) - z / 2;
    const ds = new Array<number>(triSize(D)).fill(0);
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < i; j++) ds[triIndex(i, j)] = Math.abs(s[triIndex(i, j)]!) >= SIGMA_CEILING ? 0 : v[i]! * u[j]!;
      ds[triIndex(i, i)] = (v[i]! * u[i]! * L[i]![i]! - 1) * dLogDiag[i]!;
    }
    return { logN, dmu: v, ds };
  };
}

export function fullForward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims) {
  return mixtureOver(a, y, dims, triSize(dims.D), fullTerm(dims));
}

export function fullLoss(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): number {
  return scale * fullForward(a, y, dims).sum;
}

export function fullBackward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): Float64Array {
  return mixtureOver(a, y, dims, triSize(dims.D), fullTerm(dims), scale, false).da;
}

/** L (N, K, T) packed, diagonal activated (pi and mu as in mixtureParams). */
export function fullL(a: ArrayLike<number>, dims: MixtureDims): Float64Array {
  const { N, K, D } = dims;
  const T = triSize(D);
  const P = fullHeadWidth(K, D);
  const out = new Float64Array(N * K * T);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const base = n * P + K + K * D + k * T;
      const { L } = unpackL(Array.from({ length: T }, (_, j) => a[base + j]!), D, dims.floor, dims.sigmaAct);
      for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) out[(n * K + k) * T + triIndex(i, j)] = L[i]![j]!;
    }
  }
  return out;
}
