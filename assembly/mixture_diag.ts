// Diagonal Gaussian mixture head: one sigma per component and target dimension.
//
// Dimensions: N rows, K components, D target dimensions, P = K + K*D + K*D (head width).
// Buffers:    a (N, P) raw head outputs, each row [logits (K) | mu (K, D) | s (K, D)], both
//             component-major; y (N, D) targets
//             nll (N), gamma (N, K) responsibilities: forward's outputs, gamma is backward's cache
//             da (N, P) gradient of a, laid out like a
//             pi (N, K), mu (N, K, D), sigma (N, K, D): the mixture for predict
// sigmaAct:   0 = exp, 1 = softplus; floor > 0 (as in mixture.ts).
//
// Forward, one row: the isotropic formulas of mixture.ts with sigma_k replaced by sigma_kd:
//   sigma_kd  = max(act(s_kd), floor)
//   z_k       = sum_d ((y_d - mu_kd) / sigma_kd)^2
//   log N_k   = -sum_d log sigma_kd - (D/2) log(2 pi) - z_k / 2
//   l_k       = log pi_k + log N_k;  nll = -logsumexp_k l_k;  gamma_k = softmax_k(l_k)
// Backward, one row (Bishop 5.155-5.157 per dimension):
//   d nll / d logit_k = pi_k - gamma_k
//   d nll / d mu_kd   = gamma_k (mu_kd - y_d) / sigma_kd^2
//   d nll / d s_kd    = gamma_k (1 - (y_d - mu_kd)^2 / sigma_kd^2) * d log sigma_kd / d s_kd
//                       (0 where the floor is active)
// Vectorisation as in mixture.ts: four rows in four lanes, each lane performing the scalar
// twin's operations in the same order, so SIMD and scalar results are bit-identical.

import {
  check_contract, check_loss, pmax_f32, dlog_sigma_f32, dlog_sigma_f32x4, gather, HALF_LOG_2PI, log_pi_f32x4, log_sigma_f32,
  log_sigma_f32x4, logits_max_f32, logits_sum_exp_f32, normalize_joint_f32, normalize_joint_f32x4, scatter, sigma_f32,
  sigma_f32x4, sum_lanes_f64, logits_backward_f32x4, TILE_GAMMA, TILE_LOGIT } from "./lanes";
import { exp_f32, exp_f32x4, log_f32, log_f32x4 } from "./simdmath";

// ---------------------------------------------------------------------------------------------
// Forward

/** nll (N) and gamma (N, K) from a (N, P) and y (N, D); loss (one f64) = sum_n nll_n. */
export function mixture_diag_forward(loss: usize, nll: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(nll, gamma, a, y, N, K, D, floor, sigmaAct);
  check_loss(loss);
  const P = K + 2 * K * D;
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
      let sumLog = f32x4.splat(0);
      let z = f32x4.splat(0);
      for (let d = 0; d < D; d++) {
        const okd = <usize>(k * D + d) << 2;
        const s = gather(s_n + okd, rs, m);
        const sigma = sigma_f32x4(s, sigmaAct, floorV);
        sumLog = f32x4.add(sumLog, log_sigma_f32x4(s, sigma, sigmaAct, logFloor));
        const t = f32x4.div(f32x4.sub(gather(y_n + (<usize>d << 2), ys, m), gather(mu_n + okd, rs, m)), sigma);
        z = f32x4.add(z, f32x4.mul(t, t));
      }
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

/** Scalar twin of mixture_diag_forward. */
export function mixture_diag_forward_scalar(loss: usize, nll: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(nll, gamma, a, y, N, K, D, floor, sigmaAct);
  check_loss(loss);
  const P = K + 2 * K * D;
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
      // log det of the diagonal covariance is 2 sum_d log sigma_kd; z divides before squaring so
      // a zero difference stays 0 however small sigma is.
      let sumLog: f32 = 0;
      let z: f32 = 0;
      for (let d = 0; d < D; d++) {
        const okd = <usize>(k * D + d) << 2;
        const s = load<f32>(s_n + okd);
        const sigma = sigma_f32(s, sigmaAct, floor);
        sumLog += log_sigma_f32(s, sigma, sigmaAct, logFloor);
        const t = (load<f32>(y_n + (<usize>d << 2)) - load<f32>(mu_n + okd)) / sigma;
        z += t * t;
      }
      const logN = (-sumLog - c) - <f32>0.5 * z;
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
export function mixture_diag_backward(da: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  const P = K + 2 * K * D;
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
      for (let d = 0; d < D; d++) {
        const okd = <usize>(k * D + d) << 2;
        const s = gather(s_n + okd, rs, m);
        const inv = f32x4.div(one, sigma_f32x4(s, sigmaAct, floorV));
        const t = f32x4.mul(f32x4.sub(gather(mu_n + okd, rs, m), gather(y_n + (<usize>d << 2), ys, m)), inv);
        scatter(dmu_n + okd, rs, f32x4.add(gather(dmu_n + okd, rs, m), f32x4.mul(f32x4.mul(sg, t), inv)), m);
        const ds = f32x4.mul(f32x4.mul(sg, f32x4.sub(one, f32x4.mul(t, t))), dlog_sigma_f32x4(s, sigmaAct, logFloor, floorV));
        scatter(ds_n + okd, rs, f32x4.add(gather(ds_n + okd, rs, m), ds), m);
      }
    }
  }
}

/** Scalar twin of mixture_diag_backward. */
export function mixture_diag_backward_scalar(da: usize, gamma: usize, a: usize, y: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32, scale: f32): void {
  check_contract(da, gamma, a, y, N, K, D, floor, sigmaAct);
  const P = K + 2 * K * D;
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
      for (let d = 0; d < D; d++) {
        const okd = <usize>(k * D + d) << 2;
        const s = load<f32>(s_n + okd);
        const inv = <f32>1.0 / sigma_f32(s, sigmaAct, floor);
        // t = (mu - y) / sigma: d mu = gamma t / sigma, d log sigma = gamma (1 - t^2).
        const t = (load<f32>(mu_n + okd) - load<f32>(y_n + (<usize>d << 2))) * inv;
        store<f32>(dmu_n + okd, load<f32>(dmu_n + okd) + sg * t * inv);
        const ds = sg * (<f32>1.0 - t * t) * dlog_sigma_f32(s, sigmaAct, logFloor, floor);
        store<f32>(ds_n + okd, load<f32>(ds_n + okd) + ds);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mixture parameters for predict (scalar only: it runs once per predicted row, off the hot path)

/** pi (N, K) = softmax(logits), mu (N, K, D) copied, sigma (N, K, D) = max(act(s), floor). */
export function mixture_diag_params(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  check_contract(pi, mu, sigma, a, N, K, D, floor, sigmaAct);
  const P = K + 2 * K * D;
  for (let n = 0; n < N; n++) {
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_src = logit_n + (<usize>K << 2);
    const s_n = mu_src + (<usize>(K * D) << 2);
    const pi_n = pi + ((<usize>n * <usize>K) << 2);
    const mu_n = mu + ((<usize>n * <usize>(K * D)) << 2);
    const sigma_n = sigma + ((<usize>n * <usize>(K * D)) << 2);
    const m1 = logits_max_f32(logit_n, K);
    const S1 = logits_sum_exp_f32(logit_n, K, m1);
    for (let k = 0; k < K; k++) store<f32>(pi_n + (<usize>k << 2), exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1) / S1);
    for (let j = 0; j < K * D; j++) {
      const o = <usize>j << 2;
      store<f32>(mu_n + o, load<f32>(mu_src + o));
      store<f32>(sigma_n + o, sigma_f32(load<f32>(s_n + o), sigmaAct, floor));
    }
  }
}
