// The mixture head's covariance types, one Head object each: the one place that knows what a
// type means. Everything that differs between them (the size of a component's sigma block, the
// kernels, the work region they need, the Cholesky factor, the way back to original units,
// predict's sigma and the summary's label) is asked of config.covariance's Head.
//
// Head row: [pi logits (K) | mu (K, D) | sigma block (K, Sk)] with
//   isotropic  Sk = 1                one sigma per component
//   diagonal   Sk = D                one sigma per component and dimension
//   full       Sk = D (D + 1) / 2    the lower triangle of a Cholesky factor L, row by row
// The sigma activation and floor apply to every sigma (isotropic, diagonal) and to L's diagonal
// (full); L's off-diagonal entries are linear.

import type { Covariance } from "../core/config.js";
import type { MixtureKernels, ShippedKernels } from "./kernels.js";

export type { Covariance };


// The head's settings block (assembly/lanes.ts HEAD_*): HEAD_BYTES at a 16-byte aligned address,
// written by the host and read by every mixture kernel, in training and inference alike.
/** Byte offset of the sigma floor (f32). */
export const HEAD_FLOOR = 0;
/** Byte offset of the gradient's scale (f32), 1 / rows of the batch: the training step's. */
export const HEAD_SCALE = 4;

/**
 * The sigma ceiling: every sigma (and L's diagonal) is min(max(act(s), floor), SIGMA_CEILING) and
 * every off-diagonal entry of L lies within +-SIGMA_CEILING, with zero gradient where a bound holds,
 * as below the floor (assembly/lanes.ts SIGMA_CEIL). 1e18 keeps everything downstream finite:
 * sigma^2 * D <= 2.6e38 in float32 for D <= 256, L L^T and the covariances in float64, and a draw
 * mu + L eps stays within half a float32 ulp of any finite mu.
 */
export const SIGMA_CEILING = Math.fround(1e18);

/**
 * The lower bound of a component's log density log N_k in reported densities (evaluate, logProb,
 * responsibilities), -2^125 (assembly/lanes.ts LOGN_MIN): a target so far from a component that
 * float32 cannot hold its log density gets this value, so they stay finite. The training step
 * does not bound it: such a batch is a non-finite loss, which fit's guard reports.
 */
export const LOG_DENSITY_MIN = -(2 ** 125);

/** Index of L_ij (j <= i) in a packed lower triangle. */
export function triIndex(i: number, j: number): number {
  return (i * (i + 1)) / 2 + j;
}

/** One covariance type's kernels, bound to an instance (arguments as in MixtureKernels). */
export interface HeadKernels {
  /** loss (one f64) = the sum of nll, nll (N), gamma (N, K); unless da is 0, da (N, P) += scale * d nll / d a. */
  forward: MixtureKernels["mixture_iso_forward"];
  /** pi (N, K), mu (N, K, D), sigma block (N, K, Sk) after activation and floor. */
  params: MixtureKernels["mixture_iso_params"];
}

export interface Head {
  readonly covariance: Covariance;
  /** Floats of one component's sigma block, Sk. */
  blockSize(D: number): number;
  /**
   * Floats of the work region the kernels need (assembly/mixture.ts): the row tile (P), G (K),
   * Y (D), the component's cache (K * cacheVectors), the nll and the component's shared scratch,
   * 4 floats per vector.
   */
  workFloats(K: number, D: number): number;
  kernels(k: ShippedKernels): HeadKernels;
  /**
   * Whether normalisation must scale every target dimension alike: an isotropic mixture stays
   * isotropic in original units only then.
   */
  readonly sharedYScale: boolean;
  /**
   * The sigma blocks of n components (n * Sk floats) back to original units, in place, with
   * y = std * y' + mean: the covariance becomes diag(std) Sigma' diag(std).
   */
  unscale(block: Float32Array, yStd: Float32Array, D: number): void;
  /** Component c's packed Cholesky factor L (T floats from L[to]) from the sigma blocks. */
  factor(block: ArrayLike<number>, c: number, D: number, L: Float64Array, to: number): void;
  /** predict's sigma for N rows: the array handed to the user and its shape. */
  prediction(block: Float32Array, N: number, K: number, D: number): { sigma: Float32Array; shape: number[] };
  /** The summary's row for the sigma layer. */
  summaryLabel(activation: string): string;
}

/** workFloats for a component whose block is Sk floats, keeping `cache` vectors each and `shared` in all. */
function workFloats(K: number, D: number, Sk: number, cache: number, shared: number): number {
  return 4 * (K + K * D + K * Sk + K + D + K * cache + 1 + shared);
}

const isotropic: Head = {
  covariance: "isotropic",
  blockSize: () => 1,
  // Iso keeps the floor mask and d log sigma / d s per component.
  workFloats: (K, D) => workFloats(K, D, 1, 2, 0),
  kernels: (k) => bind(k, "iso"),
  sharedYScale: true,
  unscale(block, yStd) {
    for (let i = 0; i < block.length; i++) block[i] = block[i]! * yStd[0]!;
  },
  factor(block, c, D, L, to) {
    for (let i = 0; i < D; i++) L[to + triIndex(i, i)] = block[c]!;
  },
  prediction: (block, N, K) => ({ sigma: block, shape: [N, K] }),
  summaryLabel: (activation) => `mdn_sigma (Dense, ${activation})`,
};

const diagonal: Head = {
  covariance: "diagonal",
  blockSize: (D) => D,
  // Diag keeps d log sigma_kd / d s_kd per dimension.
  workFloats: (K, D) => workFloats(K, D, D, D, 0),
  kernels: (k) => bind(k, "diag"),
  sharedYScale: false,
  unscale(block, yStd, D) {
    for (let i = 0; i < block.length; i++) block[i] = block[i]! * yStd[i % D]!;
  },
  factor(block, c, D, L, to) {
    for (let i = 0; i < D; i++) L[to + triIndex(i, i)] = block[c * D + i]!;
  },
  prediction: (block, N, K, D) => ({ sigma: block, shape: [N, K, D] }),
  summaryLabel: (activation) => `mdn_sigma (Dense, ${activation})`,
};

const full: Head = {
  covariance: "full",
  blockSize: (D) => (D * (D + 1)) / 2,
  // Full keeps u and diag(L) per component and solves for v in D shared vectors.
  workFloats: (K, D) => workFloats(K, D, (D * (D + 1)) / 2, 2 * D, D),
  kernels: (k) => bind(k, "full"),
  sharedYScale: false,
  // Row i of a Cholesky factor scales by std_i: still lower triangular, diagonal positive.
  unscale(block, yStd, D) {
    const T = (D * (D + 1)) / 2;
    for (let b = 0; b < block.length; b += T) {
      for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) block[b + triIndex(i, j)] = block[b + triIndex(i, j)]! * yStd[i]!;
    }
  },
  factor(block, c, D, L, to) {
    const T = (D * (D + 1)) / 2;
    for (let j = 0; j < T; j++) L[to + j] = block[c * T + j]!;
  },
  // The packed factor unpacked to (N, K, D, D), row-major, zeros above the diagonal.
  prediction(block, N, K, D) {
    const T = (D * (D + 1)) / 2;
    const L = new Float32Array(N * K * D * D);
    for (let nk = 0; nk < N * K; nk++) for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) L[(nk * D + i) * D + j] = block[nk * T + triIndex(i, j)]!;
    return { sigma: L, shape: [N, K, D, D] };
  },
  summaryLabel: (activation) => `mdn_scale_tril (Dense, ${activation} diagonal)`,
};

const HEADS: Record<Covariance, Head> = { isotropic, diagonal, full };

/** The Head of a covariance type. */
export function headOf(covariance: Covariance): Head {
  return HEADS[covariance];
}

function bind(k: ShippedKernels, t: "iso" | "diag" | "full"): HeadKernels {
  const m: MixtureKernels = k;
  return { forward: m[`mixture_${t}_forward`], params: m[`mixture_${t}_params`] };
}
