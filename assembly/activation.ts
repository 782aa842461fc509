// Elementwise activations of a dense layer's output: relu, tanh and linear (the identity).
//
// Dimension legend: n floats (a whole (N, O) activation buffer, treated as flat).
//
// Forward:   out = f(inp)
// Backward reads the forward OUTPUT (not the input), which is all each derivative needs:
//   relu:    dinp += dout * (out > 0)        (the kink at 0 gets derivative 0, as in Keras)
//   tanh:    dinp += dout * (1 - out^2)
//   linear:  dinp += dout
//
// tanh is a rational approximation in float32 rather than a call into a math library, so that it
// vectorises and gives the same bits on every engine. It is Eigen's generic_fast_tanh_float
// (Eigen 3.4, Core/MathFunctionsImpl.h, by P. Gonnet and G. Guennebaud): a 13/6-degree odd/even
// minimax rational p(x)/q(x) evaluated by Horner in x^2, with
// - |x| clamped to 7.90531110763549805, the smallest float at which this evaluation (without fused
//   multiply-add, as in wasm) reaches exactly 1, so every larger |x| saturates to exactly +-1;
// - x returned unchanged for |x| < 0.0004, where tanh(x) = x - x^3/3 rounds to x within 5e-8
//   relative and the rational would lose relative accuracy to cancellation.
// Measured against float64 Math.tanh over every float in [0.0004, 8): at most 4.1e-7 relative
// error (7 ulp of 1, near |x| = 5.8, from rounding in the two Horner chains); well below 1 ulp for
// |x| < 0.0004. NaN propagates (min/max propagate it and |NaN| < 0.0004 is false); -0 stays -0.
//
// No subnormals (issue 16: WebAssembly has no flush-to-zero, and Intel cores take a microcode
// assist on each subnormal operand or result). For |x| < 1.1e-19, x * x is subnormal: the rational
// is evaluated at 0.0004 in the lanes that return x anyway, and the derivative 1 - h^2 squares h
// only where |h| >= 2^-13 (tanh_deriv_f32): below, h^2 < 2^-26 and 1 - h^2 rounds to 1 exactly, so
// both keep their bits. relu and linear only select and copy.
//
// Every SIMD kernel performs the same float32 operations in the same order as its scalar twin, so
// the two agree bit for bit; the scalar twins carry the explanations.
//
// The host runs each activation fused with the dropout that follows it (act_dropout_forward /
// act_dropout_backward in dropout.ts, which share tanh_f32 and tanh_f32x4 from here); the
// standalone kernels below define each activation on its own and ship only in the test build.

const TANH_CLAMP: f32 = 7.90531110763549805;
const TANH_TINY: f32 = 0.0004;
// Numerator p(x) = x * (A1 + A3 x^2 + ... + A13 x^12), denominator q(x) = B0 + B2 x^2 + ... + B6 x^6.
const TANH_A1: f32 = 4.89352455891786e-3;
const TANH_A3: f32 = 6.37261928875436e-4;
const TANH_A5: f32 = 1.48572235717979e-5;
const TANH_A7: f32 = 5.12229709037114e-8;
const TANH_A9: f32 = -8.60467152213735e-11;
const TANH_A11: f32 = 2.00018790482477e-13;
const TANH_A13: f32 = -2.76076847742355e-16;
const TANH_B0: f32 = 4.89352518554385e-3;
const TANH_B2: f32 = 2.26843463243900e-3;
const TANH_B4: f32 = 1.18534705686654e-4;
const TANH_B6: f32 = 1.19825839466702e-6;

// @ts-ignore: decorator
@inline
function aligned(ptr: usize): bool {
  return (ptr & 15) == 0;
}

// ---------------------------------------------------------------------------------------------
// tanh of one float and of four lanes: the same operations in the same order.
// ---------------------------------------------------------------------------------------------

/** tanh(a) for one float; the method is in the header. */
// @ts-ignore: decorator
@inline
export function tanh_f32(a: f32): f32 {
  const tiny = abs<f32>(a) < TANH_TINY;
  // Lanes that return a evaluate the rational at TANH_TINY instead (header: no subnormal x * x).
  const x = tiny ? TANH_TINY : max<f32>(min<f32>(a, TANH_CLAMP), -TANH_CLAMP);
  const x2 = x * x;
  let p = x2 * TANH_A13 + TANH_A11;
  p = x2 * p + TANH_A9;
  p = x2 * p + TANH_A7;
  p = x2 * p + TANH_A5;
  p = x2 * p + TANH_A3;
  p = x2 * p + TANH_A1;
  p = x * p;
  let q = x2 * TANH_B6 + TANH_B4;
  q = x2 * q + TANH_B2;
  q = x2 * q + TANH_B0;
  return tiny ? a : p / q;
}

/** Below it, 1 - h^2 rounds to 1: h^2 < 2^-26 (header). */
const TANH_FLAT: f32 = 1.220703125e-4; // 2^-13

/** d tanh / dx = 1 - h^2 from h = tanh(x), with h^2 taken as 0 where |h| < 2^-13: the same bits. */
// @ts-ignore: decorator
@inline
export function tanh_deriv_f32(h: f32): f32 {
  const hq: f32 = abs<f32>(h) < TANH_FLAT ? 0 : h;
  return <f32>1.0 - hq * hq;
}

/** tanh_deriv_f32 on each lane. */
// @ts-ignore: decorator
@inline
export function tanh_deriv_f32x4(h: v128): v128 {
  const hq = v128.andnot(h, f32x4.lt(f32x4.abs(h), f32x4.splat(TANH_FLAT)));
  return f32x4.sub(f32x4.splat(1), f32x4.mul(hq, hq));
}

/** tanh_f32 on each lane (also the fused kernels' tanh, dropout.ts). */
// @ts-ignore: decorator
@inline
export function tanh_f32x4(a: v128): v128 {
  const tiny = f32x4.lt(f32x4.abs(a), f32x4.splat(TANH_TINY));
  const x = v128.bitselect(f32x4.splat(TANH_TINY), f32x4.max(f32x4.min(a, f32x4.splat(TANH_CLAMP)), f32x4.splat(-TANH_CLAMP)), tiny);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(TANH_A13)), f32x4.splat(TANH_A11));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(TANH_A9));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(TANH_A7));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(TANH_A5));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(TANH_A3));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(TANH_A1));
  p = f32x4.mul(x, p);
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(TANH_B6)), f32x4.splat(TANH_B4));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(TANH_B2));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(TANH_B0));
  return v128.bitselect(a, f32x4.div(p, q), tiny);
}

// ---------------------------------------------------------------------------------------------
// relu
// ---------------------------------------------------------------------------------------------

/** out (n) = max(inp, 0); NaN stays NaN and -0 becomes +0. */
export function relu_forward_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, max<f32>(load<f32>(inp + off), 0));
  }
}

/** SIMD transcription of relu_forward_scalar. */
export function relu_forward(out: usize, inp: usize, n: i32): void {
  assert(aligned(out) && aligned(inp) && n >= 0);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, f32x4.max(v128.load(inp + off), zero));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, max<f32>(load<f32>(inp + off), 0));
  }
}

/**
 * dinp (n) += dout (n) where out (n) > 0. The gradient is selected, not multiplied by 0 or 1, so
 * an infinite dout on a dead unit adds exactly 0 instead of NaN.
 */
export function relu_backward_scalar(dinp: usize, dout: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const g: f32 = load<f32>(out + off) > 0 ? load<f32>(dout + off) : 0;
    store<f32>(dinp + off, load<f32>(dinp + off) + g);
  }
}

/** SIMD transcription of relu_backward_scalar: the comparison mask selects dout or +0. */
export function relu_backward(dinp: usize, dout: usize, out: usize, n: i32): void {
  assert(aligned(dinp) && aligned(dout) && aligned(out) && n >= 0);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const g = v128.and(v128.load(dout + off), f32x4.gt(v128.load(out + off), zero));
    v128.store(dinp + off, f32x4.add(v128.load(dinp + off), g));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const g: f32 = load<f32>(out + off) > 0 ? load<f32>(dout + off) : 0;
    store<f32>(dinp + off, load<f32>(dinp + off) + g);
  }
}

// ---------------------------------------------------------------------------------------------
// tanh
// ---------------------------------------------------------------------------------------------

/** out (n) = tanh(inp) by the rational approximation in the header. */
export function tanh_forward_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, tanh_f32(load<f32>(inp + off)));
  }
}

/** SIMD transcription of tanh_forward_scalar. */
export function tanh_forward(out: usize, inp: usize, n: i32): void {
  assert(aligned(out) && aligned(inp) && n >= 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, tanh_f32x4(v128.load(inp + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, tanh_f32(load<f32>(inp + off)));
  }
}

/** dinp (n) += dout (n) * (1 - out^2), with out (n) = tanh(inp) from the forward pass. */
export function tanh_backward_scalar(dinp: usize, dout: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const g = load<f32>(dout + off) * tanh_deriv_f32(load<f32>(out + off));
    store<f32>(dinp + off, load<f32>(dinp + off) + g);
  }
}

/** SIMD transcription of tanh_backward_scalar. */
export function tanh_backward(dinp: usize, dout: usize, out: usize, n: i32): void {
  assert(aligned(dinp) && aligned(dout) && aligned(out) && n >= 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const g = f32x4.mul(v128.load(dout + off), tanh_deriv_f32x4(v128.load(out + off)));
    v128.store(dinp + off, f32x4.add(v128.load(dinp + off), g));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const g = load<f32>(dout + off) * tanh_deriv_f32(load<f32>(out + off));
    store<f32>(dinp + off, load<f32>(dinp + off) + g);
  }
}

// ---------------------------------------------------------------------------------------------
// linear (identity): the output layer's activation before the mixture head, and Keras'
// `activation=None`.
// ---------------------------------------------------------------------------------------------

/** out (n) = inp (n). */
export function linear_forward_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(inp + off));
  }
}

/** SIMD transcription of linear_forward_scalar. */
export function linear_forward(out: usize, inp: usize, n: i32): void {
  assert(aligned(out) && aligned(inp) && n >= 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, v128.load(inp + off));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(inp + off));
  }
}

/** dinp (n) += dout (n); `out` is unused and kept only so every activation has one signature. */
export function linear_backward_scalar(dinp: usize, dout: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(dinp + off, load<f32>(dinp + off) + load<f32>(dout + off));
  }
}

/** SIMD transcription of linear_backward_scalar. */
export function linear_backward(dinp: usize, dout: usize, out: usize, n: i32): void {
  assert(aligned(dinp) && aligned(dout) && n >= 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(dinp + off, f32x4.add(v128.load(dinp + off), v128.load(dout + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(dinp + off, load<f32>(dinp + off) + load<f32>(dout + off));
  }
}
