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

/**
 * The moments' flush that adam_step runs every flushPeriod steps (assembly/adam.ts, no subnormal
 * moments, issue 16): m = 0 where |m| < 2^-80, v = 0 where v < min(2^-100, (eps 2^-25)^2).
 */
export function adamFlushMoments(m: Float64Array, v: Float64Array, eps: number): void {
  const vMin = Math.fround(Math.min(2 ** -100, (eps * 2 ** -25) ** 2));
  for (let i = 0; i < m.length; i++) {
    if (Math.abs(m[i]!) < 2 ** -80) m[i] = 0;
    if (v[i]! < vMin) v[i] = 0;
  }
}

/** The largest power of two p <= 1024 with beta^p >= 2^-20 for each non-zero beta (1 at least). */
export function flushPeriod(beta1: number, beta2: number): number {
  let p = 1;
  while (p < 1024 && [beta1, beta2].every((b) => b === 0 || b ** (2 * p) >= 2 ** -20)) p *= 2;
  return p;
}
