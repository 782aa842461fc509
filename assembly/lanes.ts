// Shared pieces of the mixture heads (mixture.ts isotropic, mixture_diag.ts, mixture_full.ts):
// the contract checks, the tiles and strided gather/scatter that put four rows in the four lanes,
// the per-lane softmax of the logits and of the log joints, and the logits' gradient. Not
// exported from index.ts (v128 arguments). The tiles are static scratch (the kernels allocate
// nothing), so these kernels are not reentrant, as nothing in one wasm instance is.

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
  assert(N >= 0 && K >= 1 && D >= 1 && K <= MAX_K && D <= MAX_D, "mixture: sizes (the tiles hold K <= 1024, D <= 256)");
  assert(floor > 0, "mixture: sigma floor must be positive");
  assert(sigmaAct == SIGMA_EXP || sigmaAct == SIGMA_SOFTPLUS, "mixture: unknown sigma activation");
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

/** The forward's loss output: one f64, 8-byte aligned. */
// @ts-ignore: decorator
@inline
export function check_loss(loss: usize): void {
  assert(loss != 0 && (loss & 7) == 0, "mixture: loss must be an 8-byte aligned f64");
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

// ---------------------------------------------------------------------------------------------
// Tiles: a block of four rows with its columns transposed into lanes, column j at T + 16 j, so
// a kernel reads each column once with one v128.load instead of gathering it (four scalar loads
// and three lane inserts) every time it needs it. Whole 4 x 4 blocks move with four v128 loads
// and eight shuffles.

/** Largest K and D (config.components' and config.outputDim's bounds in src/config.ts). */
export const MAX_K: i32 = 1024;
export const MAX_D: i32 = 256;
/** Columns in TILE_MU and TILE_S; a head with more tiles them a group of components at a time. */
export const TILE_COLS: i32 = 256;
export const TILE_LOGIT: usize = memory.data(MAX_K * 16, 16); // logits, then log pi, pi or d logits
export const TILE_GAMMA: usize = memory.data(MAX_K * 16, 16); // log joints, then gamma
export const TILE_Y: usize = memory.data(MAX_D * 16, 16);
export const TILE_MU: usize = memory.data(TILE_COLS * 16, 16); // mu, then d mu
export const TILE_S: usize = memory.data(TILE_COLS * 16, 16); // s, then d s

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
 * TILE_LOGIT = log pi = log_softmax of the logits of four rows: (logit_k - m1) - log sum_j
 * e^(logit_j - m1), m1 the max logit (the forward's part of every head).
 */
export function log_pi_f32x4(logit_n: usize, rs: usize, K: i32, m: i32): void {
  tile_load(TILE_LOGIT, logit_n, rs, K, m);
  const m1 = tile_max(TILE_LOGIT, K);
  let S1 = f32x4.splat(0);
  for (let k = 0; k < K; k++) S1 = f32x4.add(S1, exp_f32x4(f32x4.sub(v128.load(TILE_LOGIT + (<usize>k << 4)), m1)));
  const logS1 = log_f32x4(S1);
  for (let k = 0; k < K; k++) {
    const t = TILE_LOGIT + (<usize>k << 4);
    v128.store(t, f32x4.sub(f32x4.sub(v128.load(t), m1), logS1));
  }
}

/**
 * Tile T (K columns) = softmax per lane, e^(t_k - M) / S with S = sum_j e^(t_j - M) for the
 * lanes' max M given; returns S.
 */
// @ts-ignore: decorator
@inline
function softmax_tile(T: usize, K: i32, M: v128): v128 {
  let S = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const t = T + (<usize>k << 4);
    const e = exp_f32x4(f32x4.sub(v128.load(t), M));
    v128.store(t, e);
    S = f32x4.add(S, e);
  }
  for (let k = 0; k < K; k++) {
    const t = T + (<usize>k << 4);
    v128.store(t, f32x4.div(v128.load(t), S));
  }
  return S;
}

/** TILE_LOGIT = pi = softmax of the logits of four rows, e^(logit_k - m1) / sum_j e^(logit_j - m1). */
export function pi_f32x4(logit_n: usize, rs: usize, K: i32, m: i32): void {
  tile_load(TILE_LOGIT, logit_n, rs, K, m);
  softmax_tile(TILE_LOGIT, K, tile_max(TILE_LOGIT, K));
}

/**
 * d logits (4 rows) += scale * (pi - gamma) for every component: the mixing-weight part of every
 * head's backward (Bishop 5.155). Leaves the rows' gamma in TILE_GAMMA for the caller.
 */
export function logits_backward_f32x4(dlogit_n: usize, logit_n: usize, gamma_n: usize, rs: usize, gs: usize, K: i32, m: i32, scaleV: v128): void {
  pi_f32x4(logit_n, rs, K, m);
  tile_load(TILE_GAMMA, gamma_n, gs, K, m);
  for (let k = 0; k < K; k++) {
    const o = <usize>k << 4;
    v128.store(TILE_LOGIT + o, f32x4.mul(scaleV, f32x4.sub(v128.load(TILE_LOGIT + o), v128.load(TILE_GAMMA + o))));
  }
  tile_store(dlogit_n, rs, TILE_LOGIT, K, m, true);
}

/** Scalar twin of logits_max_f32x4: the max of the K logits at logit_n. */
// @ts-ignore: decorator
@inline
export function logits_max_f32(logit_n: usize, K: i32): f32 {
  let m1: f32 = -Infinity;
  for (let k = 0; k < K; k++) m1 = pmax_f32(m1, load<f32>(logit_n + (<usize>k << 2)));
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
  return f32x4.pmax(sigmaAct == SIGMA_EXP ? exp_f32x4(s) : softplus_f32x4(s), floorV);
}

// @ts-ignore: decorator
@inline
export function log_sigma_f32x4(s: v128, sigma: v128, sigmaAct: i32, logFloor: v128): v128 {
  return sigmaAct == SIGMA_EXP ? f32x4.pmax(s, logFloor) : log_f32x4(sigma);
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
  return pmax_f32(sigmaAct == SIGMA_EXP ? exp_f32(s) : softplus_f32(s), floor);
}

// @ts-ignore: decorator
@inline
export function log_sigma_f32(s: f32, sigma: f32, sigmaAct: i32, logFloor: f32): f32 {
  return sigmaAct == SIGMA_EXP ? pmax_f32(s, logFloor) : log_f32(sigma);
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
 * Turn the log joints l of four rows in TILE_GAMMA (K columns) into responsibilities, store them
 * to gamma_n (row stride K) and return -logsumexp per lane:
 * gamma_k = e^(l_k - M) / sum_j e^(l_j - M), M = max_k l_k given.
 */
export function normalize_joint_f32x4(gamma_n: usize, K: i32, m: i32, M: v128): v128 {
  const S = softmax_tile(TILE_GAMMA, K, M);
  tile_store(gamma_n, <usize>K << 2, TILE_GAMMA, K, m, false);
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
