// The Gaussian mixture head: one driver for every covariance type. The driver owns the rows, the
// four-row tiles, log-softmax, log-sum-exp, the responsibilities and the mixing weights' gradient;
// a component (mixture_iso.ts, mixture_diag.ts, mixture_full.ts) supplies log N_k and its gradient
// in mu_k and in its sigma block. AssemblyScript generics monomorphise: drive<Iso> is
// compiled with Iso's code inlined, so each exported kernel is straight code with no indirection.
//
// Dimensions: N rows, K components, D target dimensions, Sk floats in one component's sigma block
//             (its component's size(D)), P = K + K*D + K*Sk (head width).
// Buffers:    a (N, P) raw head outputs, each row [logits (K) | mu (K, D) | s (K, Sk)], both
//             blocks component-major; y (N, D) targets
//             nll (N), gamma (N, K) responsibilities; loss (one f64) = sum_n nll_n
//             da (N, P) gradient of a, laid out like a (accumulated)
//             pi (N, K), mu (N, K, D), sigma (N, K, Sk): the mixture for predict
//             hs the head's settings block (lanes.ts HEAD_FLOOR, HEAD_SCALE)
//             work (workVectors(K, D) vectors of 16 bytes) scratch the host plans for the call
// sigmaAct:   0 = exp, 1 = softplus (SIGMA_EXP, SIGMA_SOFTPLUS in src/engine/kernels.ts).
//
// Forward, one row (Bishop, Pattern Recognition and Machine Learning, 2006, eqs. 5.148-5.154):
//   log pi_k = log_softmax(logits)_k = (logit_k - m) - log sum_j e^(logit_j - m),  m = max logits
//   log N_k  = the component's log density of y (its file states it); without da (reported
//              densities: evaluate, logProb, responsibilities) at least LOGN_MIN (lanes.ts): beyond,
//              float32 cannot hold it, and the bound keeps the likeliest component's log joint, and
//              so everything below, finite. The training step leaves it unbounded, so that a batch
//              float32 cannot represent is a non-finite loss, which fit's guard reports.
//   l_k      = log pi_k + log N_k                        (the log joint of component k)
//   nll      = -logsumexp_k l_k = -(M + log sum_k e^(l_k - M)),  M = max_k l_k
//   gamma_k  = softmax_k(l_k) = e^(l_k - M) / sum_j e^(l_j - M)   (the responsibilities)
// Everything stays in log space: no density is formed in linear space and the loss is never
// clamped, so a target far from every mean gives a large finite nll and finite gradients.
// No subnormals (lanes.ts says how and why): the softmaxes take e^x below 2^-70 as 0, so pi and
// gamma are 0 or at least 2^-80, which keeps the gradient's terms normal.
//
// Backward, one row (Bishop eqs. 5.155-5.157 through the responsibilities):
//   d nll / d logit_k = pi_k - gamma_k
//   d nll / d theta_k = -gamma_k d log N_k / d theta_k   for theta_k = mu_k and the sigma block:
//                       the component's grad4 writes scale times these, given scale gamma_k.
//
// Vectorisation: the four lanes hold four rows n..n+3, and every loop over k and d runs on those
// vectors, so lane j performs exactly the operations of the scalar twin on row n + j, in the same
// order: SIMD and scalar results are bit-identical. Rows are P floats apart, so a block of four
// rows is first transposed into a tile of P columns (lanes.ts: column j of the block in one
// vector, moved with v128 loads and shuffles), read from there with plain vector loads, and the
// gradient goes back the same way; in exchange there are no horizontal reductions, every exp and
// log is a vector op whatever K is, and the K sums run down the lanes. Measured against lanes over
// components (N = 1024, V8): forward 1.7x faster at K = 4, D = 2 and 2x at K = 5, D = 1. When N is
// not a multiple of 4 the last block has fewer live lanes; dead lanes repeat the last live row and
// are never stored. exp and log are the bit-reproducible polynomials of simdmath.ts.
//
// Training passes da, fusing the backward into the forward: in the same block of four rows it runs
// on what the forward left in the tiles (pi from the softmax's exps, and whatever the component
// keeps: 1/sigma, the floor mask, L^-1 (y - mu)), so nothing is recomputed or gathered twice.
// Its scalar twin runs the same formulas one row and one component at a time, recomputing.
//
// Work region, in 16-byte vectors (src/engine/head.ts workFloats mirrors it; tests guard its end):
//   ROW (P)   the row tile: logits (K) then log pi or pi or d logits; mu (K*D) then d mu; s (K*Sk)
//             then the component's cache or d s
//   G (K)     e^(logit - m), then the log joints, then gamma
//   Y (D)     the targets
//   C (K*Ck)  each component's cache (Ck = cacheVectors(D))
//   NLL (1)   the block's nll
//   W         the component's shared scratch (sharedVectors(D))

import { log_f32, log_f32x4 } from "./simdmath";
import {
  check_contract, check_loss, check_optional, HALF_LOG_2PI, HEAD_FLOOR, HEAD_SCALE, LOGN_MIN, max_f32, normalize_joint_f32, pmax_f32, scatter,
  softmax_exp_f32, softmax_exp_f32x4, softmax_tile, sum_exp_f32, sum_lanes_f64, tile_load, tile_max, tile_store
} from "./lanes";
import { Iso } from "./mixture_iso";
import { Diag } from "./mixture_diag";
import { Full } from "./mixture_full";

// ---------------------------------------------------------------------------------------------
// The kernels, one pair per covariance type and their scalar twins (src/engine/kernels.ts
// MixtureKernels, MixtureTestKernels):
//   mixture_<t>_forward (loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work)
//     nll (N), gamma (N, K) and loss = sum_n nll_n (one f64) from a (N, P) and y (N, D); unless da
//     is 0, also da (N, P) += scale * d nll_n / d a_n in the same pass (the training step).
//   mixture_<t>_params (pi, mu, sigma, a, N, K, D, sigmaAct, hs, work)
//     pi (N, K) = softmax(logits), mu (N, K, D) as it is, sigma (N, K, Sk) the activated block.

export function mixture_iso_forward(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  drive<Iso>(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
}
export function mixture_iso_params(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  params<Iso>(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
}
export function mixture_diag_forward(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  drive<Diag>(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
}
export function mixture_diag_params(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  params<Diag>(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
}
export function mixture_full_forward(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  drive<Full>(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
}
export function mixture_full_params(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  params<Full>(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
}

export function mixture_iso_forward_scalar(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  drive_scalar<Iso>(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
}
export function mixture_iso_params_scalar(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  params_scalar<Iso>(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
}
export function mixture_diag_forward_scalar(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  drive_scalar<Diag>(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
}
export function mixture_diag_params_scalar(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  params_scalar<Diag>(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
}
export function mixture_full_forward_scalar(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  drive_scalar<Full>(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
}
export function mixture_full_params_scalar(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  params_scalar<Full>(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
}

// ---------------------------------------------------------------------------------------------
// The driver. A component C is a stateless class (no fields, never allocated): the driver calls
// its methods on a null reference, which reads nothing, and binaryen inlines every call.

/** The forward, and unless da is 0 the backward in the same pass. */
function drive<C>(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  check_contract(nll, gamma, a, y, N, K, D, sigmaAct, hs, work);
  check_optional(da);
  check_loss(loss);
  const c = changetype<C>(0);
  const Sk = c.size(D);
  const Ck = c.cacheVectors(D);
  const P = K + K * D + K * Sk;
  const rs = <usize>P << 2; // row strides in bytes: a, y
  const ys = <usize>D << 2;
  const X = work; // ROW's logits
  const MU = X + (<usize>K << 4);
  const S = MU + (<usize>(K * D) << 4);
  const G = S + (<usize>(K * Sk) << 4);
  const Y = G + (<usize>K << 4);
  const CC = Y + (<usize>D << 4);
  const NLL = CC + (<usize>(K * Ck) << 4); // the block's nll
  const W = NLL + 16; // the component's shared scratch
  const floor = load<f32>(hs, HEAD_FLOOR);
  const floorV = f32x4.splat(floor);
  const logFloor = f32x4.splat(log_f32(floor));
  const cV = f32x4.splat(<f32>D * HALF_LOG_2PI);
  const scaleV = f32x4.splat(da ? load<f32>(hs, HEAD_SCALE) : 0);
  let total: f64 = 0;
  for (let n = 0; n < N; n += 4) {
    const m = N - n; // live lanes (rows) in this block, >= 4 except in the tail
    const a_n = a + ((<usize>n * <usize>P) << 2);
    tile_load(X, a_n, rs, P, m);
    tile_load(Y, y + ((<usize>n * <usize>D) << 2), ys, D, m);

    // log_softmax of the logits: x_k = logit_k - m1 stays in X and e^(x_k) goes to G, so that
    // pi_k = e^(x_k) / S1 needs no second exp.
    const m1 = tile_max(X, K);
    let S1 = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 4;
      const x = f32x4.sub(v128.load(X + o), m1);
      const e = softmax_exp_f32x4(x);
      v128.store(X + o, x);
      v128.store(G + o, e);
      S1 = f32x4.add(S1, e);
    }
    const logS1 = log_f32x4(S1);

    for (let k = 0; k < K; k++) {
      const o = <usize>k << 4;
      let logN = c.logN4(MU + (<usize>(k * D) << 4), S + (<usize>(k * Sk) << 4), CC + (<usize>(k * Ck) << 4), W, Y, D, sigmaAct, floorV, logFloor, cV, da != 0);
      // pmax(bound, x) = bound < x ? x : bound: -Inf and NaN (not > anything) take the bound too.
      if (!da) logN = f32x4.pmax(f32x4.splat(LOGN_MIN), logN);
      const l = f32x4.add(f32x4.sub(v128.load(X + o), logS1), logN);
      if (da) v128.store(X + o, f32x4.div(v128.load(G + o), S1)); // pi
      v128.store(G + o, l);
    }

    // gamma = softmax of the log joint, nll = -logsumexp; summed in row order like the scalar twin.
    softmax_tile(G, K, NLL);
    tile_store(gamma + ((<usize>n * <usize>K) << 2), <usize>K << 2, G, K, m, false);
    const nllV = v128.load(NLL);
    scatter(nll + (<usize>n << 2), 4, nllV, m);
    total = sum_lanes_f64(total, nllV, m);
    if (!da) continue;

    // d logits = scale (pi - gamma) over pi in X; the component turns mu and its block into their
    // gradients; the whole row tile is then added to da.
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 4;
      const g = v128.load(G + o);
      v128.store(X + o, f32x4.mul(scaleV, f32x4.sub(v128.load(X + o), g)));
      c.grad4(MU + (<usize>(k * D) << 4), S + (<usize>(k * Sk) << 4), CC + (<usize>(k * Ck) << 4), W, Y, D, sigmaAct, floorV, logFloor, f32x4.mul(scaleV, g));
    }
    tile_store(da + ((<usize>n * <usize>P) << 2), rs, X, P, m, true);
  }
  store<f64>(loss, total);
}

/** Scalar twin of drive: the same formulas, one row and one component at a time. */
function drive_scalar<C>(loss: usize, nll: usize, gamma: usize, da: usize, a: usize, y: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  check_contract(nll, gamma, a, y, N, K, D, sigmaAct, hs, work);
  check_optional(da);
  check_loss(loss);
  const c = changetype<C>(0);
  const Sk = c.size(D);
  const P = K + K * D + K * Sk;
  const floor = load<f32>(hs, HEAD_FLOOR);
  const logFloor = log_f32(floor);
  const cD = <f32>D * HALF_LOG_2PI;
  const scale = da ? load<f32>(hs, HEAD_SCALE) : 0;
  let total: f64 = 0;
  for (let n = 0; n < N; n++) {
    const row = (<usize>n * <usize>P) << 2;
    const logit_n = a + row;
    const mu_n = logit_n + (<usize>K << 2);
    const s_n = mu_n + (<usize>(K * D) << 2);
    const y_n = y + ((<usize>n * <usize>D) << 2);
    const gamma_n = gamma + ((<usize>n * <usize>K) << 2);

    // log_softmax of the logits: subtract the max so no e^(...) overflows.
    const m1 = max_f32(logit_n, K);
    const S1 = sum_exp_f32(logit_n, K, m1);
    const logS1 = log_f32(S1);

    // The log joint l_k = log pi_k + log N_k, written to gamma_n as scratch.
    let M: f32 = -Infinity;
    for (let k = 0; k < K; k++) {
      const logPi = (load<f32>(logit_n + (<usize>k << 2)) - m1) - logS1;
      const logN = c.logN(mu_n + (<usize>(k * D) << 2), s_n + (<usize>(k * Sk) << 2), y_n, work, D, sigmaAct, floor, logFloor, cD);
      const l = logPi + (da ? logN : pmax_f32(LOGN_MIN, logN));
      store<f32>(gamma_n + (<usize>k << 2), l);
      M = pmax_f32(M, l);
    }

    // logsumexp over components with the max subtracted; gamma = softmax of the log joint.
    const nll_n = normalize_joint_f32(gamma_n, K, M);
    store<f32>(nll + (<usize>n << 2), nll_n);
    total += <f64>nll_n;
    if (!da) continue;

    const dlogit_n = da + row;
    const dmu_n = dlogit_n + (<usize>K << 2);
    const ds_n = dmu_n + (<usize>(K * D) << 2);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      const g = load<f32>(gamma_n + o);
      // d nll / d logit_k = pi_k - gamma_k (the softmax Jacobian contracted with gamma).
      const pi = softmax_exp_f32(load<f32>(logit_n + o) - m1) / S1;
      store<f32>(dlogit_n + o, load<f32>(dlogit_n + o) + scale * (pi - g));
      const mo = <usize>(k * D) << 2, so = <usize>(k * Sk) << 2;
      c.grad(dmu_n + mo, ds_n + so, mu_n + mo, s_n + so, y_n, work, D, sigmaAct, floor, logFloor, scale * g);
    }
  }
  store<f64>(loss, total);
}

/** pi (N, K) = softmax(logits), mu (N, K, D) as it is, sigma (N, K, Sk) = the activated block. */
function params<C>(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  check_contract(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
  const c = changetype<C>(0);
  const Sk = c.size(D);
  const P = K + K * D + K * Sk;
  const rs = <usize>P << 2;
  const X = work;
  const S = X + (<usize>K << 4);
  const floorV = f32x4.splat(load<f32>(hs, HEAD_FLOOR));
  const muBytes = <usize>(K * D) << 2;
  for (let n = 0; n < N; n += 4) {
    const m = N - n;
    const a_n = a + <usize>n * rs;
    tile_load(X, a_n, rs, K, m);
    softmax_tile(X, K, 0);
    tile_store(pi + ((<usize>n * <usize>K) << 2), <usize>K << 2, X, K, m, false);
    tile_load(S, a_n + (<usize>(K + K * D) << 2), rs, K * Sk, m);
    for (let k = 0; k < K; k++) c.activate4(S + (<usize>(k * Sk) << 4), D, sigmaAct, floorV);
    tile_store(sigma + ((<usize>n * <usize>(K * Sk)) << 2), <usize>(K * Sk) << 2, S, K * Sk, m, false);
    // mu is the middle block of each row of a, copied as it is.
    for (let r = 0; r < min(m, 4); r++) copy_f32(mu + <usize>(n + r) * muBytes, a_n + <usize>r * rs + (<usize>K << 2), K * D);
  }
}

/**
 * n floats from src to dst. memory.copy costs a runtime call in V8 (~15 ns, memory.ts gather_rows),
 * more than a few vector moves for a narrow mu block.
 */
// @ts-ignore: decorator
@inline
function copy_f32(dst: usize, src: usize, n: i32): void {
  if (n > 16) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
}

/** Scalar twin of params. */
function params_scalar<C>(pi: usize, mu: usize, sigma: usize, a: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  check_contract(pi, mu, sigma, a, N, K, D, sigmaAct, hs, work);
  const c = changetype<C>(0);
  const Sk = c.size(D);
  const P = K + K * D + K * Sk;
  const floor = load<f32>(hs, HEAD_FLOOR);
  for (let n = 0; n < N; n++) {
    const logit_n = a + ((<usize>n * <usize>P) << 2);
    const mu_src = logit_n + (<usize>K << 2);
    const s_n = mu_src + (<usize>(K * D) << 2);
    const pi_n = pi + ((<usize>n * <usize>K) << 2);
    const mu_n = mu + ((<usize>n * <usize>(K * D)) << 2);
    const sigma_n = sigma + ((<usize>n * <usize>(K * Sk)) << 2);
    const m1 = max_f32(logit_n, K);
    const S1 = sum_exp_f32(logit_n, K, m1);
    for (let k = 0; k < K; k++) store<f32>(pi_n + (<usize>k << 2), softmax_exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1) / S1);
    for (let j = 0; j < K * D; j++) store<f32>(mu_n + (<usize>j << 2), load<f32>(mu_src + (<usize>j << 2)));
    for (let k = 0; k < K; k++) c.activate(sigma_n + (<usize>(k * Sk) << 2), s_n + (<usize>(k * Sk) << 2), D, sigmaAct, floor);
  }
}
