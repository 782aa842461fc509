// Four rows in four lanes: the tiles, per-lane reductions and sigma activation that the mixture
// driver (mixture.ts) and its components (mixture_iso.ts, mixture_diag.ts, mixture_full.ts) share.
// Not exported from index.ts (v128 arguments). Tiles live in the work region the host plans for
// each call (src/engine/head.ts workFloats): no kernel here keeps scratch at a static address, so two
// instances over one shared memory can run them at once.

import { exp_cut_f32, exp_cut_f32x4, exp_f32, exp_f32x4, log_f32, log_f32x4, sigmoid_f32, sigmoid_f32x4, softplus_f32, softplus_f32x4 } from "./simdmath";

export const SIGMA_EXP: i32 = 0;
export const SIGMA_SOFTPLUS: i32 = 1;
export const HALF_LOG_2PI: f32 = 0.91893853320467274178; // log(2 pi) / 2
/**
 * The sigma ceiling (src/engine/head.ts SIGMA_CEILING): sigma = min(max(act(s), floor), SIGMA_CEIL), and
 * L's off-diagonal entries of the full head stay within +-SIGMA_CEIL, with zero gradient where a
 * bound holds, as below the floor. 1e18 keeps everything downstream finite: sigma^2 * D <= 2.6e38
 * in float32 for D <= 256, L L^T and the covariances in float64, and a draw mu + L eps (|eps| <=
 * 8.6 in the polar method) within half a float32 ulp of any finite mu.
 */
export const SIGMA_CEIL: f32 = 1e18;
/** ln(1e18) rounded to float32: log sigma's bound for exp. */
export const LOG_SIGMA_CEIL: f32 = 41.446533203125;
/**
 * log N_k's lower bound in reported densities (the forward without da), -2^125: a target so far
 * from a component that its float32 log density would overflow (z beyond ~8.5e37) or come out NaN
 * (full: Inf - Inf in the solve) gets this bound instead, so the log joint of the likeliest
 * component stays finite and so do the NLL and the responsibilities.
 */
export const LOGN_MIN: f32 = -4.253529586511731e37;
/** Largest K and D (config.components' and config.outputDim's bounds in src/core/config.ts). */
export const MAX_K: i32 = 1024;
export const MAX_D: i32 = 256;

// No subnormals (issue 16; simdmath.ts says why). The softmaxes (responsibilities, mixing
// weights) take every e^(t_k - max) below 2^-70 as 0 (SOFTMAX_CUT, free: exp_cut_f32x4 compares
// against its own cutoff instead of exp's), so with S in [1, K], K <= 2^10, every pi_k and gamma_k
// is 0 or at least 2^-80:
// - e / S never underflows, and the training gradient's pi_k - gamma_k is 0 or at least 2^-103
//   (both are multiples of 2^-103), so scale (pi_k - gamma_k) is 0 or normal for any batch up to
//   2^23 rows; the gradient weight scale gamma_k of a component's terms is at least 2^-80 scale, so
//   their products (with 1 / sigma, y - mu, D - z, ...) stay normal unless those factors together
//   fall below about 2^-46 scale, far outside what a fit meets;
// - what it drops changes nothing beyond rounding: a term below 2^-70 joins a sum S >= 1 whose
//   float32 spacing is 2^-23, so nll, log pi and every responsibility above the cut keep their
//   bits; a dropped responsibility is an absolute change under 1e-21 in a row summing to 1; its
//   gradient terms (under 2^-80 scale times factors of order 1) would move Adam's step by under
//   lr * 1e-24 / epsilon, below the float32 spacing of any weight over 1e-13.
/** ln 2^-70: the softmaxes' cut (exp_cut_f32 / exp_cut_f32x4 of t_k - max). */
export const SOFTMAX_CUT: f32 = -48.520302639196174;
const V_SOFTMAX_CUT: usize = memory.data<f32>([SOFTMAX_CUT, SOFTMAX_CUT, SOFTMAX_CUT, SOFTMAX_CUT], 16);

/** A softmax's e^x for x = t - max <= 0: 0 below SOFTMAX_CUT (see above). */
// @ts-ignore: decorator
@inline
export function softmax_exp_f32(x: f32): f32 {
  return exp_cut_f32(x, SOFTMAX_CUT);
}

/** softmax_exp_f32 on four lanes. */
// @ts-ignore: decorator
@inline
export function softmax_exp_f32x4(x: v128): v128 {
  return exp_cut_f32x4(x, v128.load(V_SOFTMAX_CUT));
}

// The head's settings block hs, written by the host (src/engine/head.ts HEAD_FLOOR, HEAD_SCALE) and read
// by every mixture kernel, in training and inference alike: byte offsets of its f32 slots.
/** The sigma floor, > 0. */
export const HEAD_FLOOR: usize = 0;
/** The gradient's scale (1 / rows of the batch); only the training step reads it. */
export const HEAD_SCALE: usize = 4;

// ---------------------------------------------------------------------------------------------
// Contract checks (debug builds), per-lane reductions.

// @ts-ignore: decorator
@inline
export function check_contract(p0: usize, p1: usize, p2: usize, p3: usize, N: i32, K: i32, D: i32, sigmaAct: i32, hs: usize, work: usize): void {
  assert(((p0 | p1 | p2 | p3 | hs | work) & 15) == 0, "mixture: buffers must be 16-byte aligned");
  assert(p0 != 0 && p1 != 0 && p2 != 0 && p3 != 0 && hs != 0 && work != 0, "mixture: null buffer");
  assert(N >= 0 && K >= 1 && D >= 1 && K <= MAX_K && D <= MAX_D, "mixture: sizes (K <= 1024, D <= 256)");
  assert(load<f32>(hs, HEAD_FLOOR) > 0, "mixture: sigma floor must be positive");
  assert(sigmaAct == SIGMA_EXP || sigmaAct == SIGMA_SOFTPLUS, "mixture: unknown sigma activation");
}

/** An optional output: 0 (skipped) or 16-byte aligned. */
// @ts-ignore: decorator
@inline
export function check_optional(p: usize): void {
  assert((p & 15) == 0, "mixture: buffers must be 16-byte aligned");
}

/** The forward's loss output: one f64, 8-byte aligned. */
// @ts-ignore: decorator
@inline
export function check_loss(loss: usize): void {
  assert(loss != 0 && (loss & 7) == 0, "mixture: loss must be an 8-byte aligned f64");
}

/**
 * pmax(a, b) = a < b ? b : a, lane for lane wasm's f32x4.pmax. The kernels take maxima with pmax
 * (one instruction in V8, where f32x4.max's NaN and -0 rules take eight) and the scalar twins with
 * this, so both agree bit for bit; a NaN in b is dropped, but it reaches the result through the
 * sums anyway.
 */
// @ts-ignore: decorator
@inline
export function pmax_f32(a: f32, b: f32): f32 {
  return a < b ? b : a;
}

/** pmin(a, b) = b < a ? b : a, lane for lane f32x4.pmin. */
// @ts-ignore: decorator
@inline
export function pmin_f32(a: f32, b: f32): f32 {
  return b < a ? b : a;
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

// ---------------------------------------------------------------------------------------------
// Tiles: a block of four rows with its columns transposed into lanes, column j at T + 16 j, so
// a kernel reads each column once with one v128.load instead of gathering it (four scalar loads
// and three lane inserts) every time it needs it. Whole 4 x 4 blocks move with four v128 loads
// and eight shuffles.

/** Transpose the 4 x 4 block r0..r3 and store its rows to q0..q3, adding to them if acc. */
// @ts-ignore: decorator
@inline
function transpose_store(q0: usize, q1: usize, q2: usize, q3: usize, r0: v128, r1: v128, r2: v128, r3: v128, acc: bool): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  const c0 = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5);
  const c1 = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
  const c2 = v128.shuffle<f32>(t2, t3, 0, 1, 4, 5);
  const c3 = v128.shuffle<f32>(t2, t3, 2, 3, 6, 7);
  v128.store(q0, acc ? f32x4.add(v128.load(q0), c0) : c0);
  v128.store(q1, acc ? f32x4.add(v128.load(q1), c1) : c1);
  v128.store(q2, acc ? f32x4.add(v128.load(q2), c2) : c2);
  v128.store(q3, acc ? f32x4.add(v128.load(q3), c3) : c3);
}

/**
 * Tile T (cols, 4) = the cols floats at p, p + rs, p + 2 rs, p + 3 rs (rows n..n+3), transposed.
 * Dead lanes (rows >= m) repeat row m - 1: they compute on real numbers and are never stored.
 */
export function tile_load(T: usize, p: usize, rs: usize, cols: i32, m: i32): void {
  const p1 = p + <usize>min(1, m - 1) * rs;
  const p2 = p + <usize>min(2, m - 1) * rs;
  const p3 = p + <usize>min(3, m - 1) * rs;
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const o = <usize>j << 2, t = T + (o << 2);
    transpose_store(t, t + 16, t + 32, t + 48, v128.load(p + o), v128.load(p1 + o), v128.load(p2 + o), v128.load(p3 + o), false);
  }
  for (; j < cols; j++) {
    const o = <usize>j << 2, t = T + (o << 2);
    store<f32>(t, load<f32>(p + o));
    store<f32>(t, load<f32>(p1 + o), 4);
    store<f32>(t, load<f32>(p2 + o), 8);
    store<f32>(t, load<f32>(p3 + o), 12);
  }
}

/** The m live rows at p (row stride rs bytes) = (or += if acc) tile T (cols, 4) transposed. */
export function tile_store(p: usize, rs: usize, T: usize, cols: i32, m: i32, acc: bool): void {
  let j = 0;
  if (m >= 4) {
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2, t = T + (o << 2), q = p + o;
      transpose_store(q, q + rs, q + 2 * rs, q + 3 * rs, v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48), acc);
    }
  }
  for (let r = 0; r < min(m, 4); r++) {
    const q = p + <usize>r * rs, t = T + (<usize>r << 2);
    for (let i = j; i < cols; i++) {
      const o = <usize>i << 2;
      const v = load<f32>(t + (o << 2));
      store<f32>(q + o, acc ? load<f32>(q + o) + v : v);
    }
  }
}

/** Per lane, the max of the K columns of tile T. */
// @ts-ignore: decorator
@inline
export function tile_max(T: usize, K: i32): v128 {
  let acc = f32x4.splat(-Infinity);
  for (let k = 0; k < K; k++) acc = f32x4.pmax(acc, v128.load(T + (<usize>k << 4)));
  return acc;
}

/**
 * Tile T (K columns) = softmax per lane, e^(t_k - M) / S with M = max_k t_k and
 * S = sum_k e^(t_k - M), each e^(t_k - M) below 2^-70 taken as 0 (softmax_exp_f32x4, see "No
 * subnormals"); unless nlse is 0, the vector at nlse = -(M + log S), minus the
 * log-sum-exp (the nll when T holds the log joints).
 */
export function softmax_tile(T: usize, K: i32, nlse: usize): void {
  const M = tile_max(T, K);
  let S = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const t = T + (<usize>k << 4);
    const e = softmax_exp_f32x4(f32x4.sub(v128.load(t), M));
    v128.store(t, e);
    S = f32x4.add(S, e);
  }
  for (let k = 0; k < K; k++) {
    const t = T + (<usize>k << 4);
    v128.store(t, f32x4.div(v128.load(t), S));
  }
  if (nlse) v128.store(nlse, f32x4.neg(f32x4.add(M, log_f32x4(S))));
}

/** Scalar twin of softmax_tile's normaliser: sum_k e^(logit_k - m1) over the K floats at p. */
// @ts-ignore: decorator
@inline
export function sum_exp_f32(p: usize, K: i32, m1: f32): f32 {
  let s: f32 = 0;
  for (let k = 0; k < K; k++) s += softmax_exp_f32(load<f32>(p + (<usize>k << 2)) - m1);
  return s;
}

/** Scalar twin of tile_max: the max of the K floats at p. */
// @ts-ignore: decorator
@inline
export function max_f32(p: usize, K: i32): f32 {
  let m: f32 = -Infinity;
  for (let k = 0; k < K; k++) m = pmax_f32(m, load<f32>(p + (<usize>k << 2)));
  return m;
}

/** Scalar twin of softmax_tile on the log joints of one row, in place: returns -(M + log S). */
// @ts-ignore: decorator
@inline
export function normalize_joint_f32(gamma_n: usize, K: i32, M: f32): f32 {
  let S: f32 = 0;
  for (let k = 0; k < K; k++) {
    const e = softmax_exp_f32(load<f32>(gamma_n + (<usize>k << 2)) - M);
    store<f32>(gamma_n + (<usize>k << 2), e);
    S += e;
  }
  for (let k = 0; k < K; k++) store<f32>(gamma_n + (<usize>k << 2), load<f32>(gamma_n + (<usize>k << 2)) / S);
  return -(M + log_f32(S));
}

// ---------------------------------------------------------------------------------------------
// sigma = min(max(act(s), floor), SIGMA_CEIL), its log, and d log sigma / d s (0 where the floor or
// the ceiling holds), per lane and scalar. For exp, log sigma = min(max(s, log floor), log ceiling)
// needs no log; d log sigma / d s is 1 for exp and sigmoid(s) / softplus(s) for softplus. Select,
// not multiply by a mask: where the floor holds softplus may be 0 and the quotient NaN.

// @ts-ignore: decorator
@inline
export function sigma_f32x4(s: v128, sigmaAct: i32, floorV: v128): v128 {
  return f32x4.pmin(f32x4.pmax(sigmaAct == SIGMA_EXP ? exp_f32x4(s) : softplus_f32x4(s), floorV), f32x4.splat(SIGMA_CEIL));
}

// @ts-ignore: decorator
@inline
export function log_sigma_f32x4(s: v128, sigma: v128, sigmaAct: i32, logFloor: v128): v128 {
  return sigmaAct == SIGMA_EXP ? f32x4.pmin(f32x4.pmax(s, logFloor), f32x4.splat(LOG_SIGMA_CEIL)) : log_f32x4(sigma);
}

/**
 * Lanes where a bound holds (act(s) below the floor or above the ceiling): where the bounded value
 * differs from the raw one, log sigma from s for exp, sigma from softplus(s) for softplus.
 */
// @ts-ignore: decorator
@inline
export function bound_f32x4(bounded: v128, raw: v128): v128 {
  return f32x4.ne(bounded, raw);
}

// @ts-ignore: decorator
@inline
export function dlog_sigma_f32x4(s: v128, sigmaAct: i32, logFloor: v128, floorV: v128): v128 {
  if (sigmaAct == SIGMA_EXP) return v128.bitselect(f32x4.splat(0), f32x4.splat(1), bound_f32x4(log_sigma_f32x4(s, s, sigmaAct, logFloor), s));
  const sp = softplus_f32x4(s);
  const sigma = f32x4.pmin(f32x4.pmax(sp, floorV), f32x4.splat(SIGMA_CEIL));
  return v128.bitselect(f32x4.splat(0), f32x4.div(sigmoid_f32x4(s), sp), bound_f32x4(sigma, sp));
}

/** An off-diagonal entry of L: s within +-SIGMA_CEIL. */
// @ts-ignore: decorator
@inline
export function clamp_l_f32x4(s: v128): v128 {
  return f32x4.pmin(f32x4.pmax(s, f32x4.splat(-SIGMA_CEIL)), f32x4.splat(SIGMA_CEIL));
}

// @ts-ignore: decorator
@inline
export function sigma_f32(s: f32, sigmaAct: i32, floor: f32): f32 {
  return pmin_f32(pmax_f32(sigmaAct == SIGMA_EXP ? exp_f32(s) : softplus_f32(s), floor), SIGMA_CEIL);
}

// @ts-ignore: decorator
@inline
export function log_sigma_f32(s: f32, sigma: f32, sigmaAct: i32, logFloor: f32): f32 {
  return sigmaAct == SIGMA_EXP ? pmin_f32(pmax_f32(s, logFloor), LOG_SIGMA_CEIL) : log_f32(sigma);
}

// @ts-ignore: decorator
@inline
export function dlog_sigma_f32(s: f32, sigmaAct: i32, logFloor: f32, floor: f32): f32 {
  if (sigmaAct == SIGMA_EXP) return log_sigma_f32(s, s, sigmaAct, logFloor) != s ? 0 : 1;
  const sp = softplus_f32(s);
  return pmin_f32(pmax_f32(sp, floor), SIGMA_CEIL) != sp ? 0 : sigmoid_f32(s) / sp;
}

/** Scalar twin of clamp_l_f32x4. */
// @ts-ignore: decorator
@inline
export function clamp_l_f32(s: f32): f32 {
  return pmin_f32(pmax_f32(s, -SIGMA_CEIL), SIGMA_CEIL);
}
