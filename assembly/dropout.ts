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
// s0 = 1, as in rng_seed). The elements go in blocks of 8, and one output x (u32) of each lane
// decides two of them: the t-th output of lane j decides element 8t + j by its low 16 bits and
// element 8t + 4 + j by its high 16 bits. From a half h, u = (h XOR 2^15) * 2^-16 is uniform on
// the multiples of 2^-16 in [0, 1) and
//   m[i] = u >= rate ? scale : 0,    scale = 1 / (1 - rate) rounded once to float32.
// Since u is a multiple of 2^-16, u >= rate exactly when (h XOR 2^15) >= T with
// T = ceil(rate * 2^16) (an integer compare, T <= 2^16 because rate < 1), so an element is kept
// with probability 1 - T / 2^16, which is at most 1 - rate and less than 2^-16 below it (rate 0.2:
// T = 13108, keep 0.799988 instead of 0.8). (The XOR makes the SIMD compare a signed one, see
// act_dropout_forward; u is as uniform with it as without.)
// So the generator advances by exactly 16 draws per call whatever n is, its state stays 4 u32
// (model files and checkpoints are unchanged), and a seed still fixes every mask on every engine.
// Four streams in one v128 draw four numbers per xoshiro step, eight mask values (relu then
// dropout on 4096 floats: 2.8 us; 5.4 us with one element per 32-bit draw and 24-bit u, and
// 1.4 + 9.1 us for separate relu and scalar-generator dropout kernels); a rate-0 call draws
// nothing.
//
// The scalar twins carry the explanations; the SIMD kernels do the same float32 operations on
// f32x4 (the scalar forward walks one lane's elements at a time, the SIMD one all four lanes at
// once, which gives each element the same draw), so the two agree bit for bit. The SIMD relu is
// the scalar max(x, 0) in two instructions (pmax, then the sign cleared) and its derivative times
// the mask a select, not a product: the same bits.
//
// No subnormals (issue 16): a mask value is 0 or at least 1, so h * m and act' * m are 0 or as
// large as h and act' (tanh's act' comes from tanh_deriv_f32, activation.ts).

import { rng_next_u32 } from "./random";
import { tanh_deriv_f32, tanh_deriv_f32x4, tanh_f32, tanh_f32x4 } from "./activation";

export const ACT_RELU: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_LINEAR: i32 = 2;

// @ts-ignore: decorator
@inline
function aligned(ptr: usize): bool {
  return (ptr & 15) == 0;
}

/** Keep threshold T = ceil(rate * 2^16): a 16-bit half h keeps its element when (h ^ 0x8000) >= T (header). */
// @ts-ignore: decorator
@inline
function keep_from(rate: f32): u32 {
  return <u32>Math.ceil(<f64>rate * 65536.0);
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
  if (act == ACT_TANH) return tanh_deriv_f32(h);
  return 1;
}

/** Element i of the forward with mask value m (scale or 0, or 1 at rate 0: the value unchanged). */
function forward_element(out: usize, deriv: usize, inp: usize, i: i32, act: i32, m: f32): void {
  const off = <usize>i << 2;
  const x = load<f32>(inp + off);
  const h = act_f32(x, act);
  store<f32>(out + off, h * m);
  if (deriv != 0) store<f32>(deriv + off, act_deriv_f32(x, h, act) * m);
}

/**
 * The work region the host plans for act_dropout_forward (src/engine/kernels.ts
 * DROPOUT_WORK_BYTES): the four streams' states (64 bytes, word w of stream j at 16 w + 4 j), then
 * the last block's input, output and derivative (TAIL, 8 floats each). Scratch comes from the
 * caller, never from a static address, so two instances over one shared memory can run at once.
 */
export const DROPOUT_WORK_BYTES: i32 = 64 + 96;
/** Byte offset of TAIL in the work region. */
const TAIL: usize = 64;

/**
 * Draw the four streams' states into states: stream j takes draws 4j .. 4j+3 as its words 0 .. 3,
 * and a stream that came out all zero (xoshiro's one bad state) gets word 0 = 1, as in rng_seed.
 */
function seed_streams(states: usize, state: usize): void {
  for (let d = 0; d < 16; d++) store<u32>(states + (<usize>((d & 3) << 2 | d >> 2) << 2), rng_next_u32(state));
  for (let j: usize = 0; j < 16; j += 4) {
    const at = states + j;
    if ((load<u32>(at) | load<u32>(at, 16) | load<u32>(at, 32) | load<u32>(at, 48)) == 0) store<u32>(at, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Forward

/** out (n) = act(inp (n)) * mask; deriv (n) = act'(inp) * mask unless deriv is 0; see header. */
export function act_dropout_forward_scalar(out: usize, deriv: usize, inp: usize, n: i32, act: i32, rate: f32, state: usize, work: usize): void {
  assert(rate >= 0 && rate < 1 && n >= 0 && work != 0 && aligned(work));
  if (rate == 0) {
    for (let i = 0; i < n; i++) forward_element(out, deriv, inp, i, act, 1);
    return;
  }
  const scale = <f32>1.0 / (<f32>1.0 - rate);
  const from = keep_from(rate);
  seed_streams(work, state);
  for (let j = 0; j < 4; j++) {
    // Lane j's state: draws 4j .. 4j+3 of the library generator.
    const at = work + (<usize>j << 2);
    let s0 = load<u32>(at), s1 = load<u32>(at, 16), s2 = load<u32>(at, 32), s3 = load<u32>(at, 48);
    // Lane j's t-th output decides element 8t + j by its low half and 8t + 4 + j by its high half.
    for (let i = j; i < n; i += 8) {
      // One xoshiro128** step (Blackman & Vigna 2018), as rng_next_u32.
      const bits = rotl<u32>(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
      forward_element(out, deriv, inp, i, act, ((bits & 0xffff) ^ 0x8000) >= from ? scale : 0);
      if (i + 4 < n) forward_element(out, deriv, inp, i + 4, act, ((bits >>> 16) ^ 0x8000) >= from ? scale : 0);
    }
  }
}

/** SIMD transcription of act_dropout_forward_scalar: the four lanes of a vector are the four streams. */
export function act_dropout_forward(out: usize, deriv: usize, inp: usize, n: i32, act: i32, rate: f32, state: usize, work: usize): void {
  assert(aligned(out) && aligned(deriv) && aligned(inp) && n >= 0);
  assert(rate >= 0 && rate < 1 && work != 0 && aligned(work));
  if (rate > 0) seed_streams(work, state);
  else memory.fill(work, 0, 64);
  // The vector loops read each half h as a signed 16-bit s = (h ^ 0x8000) - 32768, so
  // h ^ 0x8000 >= T is s > L = T - 32769; a lane x holds the high half's s in its top 16 bits and
  // the low half's in the top 16 bits of x << 16, so s > L is x > (L << 16 | 0xffff) (signed 32
  // bits) on x or x << 16. L fits in 16 bits except at T = 0 (rate 0: the streams are unseeded
  // and every h = 0), where -32768 keeps every element as well.
  const from4 = i32x4.splat((max<i32>(<i32>keep_from(rate) - 32769, -32768) << 16) | 0xffff);
  const scale4 = f32x4.splat(<f32>1.0 / (<f32>1.0 - rate));
  // Without a deriv buffer the loops store the derivative to out and the output over it, so
  // they have no branch on deriv.
  const whole = n & ~7;
  forward_blocks(work, out, deriv != 0 ? deriv : out, inp, whole, act, rate, from4, scale4);
  // The last n % 8 elements go through the same loop as one zero-padded block in TAIL (whose
  // input lanes past n are never read from inp), taking the next step of the streams.
  const rest = <usize>(n - whole) << 2;
  if (rest != 0) {
    const at = <usize>whole << 2;
    const tail = work + TAIL;
    memory.fill(tail, 0, 32);
    memory.copy(tail, inp + at, rest);
    forward_blocks(work, tail + 32, tail + 64, tail, 8, act, rate, from4, scale4);
    memory.copy(out + at, tail + 32, rest);
    if (deriv != 0) memory.copy(deriv + at, tail + 64, rest);
  }
}

/** forward_f32x4's constants in every lane: 0, 0x7fffffff (all but the sign), 5 and 9 (xoshiro's). */
const CONSTS: usize = memory.data<u32>([0, 0, 0, 0, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 5, 5, 5, 5, 9, 9, 9, 9], 16);

/**
 * act_dropout_forward on n (a multiple of 8) elements, continuing the streams at states. One
 * loop per activation, and for relu (the common hidden activation, often without dropout) one
 * per dropping or not, each with its branches resolved at compile time: a loop that branches on
 * them per vector keeps its vectors in memory and runs 3x slower. The tanh and linear loops
 * always step the streams: at rate 0 they are all zero and the threshold keeps every element
 * with a mask of exactly 1, so a rate-0 tanh or linear layer pays for the step so that the module
 * keeps within its size budget.
 */
function forward_blocks(states: usize, out: usize, deriv: usize, inp: usize, n: i32, act: i32, rate: f32, from4: v128, scale4: v128): void {
  if (act == ACT_RELU) {
    if (rate > 0) forward_relu_drop(states, out, deriv, inp, n, from4, scale4);
    else forward_relu(states, out, deriv, inp, n);
  } else if (act == ACT_TANH) forward_tanh(states, out, deriv, inp, n, from4, scale4);
  else forward_linear(states, out, deriv, inp, n, from4, scale4);
}

// One function per loop, so that each is compiled with its constants (inlined into one function,
// the four copies were folded into one loop that tests act and dropping on every block).
function forward_relu_drop(states: usize, out: usize, deriv: usize, inp: usize, n: i32, from4: v128, scale4: v128): void {
  forward_f32x4(states, out, deriv, inp, n, ACT_RELU, true, from4, scale4);
}
function forward_relu(states: usize, out: usize, deriv: usize, inp: usize, n: i32): void {
  const zero = f32x4.splat(0);
  forward_f32x4(states, out, deriv, inp, n, ACT_RELU, false, zero, zero);
}
function forward_tanh(states: usize, out: usize, deriv: usize, inp: usize, n: i32, from4: v128, scale4: v128): void {
  forward_f32x4(states, out, deriv, inp, n, ACT_TANH, true, from4, scale4);
}
function forward_linear(states: usize, out: usize, deriv: usize, inp: usize, n: i32, from4: v128, scale4: v128): void {
  forward_f32x4(states, out, deriv, inp, n, ACT_LINEAR, true, from4, scale4);
}

/**
 * act_dropout_forward for one activation act (a constant where called) on n (a multiple of 8)
 * elements, drawing masks from the streams at states when dropping (also a constant) and leaving
 * them advanced there.
 */
// @ts-ignore: decorator
@inline
function forward_f32x4(states: usize, out: usize, deriv: usize, inp: usize, n: i32, act: i32, dropping: bool, from4: v128, scale4: v128): void {
  // Loaded, not written as constants: V8 rebuilds a constant vector at every use in a loop.
  const zero = v128.load(CONSTS);
  const abs = v128.load(CONSTS, 16);
  const five = v128.load(CONSTS, 32);
  const nine = v128.load(CONSTS, 48);
  let s0 = v128.load(states), s1 = v128.load(states, 16), s2 = v128.load(states, 32), s3 = v128.load(states, 48);
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 32) {
    // A block of 8 elements takes one step of the four streams: lane j's 32 bits decide element
    // j by their low half and element 4 + j by their high half.
    let bits = zero;
    if (dropping) {
      // xoshiro128** on all four lanes.
      const p = i32x4.mul(s1, five);
      bits = i32x4.mul(v128.or(i32x4.shl(p, 7), i32x4.shr_u(p, 25)), nine);
      const t = i32x4.shl(s1, 9);
      s2 = v128.xor(s2, s0); s3 = v128.xor(s3, s1); s1 = v128.xor(s1, s2); s0 = v128.xor(s0, s3);
      s2 = v128.xor(s2, t); s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
    }
    const lo = v128.and(scale4, i32x4.gt_s(i32x4.shl(bits, 16), from4));
    const hi = v128.and(scale4, i32x4.gt_s(bits, from4));
    forward_vector(out + o, deriv + o, inp + o, act, dropping, zero, abs, lo);
    forward_vector(out + o + 16, deriv + o + 16, inp + o + 16, act, dropping, zero, abs, hi);
  }
  if (dropping) {
    v128.store(states, s0); v128.store(states, s1, 16); v128.store(states, s2, 32); v128.store(states, s3, 48);
  }
}

/** The four elements at out, deriv (stored first), inp with mask m (lanes scale or 0; unused when not dropping). */
// @ts-ignore: decorator
@inline
function forward_vector(out: usize, deriv: usize, inp: usize, act: i32, dropping: bool, zero: v128, abs: v128, m: v128): void {
  const one = f32x4.splat(1);
  const x = v128.load(inp);
  let h = zero, d = zero;
  if (act == ACT_RELU) {
    // max(x, 0) as the scalar max: pmax keeps NaN (and -0), clearing the sign turns -0 into +0.
    // One instruction each where f32x4.max's NaN and signed-zero rules cost eight.
    h = v128.and(f32x4.pmax(x, zero), abs);
    const pos = f32x4.gt(x, zero);
    // act' * m with act' 1 or 0 is m or +0: the mask selects it.
    d = dropping ? v128.and(m, pos) : v128.and(one, pos);
  } else if (act == ACT_TANH) {
    h = tanh_f32x4(x);
    d = tanh_deriv_f32x4(h);
    if (dropping) d = f32x4.mul(d, m);
  } else {
    h = x;
    d = dropping ? m : one;
  }
  v128.store(deriv, d);
  v128.store(out, dropping ? f32x4.mul(h, m) : h);
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
