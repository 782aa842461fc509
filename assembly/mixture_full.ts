// The full-covariance component of the mixture driver (mixture.ts): Sigma_k = L_k L_k^T with L_k
// lower triangular (its Cholesky factor), parameterised directly so every output is valid.
// Sigma block: s_k (T), T = D (D + 1) / 2 entries packing L_k's lower triangle row by row:
// s_k[i (i + 1) / 2 + j] -> L_ij for j <= i. The diagonal goes through the sigma activation, floor
// and ceiling, so it is positive and L a valid Cholesky factor; the off-diagonal is linear within
// +-ceiling (lanes.ts SIGMA_CEIL), with zero gradient outside, so every entry of L is bounded.
//
//   L_ii = min(max(act(s_ii), floor), ceiling),  L_ij = min(max(s_ij, -ceiling), ceiling) (j < i)
//   r    = y - mu_k;  u = L^-1 r by forward substitution: u_i = (r_i - sum_{j<i} L_ij u_j) / L_ii
//   z_k  = |u|^2 = r^T Sigma_k^-1 r (the Mahalanobis term)
//   log N_k = -sum_i log L_ii - (D/2) log(2 pi) - z_k / 2   (log det Sigma = 2 sum_i log L_ii)
//   with v = L^-T u = Sigma^-1 r by back substitution:
//   d (-log N_k) / d mu_k = -v                                 (Bishop 5.156 with Sigma^-1)
//   d (-log N_k) / d L_ij = -v_i u_j              (j < i; from dz = -2 u^T L^-1 dL u)
//   d (-log N_k) / d s_ii = (1 - v_i u_i L_ii) * d log L_ii / d s_ii   (0 at the floor, ceiling)
//   and d L_ij / d s_ij = 0 where |s_ij| >= ceiling.
// For D = 1 this is the isotropic component exactly (u = r / sigma, v = r / sigma^2).
//
// logN4 bounds L's off-diagonal entries in the tile as its forward substitution reads them, and
// keeps u and diag(L) of every component in its cache (the substitution needs u anyway), so grad4
// only solves for v, in the shared scratch.

import { clamp_l_f32, clamp_l_f32x4, dlog_sigma_f32, dlog_sigma_f32x4, log_sigma_f32, log_sigma_f32x4, SIGMA_CEIL, sigma_f32, sigma_f32x4 } from "./lanes";

/** Index of L_ij (j <= i) in the packed triangle. */
// @ts-ignore: decorator
@inline
function tri(i: i32, j: i32): usize {
  return <usize>((i * (i + 1)) / 2 + j);
}

// @ts-ignore: decorator
@final @unmanaged
export class Full {
  // @ts-ignore: decorator
  @inline size(D: i32): i32 {
    return (D * (D + 1)) / 2;
  }

  /** u (D) then diag(L) (D). */
  // @ts-ignore: decorator
  @inline cacheVectors(D: i32): i32 {
    return 2 * D;
  }

  /** v (D). */
  // @ts-ignore: decorator
  @inline sharedVectors(D: i32): i32 {
    return D;
  }

  // @ts-ignore: decorator
  @inline logN4(mu_k: usize, s_k: usize, c_k: usize, w: usize, Y: usize, D: i32, sigmaAct: i32, floorV: v128, logFloor: v128, cV: v128, keep: bool): v128 {
    const U = c_k, LD = c_k + (<usize>D << 4);
    let sumLog = f32x4.splat(0);
    let z = f32x4.splat(0);
    for (let i = 0; i < D; i++) {
      const oi = <usize>i << 4;
      const s = v128.load(s_k + (tri(i, i) << 4));
      const Lii = sigma_f32x4(s, sigmaAct, floorV);
      sumLog = f32x4.add(sumLog, log_sigma_f32x4(s, Lii, sigmaAct, logFloor));
      // Forward substitution, one row of L at a time, bounding each L_ij as it is read (and
      // leaving it bounded in the tile for grad4).
      let acc = f32x4.sub(v128.load(Y + oi), v128.load(mu_k + oi));
      for (let j = 0; j < i; j++) {
        const ij = s_k + (tri(i, j) << 4);
        const L = clamp_l_f32x4(v128.load(ij));
        if (keep) v128.store(ij, L);
        acc = f32x4.sub(acc, f32x4.mul(L, v128.load(U + (<usize>j << 4))));
      }
      const u = f32x4.div(acc, Lii);
      v128.store(U + oi, u);
      v128.store(LD + oi, Lii);
      z = f32x4.add(z, f32x4.mul(u, u));
    }
    return f32x4.sub(f32x4.sub(f32x4.neg(sumLog), cV), f32x4.mul(f32x4.splat(0.5), z));
  }

  // @ts-ignore: decorator
  @inline grad4(mu_k: usize, s_k: usize, c_k: usize, w: usize, Y: usize, D: i32, sigmaAct: i32, floorV: v128, logFloor: v128, sg: v128): void {
    const U = c_k, LD = c_k + (<usize>D << 4), V = w;
    // Back substitution with L^T (column i of L is row i of L^T), before any entry of s_k is
    // overwritten by its gradient.
    for (let i = D - 1; i >= 0; i--) {
      let acc = v128.load(U + (<usize>i << 4));
      for (let j = i + 1; j < D; j++) acc = f32x4.sub(acc, f32x4.mul(v128.load(s_k + (tri(j, i) << 4)), v128.load(V + (<usize>j << 4))));
      v128.store(V + (<usize>i << 4), f32x4.div(acc, v128.load(LD + (<usize>i << 4))));
    }
    for (let i = 0; i < D; i++) {
      const oi = <usize>i << 4;
      const sv = f32x4.mul(sg, v128.load(V + oi));
      // Negated here and added to da, where the scalar twin subtracts: x - y is x + (-y) exactly.
      v128.store(mu_k + oi, f32x4.neg(sv));
      // Zero where the off-diagonal's bound holds: the tile holds the bounded L_ij, +-ceiling there.
      for (let j = 0; j < i; j++) {
        const ij = s_k + (tri(i, j) << 4);
        const bound = f32x4.ge(f32x4.abs(v128.load(ij)), f32x4.splat(SIGMA_CEIL));
        v128.store(ij, v128.bitselect(f32x4.splat(0), f32x4.neg(f32x4.mul(sv, v128.load(U + (<usize>j << 4)))), bound));
      }
      const vuL = f32x4.mul(f32x4.mul(v128.load(V + oi), v128.load(U + oi)), v128.load(LD + oi));
      const ii = s_k + (tri(i, i) << 4);
      const dlog = dlog_sigma_f32x4(v128.load(ii), sigmaAct, logFloor, floorV);
      v128.store(ii, f32x4.mul(f32x4.mul(sg, f32x4.sub(f32x4.splat(1), vuL)), dlog));
    }
  }

  // @ts-ignore: decorator
  @inline activate4(s_k: usize, D: i32, sigmaAct: i32, floorV: v128): void {
    bound_off_diagonal(s_k, D);
    for (let i = 0; i < D; i++) {
      const ii = s_k + (tri(i, i) << 4);
      v128.store(ii, sigma_f32x4(v128.load(ii), sigmaAct, floorV));
    }
  }

  // @ts-ignore: decorator
  @inline logN(mu_k: usize, s_k: usize, y_n: usize, w: usize, D: i32, sigmaAct: i32, floor: f32, logFloor: f32, cD: f32): f32 {
    solve_lower_f32(s_k, mu_k, y_n, w, D, sigmaAct, floor, logFloor);
    return (-load<f32>(w, 0) - cD) - <f32>0.5 * load<f32>(w, 4);
  }

  // @ts-ignore: decorator
  @inline grad(dmu_k: usize, ds_k: usize, mu_k: usize, s_k: usize, y_n: usize, w: usize, D: i32, sigmaAct: i32, floor: f32, logFloor: f32, sg: f32): void {
    solve_lower_f32(s_k, mu_k, y_n, w, D, sigmaAct, floor, logFloor);
    const U = w + 16, LD = U + (<usize>D << 2), V = LD + (<usize>D << 2);
    for (let i = D - 1; i >= 0; i--) {
      let acc = load<f32>(U + (<usize>i << 2));
      for (let j = i + 1; j < D; j++) acc -= clamp_l_f32(load<f32>(s_k + (tri(j, i) << 2))) * load<f32>(V + (<usize>j << 2));
      store<f32>(V + (<usize>i << 2), acc / load<f32>(LD + (<usize>i << 2)));
    }
    for (let i = 0; i < D; i++) {
      const oi = <usize>i << 2;
      // d mu = -gamma v; d L_ij = -gamma v_i u_j below the diagonal; on it, through log L_ii.
      const sv = sg * load<f32>(V + oi);
      store<f32>(dmu_k + oi, load<f32>(dmu_k + oi) - sv);
      for (let j = 0; j < i; j++) {
        const o = tri(i, j) << 2;
        const bound = Mathf.abs(clamp_l_f32(load<f32>(s_k + o))) >= SIGMA_CEIL;
        store<f32>(ds_k + o, load<f32>(ds_k + o) + (bound ? 0 : -(sv * load<f32>(U + (<usize>j << 2)))));
      }
      const vuL = load<f32>(V + oi) * load<f32>(U + oi) * load<f32>(LD + oi);
      const o = tri(i, i) << 2;
      const dlog = dlog_sigma_f32(load<f32>(s_k + o), sigmaAct, logFloor, floor);
      store<f32>(ds_k + o, load<f32>(ds_k + o) + sg * (<f32>1.0 - vuL) * dlog);
    }
  }

  // @ts-ignore: decorator
  @inline activate(out_k: usize, s_k: usize, D: i32, sigmaAct: i32, floor: f32): void {
    for (let i = 0; i < D; i++) {
      for (let j = 0; j <= i; j++) {
        const o = tri(i, j) << 2;
        const s = load<f32>(s_k + o);
        store<f32>(out_k + o, i == j ? sigma_f32(s, sigmaAct, floor) : clamp_l_f32(s));
      }
    }
  }
}

/** L's off-diagonal entries of one component's tile within +-SIGMA_CEIL, in place. */
// @ts-ignore: decorator
@inline
function bound_off_diagonal(s_k: usize, D: i32): void {
  for (let i = 1; i < D; i++) {
    for (let j = 0; j < i; j++) {
      const ij = s_k + (tri(i, j) << 4);
      v128.store(ij, clamp_l_f32x4(v128.load(ij)));
    }
  }
}

/**
 * Scalar twin of logN4's solve on one row: sum_i log L_ii at w, |u|^2 at w + 4, u (D) from w + 16,
 * diag(L) (D) after it.
 */
// @ts-ignore: decorator
@inline
function solve_lower_f32(s_k: usize, mu_k: usize, y_n: usize, w: usize, D: i32, sigmaAct: i32, floor: f32, logFloor: f32): void {
  const U = w + 16, LD = U + (<usize>D << 2);
  let sumLog: f32 = 0;
  let z: f32 = 0;
  for (let i = 0; i < D; i++) {
    const oi = <usize>i << 2;
    const s = load<f32>(s_k + (tri(i, i) << 2));
    const Lii = sigma_f32(s, sigmaAct, floor);
    sumLog += log_sigma_f32(s, Lii, sigmaAct, logFloor);
    let acc = load<f32>(y_n + oi) - load<f32>(mu_k + oi);
    for (let j = 0; j < i; j++) acc -= clamp_l_f32(load<f32>(s_k + (tri(i, j) << 2))) * load<f32>(U + (<usize>j << 2));
    const u = acc / Lii;
    store<f32>(U + oi, u);
    store<f32>(LD + oi, Lii);
    z += u * u;
  }
  store<f32>(w, sumLog);
  store<f32>(w, z, 4);
}
