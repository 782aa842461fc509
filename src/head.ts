// The mixture head's three covariance types behind one switch: how wide each component's sigma
// block is, and which kernels compute the loss, its gradient and the parameters.
//
// Head row: [pi logits (K) | mu (K, D) | sigma block (K, Sk)] with
//   isotropic  Sk = 1                one sigma per component
//   diagonal   Sk = D                one sigma per component and dimension
//   full       Sk = D (D + 1) / 2    the lower triangle of a Cholesky factor L, row by row
// The sigma activation and floor apply to every sigma (isotropic, diagonal) and to L's diagonal
// (full); L's off-diagonal entries are linear.

import type { Kernels, Ptr } from "./kernels.js";

export type Covariance = "isotropic" | "diagonal" | "full";
/** The covariance types; a type's index is its code in mixture_step_at (assembly/step.ts). */
export const COVARIANCES: readonly Covariance[] = ["isotropic", "diagonal", "full"];

/** Floats of one component's sigma block. */
export function scaleSize(cov: Covariance, D: number): number {
  return cov === "isotropic" ? 1 : cov === "diagonal" ? D : (D * (D + 1)) / 2;
}

/** Index of L_ij (j <= i) in a packed lower triangle. */
export function triIndex(i: number, j: number): number {
  return (i * (i + 1)) / 2 + j;
}

export interface HeadKernels {
  /** loss (one f64) = the sum of nll, nll (N), gamma (N, K). */
  forward(loss: Ptr, nll: Ptr, gamma: Ptr, a: Ptr, y: Ptr, N: number, K: number, D: number, floor: number, sigmaAct: number): void;
  /** da (N, P) += scale * d nll / d a. */
  backward(da: Ptr, gamma: Ptr, a: Ptr, y: Ptr, N: number, K: number, D: number, floor: number, sigmaAct: number, scale: number): void;
  /** pi (N, K), mu (N, K, D), sigma block (N, K, Sk) after activation and floor. */
  params(pi: Ptr, mu: Ptr, scale: Ptr, a: Ptr, N: number, K: number, D: number, floor: number, sigmaAct: number): void;
}

export function headKernels(k: Kernels, cov: Covariance): HeadKernels {
  if (cov === "isotropic") return { forward: k.mixture_forward, backward: k.mixture_backward, params: k.mixture_params };
  if (cov === "diagonal") return { forward: k.mixture_diag_forward, backward: k.mixture_diag_backward, params: k.mixture_diag_params };
  return { forward: k.mixture_full_forward, backward: k.mixture_full_backward, params: k.mixture_full_params };
}
