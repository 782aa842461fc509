// What predict returns: the mixture's parameters per row, shaped for the covariance type.

import type { ResolvedConfig } from "../core/config.js";
import type { HeadParams } from "../engine/infer.js";
import { headOf } from "../engine/head.js";

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
  const { components: K, outputDim: D } = cfg;
  const N = h.N;
  const { sigma, shape } = headOf(cfg.covariance).prediction(h.scale, N, K, D);
  // Shapes written out (no object spread): single-row predict is dominated by such small costs.
  return { pi: h.pi, mu: h.mu, sigma, shapes: { pi: [N, K], mu: [N, K, D], sigma: shape } };
}
