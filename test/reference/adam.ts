// Float64 reference for Keras 2 Adam (with legacy decay and an L2 regularizer) and the sum of
// squares, written for clarity. See assembly/adam.ts for the formulas and their sources.

/** lr / (1 + decay * (t - 1)) * sqrt(1 - beta2^t) / (1 - beta1^t), step t >= 1. */
export function adamLrT(lr: number, decay: number, beta1: number, beta2: number, t: number): number {
  return (lr / (1 + decay * (t - 1))) * (Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t));
}

export interface AdamHyper {
  lrT: number;
  beta1: number;
  beta2: number;
  eps: number;
  l2: number;
}

/** One Adam step in place on w, m, v (all n); g is read only. */
export function adamUpdate(
  w: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamHyper,
): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]! + 2 * h.l2 * w[i]!;
    m[i] = h.beta1 * m[i]! + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i]! + (1 - h.beta2) * gi * gi;
    w[i] = w[i]! - (h.lrT * m[i]!) / (Math.sqrt(v[i]!) + h.eps);
  }
}

/** sum of w^2 */
export function sumSquares(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * w[i]!;
  return s;
}
