// What predict returns: the mixture's parameters per row, shaped for the covariance type.

import type { ResolvedConfig } from "./config.js";
import type { HeadParams } from "./density.js";
import { triIndex } from "./head.js";

/** The mixture for N rows; arrays the caller owns. */
export interface Prediction {
  /** Mixing weights (N, K); each row sums to 1. */
  pi: Float32Array;
  /** Means (N, K, D). */
  mu: Float32Array;
  /**
   * The spread of each component, by config.covariance:
   * - "isotropic": standard deviations (N, K), covariance sigma^2 I;
   * - "diagonal": standard deviations (N, K, D), covariance diag(sigma^2);
   * - "full": the Cholesky factor L (N, K, D, D), row-major and lower triangular (zeros above
   *   the diagonal, diagonal at least the floor), covariance L L^T.
   */
  sigma: Float32Array;
  shapes: { pi: [number, number]; mu: [number, number, number]; sigma: number[] };
}

export function toPrediction(h: HeadParams, cfg: ResolvedConfig): Prediction {
  const { components: K, outputDim: D, covariance } = cfg;
  const N = h.N;
  // Shapes written out (no object spread): single-row predict is dominated by such small costs.
  if (covariance === "isotropic") return { pi: h.pi, mu: h.mu, sigma: h.scale, shapes: { pi: [N, K], mu: [N, K, D], sigma: [N, K] } };
  if (covariance === "diagonal") return { pi: h.pi, mu: h.mu, sigma: h.scale, shapes: { pi: [N, K], mu: [N, K, D], sigma: [N, K, D] } };
  const T = (D * (D + 1)) / 2;
  const L = new Float32Array(N * K * D * D);
  for (let nk = 0; nk < N * K; nk++) for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) L[(nk * D + i) * D + j] = h.scale[nk * T + triIndex(i, j)]!;
  return { pi: h.pi, mu: h.mu, sigma: L, shapes: { pi: [N, K], mu: [N, K, D], sigma: [N, K, D, D] } };
}
