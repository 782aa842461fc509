// Shared pieces of the mixture heads (mixture.ts isotropic, mixture_diag.ts, mixture_full.ts):
// the contract check, the strided gather/scatter that puts four rows in the four lanes, and the
// per-lane log-softmax reductions over the logits. Not exported from index.ts (v128 arguments).

import { exp_f32, exp_f32x4, log_f32, log_f32x4, sigmoid_f32, sigmoid_f32x4, softplus_f32, softplus_f32x4 } from "./simdmath";

export const SIGMA_EXP: i32 = 0;
export const SIGMA_SOFTPLUS: i32 = 1;
export const HALF_LOG_2PI: f32 = 0.91893853320467274178; // log(2 pi) / 2

// ---------------------------------------------------------------------------------------------
// Contract checks (debug builds), strided gather/scatter for the row lanes, per-lane reductions.

// @ts-ignore: decorator
@inline
export function check_contract(p0: usize, p1: usize, p2: usize, p3: usize, N: i32, K: i32, D: i32, floor: f32, sigmaAct: i32): void {
  assert(((p0 | p1 | p2 | p3) & 15) == 0, "mixture: buffers must be 16-byte aligned");
  assert(p0 != 0 && p1 != 0 && p2 != 0 && p3 != 0, "mixture: null buffer");
  assert(N >= 0 && K >= 1 && D >= 1, "mixture: sizes");
  assert(floor > 0, "mixture: sigma floor must be positive");
  assert(sigmaAct == SIGMA_EXP || sigmaAct == SIGMA_SOFTPLUS, "mixture: unknown sigma activation");
}

/** Lane j (j < m) = the float at p + j * stride bytes; the other lanes = 0. */
// @ts-ignore: decorator
@inline
export function gather(p: usize, stride: usize, m: i32): v128 {
  if (m >= 4) {
    let v = f32x4.splat(load<f32>(p));
    v = f32x4.replace_lane(v, 1, load<f32>(p + stride));
    v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * stride));
    return f32x4.replace_lane(v, 3, load<f32>(p + 3 * stride));
  }
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (m > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + stride));
  if (m > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * stride));
  return v;
}

/** Store lane j (j < m) of v to p + j * stride bytes. */
// @ts-ignore: decorator
@inline
export function scatter(p: usize, stride: usize, v: v128, m: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (m > 1) store<f32>(p + stride, f32x4.extract_lane(v, 1));
  if (m > 2) store<f32>(p + 2 * stride, f32x4.extract_lane(v, 2));
  if (m > 3) store<f32>(p + 3 * stride, f32x4.extract_lane(v, 3));
}

/** Per lane, the max of the K logits at logit_n (row stride rs bytes). */
// @ts-ignore: decorator
@inline
export function logits_max_f32x4(logit_n: usize, rs: usize, K: i32, m: i32): v128 {
  let acc = f32x4.splat(-Infinity);
  for (let k = 0; k < K; k++) acc = f32x4.max(acc, gather(logit_n + (<usize>k << 2), rs, m));
  return acc;
}

/** Per lane, sum_k e^(logit_k - m1) with m1 the lane's max logit. */
// @ts-ignore: decorator
@inline
export function logits_sum_exp_f32x4(logit_n: usize, rs: usize, K: i32, m: i32, m1: v128): v128 {
  let acc = f32x4.splat(0);
  for (let k = 0; k < K; k++) acc = f32x4.add(acc, exp_f32x4(f32x4.sub(gather(logit_n + (<usize>k << 2), rs, m), m1)));
  return acc;
}

/**
 * d logits (4 rows) += scale * (pi - gamma) for every component: the mixing-weight part of every
 * head's backward (Bishop 5.155), with pi recomputed from the logits by a stable softmax.
 */
// Not inlined: one copy serves the three heads (it runs once per 4 rows, so the call is cheap).
export function logits_backward_f32x4(dlogit_n: usize, logit_n: usize, gamma_n: usize, rs: usize, gs: usize, K: i32, m: i32, scaleV: v128): void {
  const m1 = logits_max_f32x4(logit_n, rs, K, m);
  const S1 = logits_sum_exp_f32x4(logit_n, rs, K, m, m1);
  for (let k = 0; k < K; k++) {
    const o = <usize>k << 2;
    const g = gather(gamma_n + o, gs, m);
    const pi = f32x4.div(exp_f32x4(f32x4.sub(gather(logit_n + o, rs, m), m1)), S1);
    scatter(dlogit_n + o, rs, f32x4.add(gather(dlogit_n + o, rs, m), f32x4.mul(scaleV, f32x4.sub(pi, g))), m);
  }
}


/** Scalar twin of logits_max_f32x4: the max of the K logits at logit_n. */
// @ts-ignore: decorator
@inline
export function logits_max_f32(logit_n: usize, K: i32): f32 {
  let m1: f32 = -Infinity;
  for (let k = 0; k < K; k++) m1 = max<f32>(m1, load<f32>(logit_n + (<usize>k << 2)));
  return m1;
}

/** Scalar twin of logits_sum_exp_f32x4: sum_k e^(logit_k - m1). */
// @ts-ignore: decorator
@inline
export function logits_sum_exp_f32(logit_n: usize, K: i32, m1: f32): f32 {
  let s1: f32 = 0;
  for (let k = 0; k < K; k++) s1 += exp_f32(load<f32>(logit_n + (<usize>k << 2)) - m1);
  return s1;
}

// ---------------------------------------------------------------------------------------------
// sigma = max(act(s), floor), its log, and d log sigma / d s (0 where the floor holds), per lane
// and scalar. For exp, log sigma = max(s, log floor) needs no log; d log sigma / d s is 1 for exp
// and sigmoid(s) / softplus(s) for softplus. Select, not multiply by a mask: where the floor holds
// softplus may be 0 and the quotient NaN.

// @ts-ignore: decorator
@inline
export function sigma_f32x4(s: v128, sigmaAct: i32, floorV: v128): v128 {
  return f32x4.max(sigmaAct == SIGMA_EXP ? exp_f32x4(s) : softplus_f32x4(s), floorV);
}

// @ts-ignore: decorator
@inline
export function log_sigma_f32x4(s: v128, sigma: v128, sigmaAct: i32, logFloor: v128): v128 {
  return sigmaAct == SIGMA_EXP ? f32x4.max(s, logFloor) : log_f32x4(sigma);
}

// @ts-ignore: decorator
@inline
export function dlog_sigma_f32x4(s: v128, sigmaAct: i32, logFloor: v128, floorV: v128): v128 {
  if (sigmaAct == SIGMA_EXP) return v128.bitselect(f32x4.splat(0), f32x4.splat(1), f32x4.lt(s, logFloor));
  const sp = softplus_f32x4(s);
  return v128.bitselect(f32x4.splat(0), f32x4.div(sigmoid_f32x4(s), sp), f32x4.lt(sp, floorV));
}

// @ts-ignore: decorator
@inline
export function sigma_f32(s: f32, sigmaAct: i32, floor: f32): f32 {
  return max<f32>(sigmaAct == SIGMA_EXP ? exp_f32(s) : softplus_f32(s), floor);
}

// @ts-ignore: decorator
@inline
export function log_sigma_f32(s: f32, sigma: f32, sigmaAct: i32, logFloor: f32): f32 {
  return sigmaAct == SIGMA_EXP ? max<f32>(s, logFloor) : log_f32(sigma);
}

// @ts-ignore: decorator
@inline
export function dlog_sigma_f32(s: f32, sigmaAct: i32, logFloor: f32, floor: f32): f32 {
  if (sigmaAct == SIGMA_EXP) return s < logFloor ? 0 : 1;
  const sp = softplus_f32(s);
  return sp < floor ? 0 : sigmoid_f32(s) / sp;
}

/** Sum the m live lanes of v into total in lane (row) order, as a scalar twin does. */
// @ts-ignore: decorator
@inline
export function sum_lanes_f64(total: f64, v: v128, m: i32): f64 {
  total += <f64>f32x4.extract_lane(v, 0);
  if (m > 1) total += <f64>f32x4.extract_lane(v, 1);
  if (m > 2) total += <f64>f32x4.extract_lane(v, 2);
  if (m > 3) total += <f64>f32x4.extract_lane(v, 3);
  return total;
}

/**
 * Turn the log joints l (K per row, row stride K) into responsibilities in place and return
 * -logsumexp per lane: gamma_k = e^(l_k - M) / sum_j e^(l_j - M), M = max_k l_k given.
 */
// @ts-ignore: decorator
@inline
export function normalize_joint_f32x4(gamma_n: usize, K: i32, m: i32, M: v128): v128 {
  const gs = <usize>K << 2;
  let S = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const o = <usize>k << 2;
    const e = exp_f32x4(f32x4.sub(gather(gamma_n + o, gs, m), M));
    scatter(gamma_n + o, gs, e, m);
    S = f32x4.add(S, e);
  }
  for (let k = 0; k < K; k++) {
    const o = <usize>k << 2;
    scatter(gamma_n + o, gs, f32x4.div(gather(gamma_n + o, gs, m), S), m);
  }
  return f32x4.neg(f32x4.add(M, log_f32x4(S)));
}

/** Scalar twin of normalize_joint_f32x4 for one row. */
// @ts-ignore: decorator
@inline
export function normalize_joint_f32(gamma_n: usize, K: i32, M: f32): f32 {
  let S: f32 = 0;
  for (let k = 0; k < K; k++) {
    const e = exp_f32(load<f32>(gamma_n + (<usize>k << 2)) - M);
    store<f32>(gamma_n + (<usize>k << 2), e);
    S += e;
  }
  for (let k = 0; k < K; k++) store<f32>(gamma_n + (<usize>k << 2), load<f32>(gamma_n + (<usize>k << 2)) / S);
  return -(M + log_f32(S));
}
