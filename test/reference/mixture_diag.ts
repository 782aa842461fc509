// Float64 reference for assembly/mixture_diag.ts: one sigma per component and dimension.
//
// a (N, P) with P = K + 2 K D: rows [logits (K) | mu (K, D) | s (K, D)]; y (N, D).
// sigma_kd = max(act(s_kd), floor); log N_k = -sum_d log sigma_kd - (D/2) log 2 pi - z_k / 2 with
// z_k = sum_d ((y_d - mu_kd) / sigma_kd)^2.

import { type ComponentTerm, type MixtureDims, mixtureOver, sigmaOf } from "./mixture.js";

export function diagHeadWidth(K: number, D: number): number {
  return K + 2 * K * D;
}

function diagTerm(dims: MixtureDims) {
  return (s: number[], mu: number[], y: number[]): ComponentTerm => {
    let logN = -(y.length / 2) * Math.log(2 * Math.PI);
    const dmu: number[] = [];
    const ds: number[] = [];
    y.forEach((yd, d) => {
      const sg = sigmaOf(s[d]!, dims.floor, dims.sigmaAct);
      const t = (yd - mu[d]!) / sg.sigma;
      logN += -sg.logSigma - (t * t) / 2;
      dmu.push(t / sg.sigma);
      ds.push((t * t - 1) * sg.dLogSigma);
    });
    return { logN, dmu, ds };
  };
}

export function diagForward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims) {
  return mixtureOver(a, y, dims, dims.D, diagTerm(dims));
}

export function diagLoss(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): number {
  return scale * diagForward(a, y, dims).sum;
}

export function diagBackward(a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number): Float64Array {
  return mixtureOver(a, y, dims, dims.D, diagTerm(dims), scale, false).da;
}

/** sigma (N, K, D) after activation and floor (pi and mu as in mixtureParams). */
export function diagSigma(a: ArrayLike<number>, dims: MixtureDims): Float64Array {
  const { N, K, D } = dims;
  const P = diagHeadWidth(K, D);
  const out = new Float64Array(N * K * D);
  for (let n = 0; n < N; n++) for (let j = 0; j < K * D; j++) out[n * K * D + j] = sigmaOf(a[n * P + K + K * D + j]!, dims.floor, dims.sigmaAct).sigma;
  return out;
}
