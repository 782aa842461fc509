// Full-covariance Gaussian mixture head: each component's covariance is Sigma_k = L_k L_k^T with
// L_k lower triangular (its Cholesky factor), parameterised directly so every output is valid.
//
// Dimensions: N rows, K components, D target dimensions (D <= MAX_D), T = D (D + 1) / 2 entries
//             of a triangle, P = K + K*D + K*T (head width).
// Buffers:    a (N, P) raw head outputs, each row [logits (K) | mu (K, D) | s (K, T)]; the T
//             entries of component k pack L_k's lower triangle row by row:
//             s_k[i (i + 1) / 2 + j] -> L_ij for j <= i
//             y (N, D) targets
//             nll (N), gamma (N, K) responsibilities: forward's outputs, gamma is backward's cache
//             da (N, P) gradient of a, laid out like a
//             pi (N, K), mu (N, K, D), L (N, K, T) packed factor: the mixture for predict
// sigmaAct:   0 = exp, 1 = softplus; floor > 0 (as in mixture.ts).
//
// Forward, one row and component (the diagonal of L goes through the sigma activation and floor,
// so it is positive and L is a valid Cholesky factor; the off-diagonal is linear):
//   L_ii = max(act(s_ii), floor),  L_ij = s_ij (j < i)
//   r    = y - mu_k;  u = L^-1 r by forward substitution: u_i = (r_i - sum_{j<i} L_ij u_j) / L_ii
//   z_k  = |u|^2 = r^T Sigma_k^-1 r (the Mahalanobis term)
//   log N_k = -sum_i log L_ii - (D/2) log(2 pi) - z_k / 2   (log det Sigma = 2 sum_i log L_ii)
//   l_k = log pi_k + log N_k;  nll = -logsumexp_k l_k;  gamma_k = softmax_k(l_k)
// Backward, one row and component, with v = L^-T u = Sigma^-1 r by back substitution:
//   d nll / d logit_k = pi_k - gamma_k
//   d nll / d mu_k    = -gamma_k v                            (Bishop 5.156 with Sigma^-1)
//   d nll / d L_ij    = -gamma_k v_i u_j               (j < i; from dz = -2 u^T L^-1 dL u)
//   d nll / d s_ii    = gamma_k (1 - v_i u_i L_ii) * d log L_ii / d s_ii   (0 at the floor)
// For D = 1 this is the isotropic head exactly (u = r / sigma, v = r / sigma^2).
//
// Vectorisation as in mixture.ts: four rows in four lanes, each lane performing the scalar twin's
// operations in the same order (bit-identical). u, v and the diagonal of L live in a static
// scratch of MAX_D vectors each: the kernels allocate nothing.

import {
  check_contract, check_loss, pmax_f32, dlog_sigma_f32, dlog_sigma_f32x4, gather, HALF_LOG_2PI, log_pi_f32x4, log_sigma_f32,
  log_sigma_f32x4, logits_max_f32, logits_sum_exp_f32, normalize_joint_f32, normalize_joint_f32x4, scatter, sigma_f32,
  sigma_f32x4, sum_lanes_f64, logits_backward_f32x4, TILE_GAMMA, TILE_LOGIT, TILE_MU, TILE_S, TILE_Y, MAX_D } from "./lanes";
import { exp_f32, exp_f32x4, log_f32, log_f32x4 } from "./simdmath";

// u, v and diag(L) for four lanes: MAX_D vectors of 16 bytes each, in tiles of lanes.ts that this
// head does not use otherwise.
const SCRATCH_U = TILE_MU;
const SCRATCH_V = TILE_S;
const SCRATCH_L = TILE_Y;
// sum_i log L_ii and z = |u|^2 from the last lower solve, one vector each.
const SCRATCH_SUMS: usize = memory.data(32, 16);

// @ts-ignore: decorator
@inline
function tri(i: i32, j: i32): usize {
  return <usize>((i * (i + 1)) / 2 + j) << 2;
}

// ---------------------------------------------------------------------------------------------
// Per-component solves, four lanes and scalar. s_k points at component k's T entries in lane 0's
// row (row stride rs bytes); r = y - mu_k is formed on the fly.

/** u = L^-1 (y - mu_k) into SCRATCH_U, diag(L) into SCRATCH_L, sum_i log L_ii and |u|^2 into SCRATCH_SUMS. */
// @ts-ignore: decorator
@inline
function solve_lower_f32x4(s_k: usize, mu_k: usize, rs: usize, y_n: usize, ys: usize, D: i32, m: i32, sigmaAct: i32, floorV: v128, logFloor: v128): void {
  let sumLog = f32x4.splat(0);
  let z = f32x4.splat(0);
  for (let i = 0; i < D; i++) {
    const oi = <usize>i << 4;
    const s = gather(s_k + tri(i, i), rs, m);
    const Lii = sigma_f32x4(s, sigmaAct, floorV);
    sumLog = f32x4.add(sumLog, log_sigma_f32x4(s, Lii, sigmaAct, logFloor));
    let acc = f32x4.sub(gather(y_n + (<usize>i << 2), ys, m), gather(mu_k + (<usize>i << 2), rs, m));
    for (let j = 0; j < i; j++) acc = f32x4.sub(acc, f32x4.mul(gather(s_k + tri(i, j), rs, m), v128.load(SCRATCH_U + (<usize>j << 4))));
    const u = f32x4.div(acc, Lii);
    v128.store(SCRATCH_U + oi, u);
    v128.store(SCRATCH_L + oi, Lii);
    z = f32x4.add(z, f32x4.mul(u, u));
  }
  v128.store(SCRATCH_SUMS, sumLog);
  v128.store(SCRATCH_SUMS + 16, z);
}

/** Scalar twin of solve_lower_f32x4 (lane 0 of each scratch vector). */
// @ts-ignore: decorator
@inline
function solve_lower_f32(s_k: usize, mu_k: usize, y_n: usize, D: i32, sigmaAct: i32, floor: f32, logFloor: f32): void {
  let sumLog: f32 = 0;
  let z: f32 = 0;
  for (let i = 0; i < D; i++) {
    const oi = <usize>i << 4;
    const s = load<f32>(s_k + tri(i, i));
    const Lii = sigma_f32(s, sigmaAct, floor);
    sumLog += log_sigma_f32(s, Lii, sigmaAct, logFloor);
    // Forward substitution, one row of L at a time.
    let acc = load<f32>(y_n + (<usize>i << 2)) - load<f32>(mu_k + (<usize>i << 2));
    for (let j = 0; j < i; j++) acc -= load<f32>(s_k + tri(i, j)) * load<f32>(SCRATCH_U + (<usize>j << 4));
    const u = acc / Lii;
    store<f32>(SCRATCH_U + oi, u);
    store<f32>(SCRATCH_L + oi, Lii);
    z += u * u;
  }
  store<f32>(SCRATCH_SUMS, sumLog);
  store<f32>(SCRATCH_SUMS + 16, z);
}

/** v = L^-T u into SCRATCH_V, after solve_lower_f32x4. */
// @ts-ignore: decorator
@inline
function solve_upper_f32x4(s_k: usize, rs: usize, D: i32, m: i32): void {
  for (let i = D - 1; i >= 0; i--) {
    let acc = v128.load(SCRATCH_U + (<usize>i << 4));
    for (let j = i + 1; j < D; j++) acc = f32x4.sub(acc, f32x4.mul(gather(s_k + tri(j, i), rs, m), v128.load(SCRATCH_V + (<usize>j << 4))));
    v128.store(SCRATCH_V + (<usize>i << 4), f32x4.div(acc, v128.load(SCRATCH_L + (<usize>i << 4))));
  }
}

/** Scalar twin of solve_upper_f32x4: back substitution with L^T (column i of L is row i of L^T). */
// @ts-ignore: decorator
@inline
function solve_upper_f32(s_k: usize, D: i32): void {
  for (let i = D - 1; i >= 0; i--) {
    let acc = load<f32>(SCRATCH_U + (<usize>i << 4));
    for (let j = i + 1; j < D; j++) acc -= load<f32>(s_k + tri(j, i)) * load<f32>(SCRATCH_V + (<usize>j << 4));
    store<f32>(SCRATCH_V + (<usize>i << 4), acc / load<f32>(SCRATCH_L + (<usize>i << 4)));
  }
}

// ---------------------------------------------------------------------------------------------
// Forward

/** nll (N) and gamma (N, K) from a (N, P) and y (N, D); loss (one f64) = sum_n nll_n. */
export function mixture_full_forward(loss: usize, nll: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(nll, gamma, a, y, N, K, D, floor, sigmaAct);
  check_loss(loss);
  assert(D <= MAX_D, "mixture_full: D > 256");
  const T = (D * (D + 1)) / 2;
  const P = K + K * D + K * T;
  const rs = <usize>P << 2;
  const ys = <usize>D << 2;
  const gs = <usize>K << 2;
  const logFloor = f32x4.splat(log_f32(floor));
  const floorV = f32x4.splat(floor);
  const c = f32x4.splat(<f32>D * HALF_LOG_2PI);
  const half = f32x4.splat(0.5);
  let total: f64 = 0;
  for (let n = 0; n < N; n += 4) {
    const m = N - n;
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const y_n = y + ((<usize>n * <usize>D) << 2);
    const gamma_n = gamma + ((<usize>n * <usize>K) << 2);

    log_pi_f32x4(logit_n, rs, K, m);
    let M = f32x4.splat(-Infinity);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      const logPi = v128.load(TILE_LOGIT + (o << 2));
      solve_lower_f32x4(s_n + (<usize>(k * T) << 2), mu_n + (<usize>(k * D) << 2), rs, y_n, ys, D, m, sigmaAct, floorV, logFloor);
      const sumLog = v128.load(SCRATCH_SUMS);
      const z = v128.load(SCRATCH_SUMS + 16);
      const logN = f32x4.sub(f32x4.sub(f32x4.neg(sumLog), c), f32x4.mul(half, z));
      const l = f32x4.add(logPi, logN);
      v128.store(TILE_GAMMA + (o << 2), l);
      M = f32x4.pmax(M, l);
    }
    const nllV = normalize_joint_f32x4(gamma_n, K, m, M);
    scatter(nll + (<usize>n << 2), 4, nllV, m);
    total = sum_lanes_f64(total, nllV, m);
  }
  store<f64>(loss, total);
}

/** Scalar twin of mixture_full_forward. */
export function mixture_full_forward_scalar(loss: usize, nll: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(nll, gamma, a, y, N, K, D, floor, sigmaAct);
  check_loss(loss);
  assert(D <= MAX_D, "mixture_full: D > 256");
  const T = (D * (D + 1)) / 2;
  const P = K + K * D + K * T;
  const logFloor = log_f32(floor);
  const c = <f32>D * HALF_LOG_2PI;
  let total: f64 = 0;
  for (let n = 0; n < N; n++) {
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const y_n = y + ((<usize>n * <usize>D) << 2);
    const gamma_n = gamma + ((<usize>n * <usize>K) << 2);

    const m1 = logits_max_f32(logit_n, K);
    const logS1 = log_f32(logits_sum_exp_f32(logit_n, K, m1));
    let M: f32 = -Infinity;
    for (let k = 0; k < K; k++) {
      const logPi = (load<f32>(logit_n + (<usize>k << 2)) - m1) - logS1;
      solve_lower_f32(s_n + (<usize>(k * T) << 2), mu_n + (<usize>(k * D) << 2), y_n, D, sigmaAct, floor, logFloor);
      const logN = (-load<f32>(SCRATCH_SUMS) - c) - <f32>0.5 * load<f32>(SCRATCH_SUMS + 16);
      const l = logPi + logN;
      store<f32>(gamma_n + (<usize>k << 2), l);
      M = pmax_f32(M, l);
    }
    const nll_n = normalize_joint_f32(gamma_n, K, M);
    store<f32>(nll + (<usize>n << 2), nll_n);
    total += <f64>nll_n;
  }
  store<f64>(loss, total);
}

// ---------------------------------------------------------------------------------------------
// Backward

/** da (N, P) += scale * d nll_n / d a_n, from gamma (N, K) written by the forward on the same a, y. */
export function mixture_full_backward(da: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  assert(D <= MAX_D, "mixture_full: D > 256");
  const T = (D * (D + 1)) / 2;
  const P = K + K * D + K * T;
  const rs = <usize>P << 2;
  const ys = <usize>D << 2;
  const gs = <usize>K << 2;
  const logFloor = f32x4.splat(log_f32(floor));
  const floorV = f32x4.splat(floor);
  const scaleV = f32x4.splat(scale);
  const one = f32x4.splat(1.0);
  for (let n = 0; n < N; n += 4) {
    const m = N - n;
    const row = (<usize>n * <usize>P) << 2;
    const logit_n = a + row;
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const dlogit_n = da + row;
    const dmu_n = dlogit_n + (<usize>K << 2);
    const ds_n = dmu_n + (<usize>(K * D) << 2);
    const y_n = y + ((<usize>n * <usize>D) << 2);
    const gamma_n = gamma + ((<usize>n * <usize>K) << 2);

    logits_backward_f32x4(dlogit_n, logit_n, gamma_n, rs, gs, K, m, scaleV);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      const g = v128.load(TILE_GAMMA + (o << 2));
      const sg = f32x4.mul(scaleV, g);

      const s_k = s_n + (<usize>(k * T) << 2);
      const ds_k = ds_n + (<usize>(k * T) << 2);
      const mu_k = mu_n + (<usize>(k * D) << 2);
      const dmu_k = dmu_n + (<usize>(k * D) << 2);
      solve_lower_f32x4(s_k, mu_k, rs, y_n, ys, D, m, sigmaAct, floorV, logFloor);
      solve_upper_f32x4(s_k, rs, D, m);
      for (let i = 0; i < D; i++) {
        const oi = <usize>i << 4;
        const sv = f32x4.mul(sg, v128.load(SCRATCH_V + oi));
        scatter(dmu_k + (<usize>i << 2), rs, f32x4.sub(gather(dmu_k + (<usize>i << 2), rs, m), sv), m);
        for (let j = 0; j < i; j++) {
          const dij = f32x4.mul(sv, v128.load(SCRATCH_U + (<usize>j << 4)));
          scatter(ds_k + tri(i, j), rs, f32x4.sub(gather(ds_k + tri(i, j), rs, m), dij), m);
        }
        const vuL = f32x4.mul(f32x4.mul(v128.load(SCRATCH_V + oi), v128.load(SCRATCH_U + oi)), v128.load(SCRATCH_L + oi));
        const dlog = dlog_sigma_f32x4(gather(s_k + tri(i, i), rs, m), sigmaAct, logFloor, floorV);
        const dii = f32x4.mul(f32x4.mul(sg, f32x4.sub(one, vuL)), dlog);
        scatter(ds_k + tri(i, i), rs, f32x4.add(gather(ds_k + tri(i, i), rs, m), dii), m);
      }
    }
  }
}

/** Scalar twin of mixture_full_backward. */
export function mixture_full_backward_scalar(da: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  assert(D <= MAX_D, "mixture_full: D > 256");
  const T = (D * (D + 1)) / 2;
  const P = K + K * D + K * T;
  const logFloor = log_f32(floor);
  for (let n = 0; n < N; n++) {
    const row = (<usize>n * <usize>P) << 2;
    const logit_n = a + row;
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const dlogit_n = da + row;
    const dmu_n = dlogit_n + (<usize>K << 2);
    const ds_n = dmu_n + (<usize>(K * D) << 2);
    const y_n = y + ((<usize>n * <usize>D) << 2);
    const gamma_n = gamma + ((<usize>n * <usize>K) << 2);

    const m1 = logits_max_f32(logit_n, K);
    const S1 = logits_sum_exp_f32(logit_n, K, m1);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      const g = load<f32>(gamma_n + o);
      const sg = scale * g;
      const pi = exp_f32(load<f32>(logit_n + o) - m1) / S1;
      store<f32>(dlogit_n + o, load<f32>(dlogit_n + o) + scale * (pi - g));

      const s_k = s_n + (<usize>(k * T) << 2);
      const ds_k = ds_n + (<usize>(k * T) << 2);
      const mu_k = mu_n + (<usize>(k * D) << 2);
      const dmu_k = dmu_n + (<usize>(k * D) << 2);
      solve_lower_f32(s_k, mu_k, y_n, D, sigmaAct, floor, logFloor);
      solve_upper_f32(s_k, D);
      for (let i = 0; i < D; i++) {
        const oi = <usize>i << 4;
        // d mu = -gamma v; d L_ij = -gamma v_i u_j below the diagonal; on it, through log L_ii.
        const sv = sg * load<f32>(SCRATCH_V + oi);
        store<f32>(dmu_k + (<usize>i << 2), load<f32>(dmu_k + (<usize>i << 2)) - sv);
        for (let j = 0; j < i; j++) {
          const dij = sv * load<f32>(SCRATCH_U + (<usize>j << 4));
          store<f32>(ds_k + tri(i, j), load<f32>(ds_k + tri(i, j)) - dij);
        }
        const vuL = load<f32>(SCRATCH_V + oi) * load<f32>(SCRATCH_U + oi) * load<f32>(SCRATCH_L + oi);
        const dlog = dlog_sigma_f32(load<f32>(s_k + tri(i, i)), sigmaAct, logFloor, floor);
        const dii = sg * (<f32>1.0 - vuL) * dlog;
        store<f32>(ds_k + tri(i, i), load<f32>(ds_k + tri(i, i)) + dii);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mixture parameters for predict (scalar only: it runs once per predicted row, off the hot path)

/** pi (N, K) = softmax(logits), mu (N, K, D) copied, L (N, K, T) packed with its diagonal activated. */
export function mixture_full_params(pi: usize, mu: usize, L: usize, a: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(pi, mu, L, a, N, K, D, floor, sigmaAct);
  const T = (D * (D + 1)) / 2;
  const P = K + K * D + K * T;
  for (let n = 0; n < N; n++) {
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_src = logit_n + (<usize>K << 2);
    const s_n = mu_src + (<usize>(K * D) << 2);
    const pi_n = pi + ((<usize>n * <usize>K) << 2);
    const mu_n = mu + ((<usize>n * <usize>(K * D)) << 2);
    const L_n = L + ((<usize>n * <usize>(K * T)) << 2);
    const m1 = logits_max_f32(logit_n, K);
    const S1 = logits_sum_exp_f32(logit_n, K, m1);
    for (let k = 0; k < K; k++) store<f32>(pi_n + (<usize>k << 2), exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1) / S1);
    for (let j = 0; j < K * D; j++) store<f32>(mu_n + (<usize>j << 2), load<f32>(mu_src + (<usize>j << 2)));
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < D; i++) {
        for (let j = 0; j <= i; j++) {
          const o = <usize>(k * T) * 4 + tri(i, j);
          const s = load<f32>(s_n + o);
          store<f32>(L_n + o, i == j ? sigma_f32(s, sigmaAct, floor) : s);
        }
      }
    }
  }
}
