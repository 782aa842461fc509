// The elementwise part of a hidden layer in one pass: activation (relu, tanh or linear, see
// activation.ts) then inverted dropout (Srivastava et al. 2014; Keras `Dropout`). During training
// each element is kept with probability 1 - rate and scaled by 1 / (1 - rate), so the expected
// output equals the activation and inference is the activation alone (rate 0).
//
// Dimension legend: n floats (a whole (N, O) activation buffer, treated as flat).
//
// Forward, with h = act(inp) and m = the dropout mask (1 everywhere when rate is 0):
//   out[i]   = h[i] * m[i]
//   deriv[i] = act'(inp[i]) * m[i]                  (d out / d inp: the only cache backward needs)
// where act' is relu: inp > 0 ? 1 : 0 (the kink gets 0, as in Keras), tanh: 1 - h^2, linear: 1.
// Backward (single writer: dinp is written, not accumulated):
//   dinp[i]  = deriv[i] != 0 ? dout[i] * deriv[i] : 0     (selected, so an infinite dout on a dead
//                                                         or dropped unit gives exactly 0, not NaN)
//
// The mask. A call with rate > 0 draws 16 numbers from the library generator (random.ts) and uses
// them as the states of four independent xoshiro128** streams ("lanes"): lane j takes draws
// 4j .. 4j+3 as its words s0 .. s3 (a lane that came out all zero, xoshiro's one bad state, gets
// s0 = 1, as in rng_seed). Element i uses lane i % 4, whose t-th output serves element 4t + i % 4.
// From an output x (u32), u = (x >>> 8) * 2^-24 is uniform on the multiples of 2^-24 in [0, 1) and
//   m[i] = u >= rate ? scale : 0,    scale = 1 / (1 - rate) rounded once to float32.
// Since u is a multiple of 2^-24 and rate a float32, u >= rate exactly when x >= T << 8 with
// T = ceil(rate * 2^24) (an integer compare; T << 8 < 2^32 because rate < 1).
// So the generator advances by exactly 16 draws per call whatever n is, its state stays 4 u32
// (model files and checkpoints are unchanged), and a seed still fixes every mask on every engine.
// Four streams in one v128 draw four numbers per xoshiro step (relu then dropout on 4096 floats:
// 5.4 us, against 1.4 + 9.1 us for separate relu and scalar-generator dropout kernels); a rate-0
// call draws nothing.
//
// The scalar twins carry the explanations; the SIMD kernels do the same float32 operations on
// f32x4 (the scalar forward walks one lane's elements at a time, the SIMD one all four lanes at
// once, which gives each element the same draw), so the two agree bit for bit.

import { rng_next_u32 } from "./random";
import { tanh_f32, tanh_f32x4 } from "./activation";

export const ACT_RELU: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_LINEAR: i32 = 2;

// @ts-ignore: decorator
@inline
function aligned(ptr: usize): bool {
  return (ptr & 15) == 0;
}

/** x >= keepFrom keeps the element: keepFrom = ceil(rate * 2^24) << 8 (header). */
// @ts-ignore: decorator
@inline
function keep_from(rate: f32): u32 {
  return <u32>Math.ceil(<f64>rate * 16777216.0) << 8;
}

/** act(x) for one float. */
// @ts-ignore: decorator
@inline
function act_f32(x: f32, act: i32): f32 {
  if (act == ACT_RELU) return max<f32>(x, 0);
  if (act == ACT_TANH) return tanh_f32(x);
  return x;
}

/** act'(x) for one float, given h = act(x). */
// @ts-ignore: decorator
@inline
function act_deriv_f32(x: f32, h: f32, act: i32): f32 {
  if (act == ACT_RELU) return x > 0 ? 1 : 0;
  if (act == ACT_TANH) return <f32>1.0 - h * h;
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Forward

/** out (n) = act(inp (n)) * mask; deriv (n) = act'(inp) * mask unless deriv is 0; see header. */
export function act_dropout_forward_scalar(out: usize, deriv: usize, inp: usize, n: i32, act: i32, rate: f32, state: usize): void {
  assert(rate >= 0 && rate < 1 && n >= 0);
  if (rate == 0) {
    for (let i = 0; i < n; i++) {
      const off = <usize>i << 2;
      const x = load<f32>(inp + off);
      const h = act_f32(x, act);
      store<f32>(out + off, h);
      if (deriv != 0) store<f32>(deriv + off, act_deriv_f32(x, h, act));
    }
    return;
  }
  const scale = <f32>1.0 / (<f32>1.0 - rate);
  const from = keep_from(rate);
  for (let j = 0; j < 4; j++) {
    // Lane j's state: draws 4j .. 4j+3 of the library generator.
    let s0 = rng_next_u32(state), s1 = rng_next_u32(state), s2 = rng_next_u32(state), s3 = rng_next_u32(state);
    if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
    // Lane j serves elements j, j + 4, j + 8, ...: its t-th output decides element 4t + j.
    for (let i = j; i < n; i += 4) {
      // One xoshiro128** step (Blackman & Vigna 2018), as rng_next_u32.
      const bits = rotl<u32>(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
      const m: f32 = bits >= from ? scale : 0;
      const off = <usize>i << 2;
      const x = load<f32>(inp + off);
      const h = act_f32(x, act);
      store<f32>(out + off, h * m);
      if (deriv != 0) store<f32>(deriv + off, act_deriv_f32(x, h, act) * m);
    }
  }
}

/** SIMD transcription of act_dropout_forward_scalar: the four lanes of a vector are the four streams. */
export function act_dropout_forward(out: usize, deriv: usize, inp: usize, n: i32, act: i32, rate: f32, state: usize): void {
  assert(aligned(out) && aligned(deriv) && aligned(inp) && n >= 0);
  assert(rate >= 0 && rate < 1);
  // Lane j of word w is draw 4j + w, so lane j holds the scalar twin's lane-j state. Round j
  // rotates every lane down by one and writes lane 3, so after four rounds lane j holds round j's
  // words.
  const zero = f32x4.splat(0);
  let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
  if (rate > 0) {
    for (let j = 0; j < 4; j++) {
      s0 = i32x4.replace_lane(v128.shuffle<u32>(s0, s0, 1, 2, 3, 0), 3, <i32>rng_next_u32(state));
      s1 = i32x4.replace_lane(v128.shuffle<u32>(s1, s1, 1, 2, 3, 0), 3, <i32>rng_next_u32(state));
      s2 = i32x4.replace_lane(v128.shuffle<u32>(s2, s2, 1, 2, 3, 0), 3, <i32>rng_next_u32(state));
      s3 = i32x4.replace_lane(v128.shuffle<u32>(s3, s3, 1, 2, 3, 0), 3, <i32>rng_next_u32(state));
    }
    const bad = i32x4.eq(v128.or(v128.or(s0, s1), v128.or(s2, s3)), zero);
    s0 = v128.or(s0, v128.and(bad, i32x4.splat(1)));
  }
  // One loop per activation, and for relu (the common hidden activation, often without dropout)
  // one per dropping or not, each with its branches resolved at compile time: a loop that
  // branches on them per vector keeps its vectors in memory and runs 3x slower. The tanh and
  // linear loops always step the streams: at rate 0 they are unseeded (all zero) and the
  // threshold is 0, so every mask lane is exactly 1. A rate-0 tanh or linear layer thus pays for
  // the step (about 3 us per 4096 floats) so that the module keeps within its size budget.
  if (act == ACT_RELU) {
    if (rate > 0) forward_f32x4(out, deriv, inp, n, ACT_RELU, true, rate, s0, s1, s2, s3);
    else forward_f32x4(out, deriv, inp, n, ACT_RELU, false, rate, s0, s1, s2, s3);
  } else if (act == ACT_TANH) forward_f32x4(out, deriv, inp, n, ACT_TANH, true, rate, s0, s1, s2, s3);
  else forward_f32x4(out, deriv, inp, n, ACT_LINEAR, true, rate, s0, s1, s2, s3);
}

/**
 * act_dropout_forward for one activation act (a constant where called), drawing masks from the
 * streams s0 .. s3 when dropping (also a constant).
 */
// @ts-ignore: decorator
@inline
function forward_f32x4(
  out: usize, deriv: usize, inp: usize, n: i32, act: i32, dropping: bool, rate: f32,
  s0: v128, s1: v128, s2: v128, s3: v128,
): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const scale4 = f32x4.splat(<f32>1.0 / (<f32>1.0 - rate));
  const from = i32x4.splat(keep_from(rate));
  // h, d outlive the loop: a partial last vector breaks out with them, and its lanes are stored
  // after the loop (a call inside the loop, even one not taken, makes the vectors spill).
  let h = zero, d = zero;
  let i = 0;
  for (; i < n; i += 4) {
    const x = v128.load(inp + (<usize>i << 2));
    if (act == ACT_RELU) {
      h = f32x4.max(x, zero);
      d = v128.and(one, f32x4.gt(x, zero));
    } else if (act == ACT_TANH) {
      h = tanh_f32x4(x);
      d = f32x4.sub(one, f32x4.mul(h, h));
    } else {
      h = x;
      d = one;
    }
    if (dropping) {
      // xoshiro128** on all four lanes.
      const p = i32x4.mul(s1, i32x4.splat(5));
      const bits = i32x4.mul(v128.or(i32x4.shl(p, 7), i32x4.shr_u(p, 25)), i32x4.splat(9));
      const t = i32x4.shl(s1, 9);
      s2 = v128.xor(s2, s0); s3 = v128.xor(s3, s1); s1 = v128.xor(s1, s2); s0 = v128.xor(s0, s3);
      s2 = v128.xor(s2, t); s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
      const m = v128.and(scale4, i32x4.ge_u(bits, from));
      h = f32x4.mul(h, m);
      d = f32x4.mul(d, m);
    }
    if (i + 4 > n) break;
    v128.store(out + (<usize>i << 2), h);
    if (deriv != 0) v128.store(deriv + (<usize>i << 2), d);
  }
  if (i < n) {
    store_tail(out + (<usize>i << 2), h, n - i);
    if (deriv != 0) store_tail(deriv + (<usize>i << 2), d, n - i);
  }
}

/** Store the first m (1 to 3) lanes of v at p: the last n % 4 elements (the rest is not ours). */
function store_tail(p: usize, v: v128, m: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (m > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (m > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// ---------------------------------------------------------------------------------------------
// Backward

/** dinp (n) = dout (n) * deriv (n), or exactly 0 where deriv is 0; deriv from the forward. */
export function act_dropout_backward_scalar(dinp: usize, dout: usize, deriv: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const d = load<f32>(deriv + off);
    store<f32>(dinp + off, d != 0 ? load<f32>(dout + off) * d : 0);
  }
}

/** SIMD transcription of act_dropout_backward_scalar: the deriv != 0 mask selects the product or +0. */
export function act_dropout_backward(dinp: usize, dout: usize, deriv: usize, n: i32): void {
  assert(aligned(dinp) && aligned(dout) && aligned(deriv) && n >= 0);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const d = v128.load(deriv + off);
    v128.store(dinp + off, v128.and(f32x4.mul(v128.load(dout + off), d), f32x4.ne(d, zero)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const d = load<f32>(deriv + off);
    store<f32>(dinp + off, d != 0 ? load<f32>(dout + off) * d : 0);
  }
}
