// Isotropic Gaussian mixture head: raw head outputs -> mixture parameters, the negative
// log-likelihood of the targets, and its closed-form gradient.
//
// Dimensions: N rows, K components, D target dimensions, P = K + K*D + K (head width).
// Buffers:    a (N, P) raw head outputs, each row [logits (K) | mu (K, D) component-major | s (K)]
//             y (N, D) targets
//             nll (N), gamma (N, K) responsibilities: forward's outputs, gamma is backward's cache
//             da (N, P) gradient of a, laid out like a
//             pi (N, K), mu (N, K, D), sigma (N, K): the mixture for predict
// sigmaAct:   0 = exp, 1 = softplus (SIGMA_EXP, SIGMA_SOFTPLUS in src/kernels.ts); floor > 0.
//
// Forward, one row (Bishop, Pattern Recognition and Machine Learning, 2006, eqs. 5.148-5.153):
//   log pi_k  = log_softmax(logits)_k = (logit_k - m) - log sum_j e^(logit_j - m),  m = max logits
//   sigma_k   = max(act(s_k), floor);  log sigma_k = max(s_k, log floor) for exp (no log needed),
//               log(sigma_k) for softplus
//   z_k       = |y - mu_k|^2 / sigma_k^2
//   log N_k   = -D log sigma_k - (D/2) log(2 pi) - z_k / 2
//   l_k       = log pi_k + log N_k                        (the log joint of component k)
//   nll       = -logsumexp_k l_k = -(M + log sum_k e^(l_k - M)),  M = max_k l_k
//   gamma_k   = softmax_k(l_k) = e^(l_k - M) / sum_j e^(l_j - M)   (responsibilities, eq. 5.154)
// Everything stays in log space: no density is formed in linear space and the loss is never
// clamped, so a target far from every mean gives a large finite nll and finite gradients.
//
// Backward, one row (Bishop eqs. 5.155-5.157, generalised to either sigma activation):
//   d nll / d logit_k = pi_k - gamma_k
//   d nll / d mu_kd   = gamma_k (mu_kd - y_d) / sigma_k^2
//   d nll / d s_k     = gamma_k (D - z_k) * d log sigma_k / d s_k, where
//                       d log sigma / d s = 1 for exp and sigmoid(s) / softplus(s) for softplus
//                       (softplus' = sigmoid), and 0 where the floor is active (act(s) < floor,
//                       sigma is then the constant floor).
//   For exp the floor is active exactly where s < log floor, matching log sigma = max(s, log floor).
//
// Vectorisation: the four lanes hold four rows n..n+3, and every loop over k and d runs on those
// vectors, so lane j performs exactly the operations of the scalar twin on row n + j, in the same
// order: SIMD and scalar results are bit-identical. Rows are P floats apart, so a block of four
// rows is first transposed into tiles (lanes.ts: column j of the block in one vector, moved with
// v128 loads and shuffles), read from there with plain vector loads, and gradients are added back
// the same way; in exchange there are no horizontal reductions, every exp and log is a vector op
// whatever K is, and the K sums run down the lanes. Measured against lanes over components
// (N = 1024, V8, with strided gathers then): forward 1.7x faster at K = 4, D = 2 and 2x at K = 5,
// D = 1 (no per-row horizontal max/sum, no scalar logs, no K tail). When N is not a multiple of 4
// the last block has fewer live lanes; dead lanes repeat the last live row and are never stored.
// exp and log are the bit-reproducible polynomials of simdmath.ts.
//
// Training calls mixture_forward_backward: the forward, then in the same block of four rows the
// backward's formulas on what the forward left in the tiles (pi from the softmax's exps, 1/sigma,
// the floor mask, d log sigma / d s), instead of mixture_backward recomputing them: 3K exps per
// row instead of 5K. Its outputs are bit-identical to mixture_forward then mixture_backward (the
// same operations per lane, in the same order), which is its scalar twin. Measured (V8, K = 4,
// D = 2, N = 128): 117 ns/row against 166 for the two kernels.

import {
  check_contract, check_loss, pmax_f32, HALF_LOG_2PI, logits_backward_f32x4, normalize_joint_f32, normalize_joint_f32x4,
  pi_f32x4, scatter, SIGMA_EXP, sum_lanes_f64, TILE_GAMMA, TILE_LOGIT, TILE_MU, TILE_COLS, TILE_S, TILE_Y, tile_load, tile_max, tile_store } from "./lanes";
import { exp_f32, exp_f32x4, log_f32, log_f32x4, sigmoid_f32, sigmoid_f32x4, softplus_f32, softplus_f32x4 } from "./simdmath";

// ---------------------------------------------------------------------------------------------
// Per-lane distance

/** Per lane, sum_d (mu_kd - y_d)^2 for component k whose mu columns start at tile column mu_k. */
// @ts-ignore: decorator
@inline
function dist2_f32x4(mu_k: usize, D: i32): v128 {
  let acc = f32x4.splat(0);
  for (let d = 0; d < D; d++) {
    const od = <usize>d << 4;
    const diff = f32x4.sub(v128.load(mu_k + od), v128.load(TILE_Y + od));
    acc = f32x4.add(acc, f32x4.mul(diff, diff));
  }
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Forward

/**
 * nll (N) = -log p(y_n | a_n) and gamma (N, K) = responsibilities, from a (N, P) and y (N, D);
 * loss (one f64) = sum_n nll_n accumulated in f64, the host's loss without a JS view or a boxed
 * f64 return. gamma doubles as the scratch for the log joint l (N, K).
 */
export function mixture_forward(loss: usize, nll: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  forward_pass(loss, nll, gamma, 0, a, y, N, K, D, floor, sigmaAct, 0);
}

/**
 * Training's head in one pass: mixture_forward's outputs, and da (N, P) += scale * d nll_n / d a_n
 * as mixture_backward would add it, bit for bit. Each block of four rows keeps in its tiles what
 * the forward computed for the backward (pi, 1/sigma, d log sigma / d s, the floor mask, mu, y),
 * so of the 5K exps per row of forward then backward it does 3K, and gathers each row once. A head
 * whose mu spans more than one tile (K D > 256) runs forward then backward: the caches hold one.
 */
export function mixture_forward_backward(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  if (K * D <= TILE_COLS) {
    forward_pass(loss, nll, gamma, da, a, y, N, K, D, floor, sigmaAct, scale);
  } else {
    forward_pass(loss, nll, gamma, 0, a, y, N, K, D, floor, sigmaAct, 0);
    mixture_backward(da, gamma, a, y, N, K, D, floor, sigmaAct, scale);
  }
}

// The fused pass's per-component caches besides TILE_S (which holds 1/sigma once s is read):
// d log sigma / d s (softplus only) and the floor mask (lanes all ones where the floor holds). Its
// K <= TILE_COLS, so they take TILE_GAMMA's spare columns (it has MAX_K = 4 TILE_COLS): the debug
// build has no room for 8 KB more of static tiles in the 6 pages of initial memory.
const TILE_DLS: usize = TILE_GAMMA + (<usize>TILE_COLS << 4);
const TILE_ACTIVE: usize = TILE_DLS + (<usize>TILE_COLS << 4);

/** mixture_forward, and unless da is 0 (then K D <= TILE_COLS) the gradient of mixture_forward_backward. */
function forward_pass(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(nll, gamma, a, y, N, K, D, floor, sigmaAct);
  check_loss(loss);
  const P = K + K * D + K;
  const rs = <usize>P << 2; // row strides in bytes: a, y
  const ys = <usize>D << 2;
  const G = TILE_COLS / D; // components per mu tile
  const logFloor = f32x4.splat(log_f32(floor));
  const floorV = f32x4.splat(floor);
  const negD = f32x4.splat(-<f32>D);
  const DV = f32x4.splat(<f32>D);
  const c = f32x4.splat(<f32>D * HALF_LOG_2PI);
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const scaleV = f32x4.splat(scale);
  let total: f64 = 0;
  for (let n = 0; n < N; n += 4) {
    const m = N - n; // live lanes (rows) in this block, >= 4 except in the tail
    const row = (<usize>n * <usize>P) << 2;
    const logit_n = a + row;
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);

    // log_softmax of the logits as log_pi_f32x4 computes it, keeping x_k = logit_k - m1 in
    // TILE_LOGIT and e^(x_k) in TILE_GAMMA: pi_k = e^(x_k) / S1 is pi_f32x4's pi to the bit.
    tile_load(TILE_LOGIT, logit_n, rs, K, m);
    const m1 = tile_max(TILE_LOGIT, K);
    let S1 = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 4;
      const x = f32x4.sub(v128.load(TILE_LOGIT + o), m1);
      const e = exp_f32x4(x);
      v128.store(TILE_LOGIT + o, x);
      v128.store(TILE_GAMMA + o, e);
      S1 = f32x4.add(S1, e);
    }
    const logS1 = log_f32x4(S1);

    tile_load(TILE_Y, y + ((<usize>n * <usize>D) << 2), ys, D, m);
    let M = f32x4.splat(-Infinity);
    for (let k0 = 0; k0 < K; k0 += G) {
      const kn = min(G, K - k0);
      tile_load(TILE_MU, mu_n + (<usize>(k0 * D) << 2), rs, kn * D, m);
      tile_load(TILE_S, s_n + (<usize>k0 << 2), rs, kn, m);
      for (let k = k0; k < k0 + kn; k++) {
        const o = <usize>k << 4;
        const s_k = TILE_S + o - (<usize>k0 << 4);
        const s = v128.load(s_k);
        let sigma: v128, logSigma: v128;
        if (sigmaAct == SIGMA_EXP) {
          sigma = f32x4.pmax(exp_f32x4(s), floorV);
          logSigma = f32x4.pmax(s, logFloor);
          if (da) v128.store(TILE_ACTIVE + o, f32x4.lt(s, logFloor));
        } else {
          const sp = softplus_f32x4(s);
          sigma = f32x4.pmax(sp, floorV);
          logSigma = log_f32x4(sigma);
          if (da) {
            v128.store(TILE_ACTIVE + o, f32x4.lt(sp, floorV));
            v128.store(TILE_DLS + o, f32x4.div(sigmoid_f32x4(s), sp));
          }
        }
        const inv = f32x4.div(one, sigma);
        const dist2 = dist2_f32x4(TILE_MU + (<usize>((k - k0) * D) << 4), D);
        const z = f32x4.mul(f32x4.mul(dist2, inv), inv);
        const logN = f32x4.sub(f32x4.sub(f32x4.mul(negD, logSigma), c), f32x4.mul(half, z));
        const l = f32x4.add(f32x4.sub(v128.load(TILE_LOGIT + o), logS1), logN);
        if (da) {
          v128.store(TILE_LOGIT + o, f32x4.div(v128.load(TILE_GAMMA + o), S1)); // pi
          v128.store(s_k, inv);
        }
        v128.store(TILE_GAMMA + o, l);
        M = f32x4.pmax(M, l);
      }
    }

    // gamma = softmax of the log joint, nll = -logsumexp; summed in row order like the scalar twin.
    const nllV = normalize_joint_f32x4(gamma + ((<usize>n * <usize>K) << 2), K, m, M);
    scatter(nll + (<usize>n << 2), 4, nllV, m);
    total = sum_lanes_f64(total, nllV, m);
    if (!da) continue;

    // mixture_backward's formulas on what the tiles hold: one group (k0 = 0), gamma in TILE_GAMMA,
    // pi in TILE_LOGIT, 1/sigma in TILE_S, mu and y. d logits, d mu and d s overwrite the tiles of
    // pi, mu and 1/sigma, and are added to da.
    const dlogit_n = da + row;
    const dmu_n = dlogit_n + (<usize>K << 2);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 4;
      const g = v128.load(TILE_GAMMA + o);
      v128.store(TILE_LOGIT + o, f32x4.mul(scaleV, f32x4.sub(v128.load(TILE_LOGIT + o), g)));
      const sg = f32x4.mul(scaleV, g);
      const inv = v128.load(TILE_S + o);
      const coef = f32x4.mul(f32x4.mul(sg, inv), inv);
      // dist2_f32x4's sum, formed alongside d mu from the same differences.
      const mu_k = TILE_MU + (<usize>(k * D) << 4);
      let dist2 = f32x4.splat(0);
      for (let d = 0; d < D; d++) {
        const od = <usize>d << 4;
        const diff = f32x4.sub(v128.load(mu_k + od), v128.load(TILE_Y + od));
        dist2 = f32x4.add(dist2, f32x4.mul(diff, diff));
        v128.store(mu_k + od, f32x4.mul(coef, diff));
      }
      const z = f32x4.mul(f32x4.mul(dist2, inv), inv);
      const dLogSigma = sigmaAct == SIGMA_EXP ? one : v128.load(TILE_DLS + o);
      const ds = f32x4.mul(f32x4.mul(sg, f32x4.sub(DV, z)), dLogSigma);
      v128.store(TILE_S + o, v128.bitselect(zero, ds, v128.load(TILE_ACTIVE + o)));
    }
    tile_store(dlogit_n, rs, TILE_LOGIT, K, m, true);
    tile_store(dmu_n, rs, TILE_MU, K * D, m, true);
    tile_store(dmu_n + (<usize>(K * D) << 2), rs, TILE_S, K, m, true);
  }
  store<f64>(loss, total);
}

/** Scalar twin of mixture_forward: the same formulas, one row and one component at a time. */
export function mixture_forward_scalar(loss: usize, nll: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(nll, gamma, a, y, N, K, D, floor, sigmaAct);
  check_loss(loss);
  const P = K + K * D + K;
  const logFloor = log_f32(floor);
  const c = <f32>D * HALF_LOG_2PI;
  let total: f64 = 0;
  for (let n = 0; n < N; n++) {
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const y_n = y + ((<usize>n * <usize>D) << 2);
    const gamma_n = gamma + ((<usize>n * <usize>K) << 2);

    // log_softmax of the logits: subtract the max so no e^(...) overflows.
    let m1: f32 = -Infinity;
    for (let k = 0; k < K; k++) m1 = pmax_f32(m1, load<f32>(logit_n + (<usize>k << 2)));
    let s1: f32 = 0;
    for (let k = 0; k < K; k++) s1 += exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1);
    const logS1 = log_f32(s1);

    // The log joint l_k = log pi_k + log N_k, written to gamma_n as scratch.
    let M: f32 = -Infinity;
    for (let k = 0; k < K; k++) {
      const logPi = (load<f32>(logit_n + (<usize>k << 2)) - m1) - logS1;
      const s = load<f32>(s_n + (<usize>k << 2));
      let sigma: f32, logSigma: f32;
      if (sigmaAct == SIGMA_EXP) {
        // log(max(e^s, floor)) = max(s, log floor): no log, and exact above the floor.
        sigma = pmax_f32(exp_f32(s), floor);
        logSigma = pmax_f32(s, logFloor);
      } else {
        sigma = pmax_f32(softplus_f32(s), floor);
        logSigma = log_f32(sigma);
      }
      // |y - mu_k|^2 / sigma^2 as (dist2 / sigma) / sigma: dist2 = 0 stays 0 even if 1/sigma^2
      // would overflow.
      const mu_k = mu_n + ((<usize>k * <usize>D) << 2);
      let dist2: f32 = 0;
      for (let d = 0; d < D; d++) {
        const diff = load<f32>(mu_k + (<usize>d << 2)) - load<f32>(y_n + (<usize>d << 2));
        dist2 += diff * diff;
      }
      const inv = <f32>1.0 / sigma;
      const z = dist2 * inv * inv;
      const logN = (-<f32>D * logSigma - c) - <f32>0.5 * z;
      const l = logPi + logN;
      store<f32>(gamma_n + (<usize>k << 2), l);
      M = pmax_f32(M, l);
    }

    // logsumexp over components with the max subtracted; gamma = softmax of the log joint.
    const nll_n = normalize_joint_f32(gamma_n, K, M);
    store<f32>(nll + (<usize>n << 2), nll_n);
    total += <f64>nll_n;
  }
  store<f64>(loss, total);
}

// ---------------------------------------------------------------------------------------------
// Backward

/**
 * da (N, P) += scale * d nll_n / d a_n, from gamma (N, K) written by mixture_forward on the same
 * a (N, P) and y (N, D). pi, sigma and z are recomputed; training calls mixture_forward_backward,
 * which keeps them from its forward instead.
 */
export function mixture_backward(da: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  const P = K + K * D + K;
  const rs = <usize>P << 2;
  const ys = <usize>D << 2;
  const gs = <usize>K << 2;
  const G = TILE_COLS / D;
  const logFloor = f32x4.splat(log_f32(floor));
  const floorV = f32x4.splat(floor);
  const DV = f32x4.splat(<f32>D);
  const scaleV = f32x4.splat(scale);
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n += 4) {
    const m = N - n;
    const row = (<usize>n * <usize>P) << 2;
    const logit_n = a + row;
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const dlogit_n = da + row;
    const dmu_n = dlogit_n + (<usize>K << 2);
    const ds_n = dmu_n + (<usize>(K * D) << 2);

    logits_backward_f32x4(dlogit_n, logit_n, gamma + ((<usize>n * <usize>K) << 2), rs, gs, K, m, scaleV);
    // TILE_S and TILE_MU are overwritten in place by d s and d mu, then added to da.
    tile_load(TILE_Y, y + ((<usize>n * <usize>D) << 2), ys, D, m);
    for (let k0 = 0; k0 < K; k0 += G) {
      const kn = min(G, K - k0);
      const mu0 = <usize>(k0 * D) << 2;
      tile_load(TILE_MU, mu_n + mu0, rs, kn * D, m);
      tile_load(TILE_S, s_n + (<usize>k0 << 2), rs, kn, m);
      for (let k = k0; k < k0 + kn; k++) {
        const o = <usize>k << 4;
        const sg = f32x4.mul(scaleV, v128.load(TILE_GAMMA + o));
        const s_k = TILE_S + o - (<usize>k0 << 4);
        const s = v128.load(s_k);
        let sigma: v128, dLogSigma: v128, active: v128;
        if (sigmaAct == SIGMA_EXP) {
          sigma = f32x4.pmax(exp_f32x4(s), floorV);
          dLogSigma = one;
          active = f32x4.lt(s, logFloor);
        } else {
          const sp = softplus_f32x4(s);
          sigma = f32x4.pmax(sp, floorV);
          dLogSigma = f32x4.div(sigmoid_f32x4(s), sp);
          active = f32x4.lt(sp, floorV);
        }
        const inv = f32x4.div(one, sigma);
        const mu_k = TILE_MU + (<usize>((k - k0) * D) << 4);
        const z = f32x4.mul(f32x4.mul(dist2_f32x4(mu_k, D), inv), inv);
        // Select, not multiply by a mask: where the floor is active sp may be 0 and dLogSigma NaN.
        v128.store(s_k, v128.bitselect(zero, f32x4.mul(f32x4.mul(sg, f32x4.sub(DV, z)), dLogSigma), active));

        const coef = f32x4.mul(f32x4.mul(sg, inv), inv);
        for (let d = 0; d < D; d++) {
          const od = <usize>d << 4;
          v128.store(mu_k + od, f32x4.mul(coef, f32x4.sub(v128.load(mu_k + od), v128.load(TILE_Y + od))));
        }
      }
      tile_store(dmu_n + mu0, rs, TILE_MU, kn * D, m, true);
      tile_store(ds_n + (<usize>k0 << 2), rs, TILE_S, kn, m, true);
    }
  }
}

/** Scalar twin of mixture_backward: Bishop's closed form, one component at a time. */
export function mixture_backward_scalar(da: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  const P = K + K * D + K;
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

    // pi = softmax(logits), recomputed.
    let m1: f32 = -Infinity;
    for (let k = 0; k < K; k++) m1 = pmax_f32(m1, load<f32>(logit_n + (<usize>k << 2)));
    let S1: f32 = 0;
    for (let k = 0; k < K; k++) S1 += exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1);

    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      const g = load<f32>(gamma_n + o);
      const sg = scale * g;

      // d nll / d logit_k = pi_k - gamma_k (the softmax Jacobian contracted with gamma).
      const pi = exp_f32(load<f32>(logit_n + o) - m1) / S1;
      store<f32>(dlogit_n + o, load<f32>(dlogit_n + o) + scale * (pi - g));

      // d nll / d log sigma_k = gamma_k (D - z_k); chain through log sigma(s), zero at the floor.
      const s = load<f32>(s_n + o);
      let sigma: f32, dLogSigma: f32, active: bool;
      if (sigmaAct == SIGMA_EXP) {
        sigma = pmax_f32(exp_f32(s), floor);
        dLogSigma = 1;
        active = s < logFloor;
      } else {
        const sp = softplus_f32(s);
        sigma = pmax_f32(sp, floor);
        dLogSigma = sigmoid_f32(s) / sp; // d log softplus(s) / ds = sigmoid(s) / softplus(s)
        active = sp < floor;
      }
      const inv = <f32>1.0 / sigma;
      const mu_k = mu_n + ((<usize>k * <usize>D) << 2);
      let dist2: f32 = 0;
      for (let d = 0; d < D; d++) {
        const diff = load<f32>(mu_k + (<usize>d << 2)) - load<f32>(y_n + (<usize>d << 2));
        dist2 += diff * diff;
      }
      const z = dist2 * inv * inv;
      const ds: f32 = active ? 0 : sg * (<f32>D - z) * dLogSigma;
      store<f32>(ds_n + o, load<f32>(ds_n + o) + ds);

      // d nll / d mu_kd = gamma_k (mu_kd - y_d) / sigma_k^2.
      const coef = sg * inv * inv;
      const dmu_k = dmu_n + ((<usize>k * <usize>D) << 2);
      for (let d = 0; d < D; d++) {
        const od = <usize>d << 2;
        const diff = load<f32>(mu_k + od) - load<f32>(y_n + od);
        store<f32>(dmu_k + od, load<f32>(dmu_k + od) + coef * diff);
      }
    }
  }
}

/**
 * Scalar twin of mixture_forward_backward, and its definition: mixture_forward_scalar then
 * mixture_backward_scalar.
 */
export function mixture_forward_backward_scalar(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  mixture_forward_scalar(loss, nll, gamma, a, y, N, K, D, floor, sigmaAct);
  mixture_backward_scalar(da, gamma, a, y, N, K, D, floor, sigmaAct, scale);
}

// ---------------------------------------------------------------------------------------------
// Mixture parameters for predict

/** pi (N, K) = softmax(logits), mu (N, K, D) = the mu block of a, sigma (N, K) = max(act(s), floor). */
export function mixture_params(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(pi, mu, sigma, a, N, K, D, floor, sigmaAct);
  const P = K + K * D + K;
  const rs = <usize>P << 2;
  const gs = <usize>K << 2;
  const floorV = f32x4.splat(floor);
  for (let n = 0; n < N; n += 4) {
    const m = N - n;
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const row_k = (<usize>n * <usize>K) << 2;
    pi_f32x4(logit_n, rs, K, m);
    tile_store(pi + row_k, gs, TILE_LOGIT, K, m, false);
    tile_load(TILE_GAMMA, logit_n + (<usize>(K + K * D) << 2), rs, K, m);
    for (let k = 0; k < K; k++) {
      const t = TILE_GAMMA + (<usize>k << 4);
      const s = v128.load(t);
      v128.store(t, f32x4.pmax(sigmaAct == SIGMA_EXP ? exp_f32x4(s) : softplus_f32x4(s), floorV));
    }
    tile_store(sigma + row_k, gs, TILE_GAMMA, K, m, false);
  }
  // mu is the middle block of each row of a, copied as it is.
  const muBytes = <usize>(K * D) << 2;
  for (let n = 0; n < N; n++) memory.copy(mu + <usize>n * muBytes, a + <usize>n * rs + (<usize>K << 2), muBytes);
}

/** Scalar twin of mixture_params. */
export function mixture_params_scalar(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(pi, mu, sigma, a, N, K, D, floor, sigmaAct);
  const P = K + K * D + K;
  for (let n = 0; n < N; n++) {
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_src = logit_n + (<usize>K << 2);
    const s_n = mu_src + (<usize>(K * D) << 2);
    const pi_n = pi + ((<usize>n * <usize>K) << 2);
    const mu_n = mu + ((<usize>n * <usize>(K * D)) << 2);
    const sigma_n = sigma + ((<usize>n * <usize>K) << 2);

    let m1: f32 = -Infinity;
    for (let k = 0; k < K; k++) m1 = pmax_f32(m1, load<f32>(logit_n + (<usize>k << 2)));
    let S1: f32 = 0;
    for (let k = 0; k < K; k++) S1 += exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      store<f32>(pi_n + o, exp_f32(load<f32>(logit_n + o) - m1) / S1);
      const s = load<f32>(s_n + o);
      const act = sigmaAct == SIGMA_EXP ? exp_f32(s) : softplus_f32(s);
      store<f32>(sigma_n + o, pmax_f32(act, floor));
    }
    for (let j = 0; j < K * D; j++) store<f32>(mu_n + (<usize>j << 2), load<f32>(mu_src + (<usize>j << 2)));
  }
}
