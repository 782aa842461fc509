// Transcendental functions on f32x4, each with a scalar twin that performs exactly the same float
// operations in the same order, so a lane of the vector result is bit-identical to the scalar
// result for the same input. Everything is built from IEEE-exact wasm operations (add, sub, mul,
// div, min, max, nearest, integer bit manipulation): no relaxed-simd and no fused multiply-add, so
// every engine returns the same bits.
//
// exp: Cephes expf (S. L. Moshier, Cephes Math Library, expf.c).
//   n = nearest(x * log2(e)), r = x - n * C1 - n * C2 with C1 + C2 = ln 2 (C1 has 9 significant
//   bits, so n * C1 is exact and r is exact up to the C2 term), then
//   e^r = 1 + r + r^2 * P(r) with Cephes' degree-5 minimax P on [-ln2/2, ln2/2], and
//   e^x = e^r * 2^n. The scaling 2^n is split into two factors 2^(n >> 1) * 2^(n - (n >> 1)) that
//   are both normal floats, so results that overflow become +Inf.
//   No subnormal results: below EXP_LO, the least float whose e^x comes out normal (>= 2^-126),
//   the result is exactly 0, as with flush-to-zero. WebAssembly cannot
//   turn flush-to-zero on, and Intel cores take a microcode assist on every subnormal operand or
//   result (an f32x4 multiply-add loop ran 18x slower with subnormals on a Xeon, issue 16), so no
//   kernel may make one; a value below 2^-126 vanishes in any float32 sum that holds a term of
//   2^-101 (4e-31) or more. x is clamped to [EXP_LO, 89] first, which keeps
//   n in [-126, 128] (so the product never forms a subnormal either), then lanes with x < EXP_LO
//   are zeroed: one compare and one and-not. NaN propagates through both (pmax(x, c) =
//   x < c ? c : x keeps a NaN x, as pmin does, and NaN < c is false; against constants pmin/pmax
//   equal min/max and cost one instruction each).
//   exp_cut_f32 / exp_cut_f32x4 take their own cutoff lo >= EXP_LO: the softmaxes of the mixture
//   (lanes.ts) cut at 2^-70 of their largest term, which keeps their probabilities and gradients
//   normal.
// log: Cephes logf (logf.c).
//   x = m * 2^e with m in [sqrt(1/2), sqrt(2)) (exponent and mantissa read from the bits;
//   subnormal inputs are first scaled by 2^25), f = m - 1 (exact), then
//   log x = f - f^2/2 + f^3 * Q(f) + e * ln2, with Cephes' degree-8 minimax Q and ln 2 split into
//   C1 + C2 as above so e * C1 is exact. Special values: log(+-0) = -Inf, log(x < 0) = NaN,
//   log(+Inf) = +Inf, log(NaN) = NaN.
// log1p: Goldberg's trick (D. Goldberg, "What every computer scientist should know about
//   floating-point arithmetic", 1991, Theorem 4): u = 1 + t; log1p(t) = t when u == 1, else
//   log(u) * (t / (u - 1)). The rounding error of forming u cancels in the quotient.
// softplus(a) = log(1 + e^a) = max(a, 0) + log1p(e^-|a|): never overflows, and for a << 0 it
//   returns e^a to full relative precision instead of log(1 + tiny) = 0 (and 0 below EXP_LO, as
//   exp does).
// sigmoid(a) = 1 / (1 + e^-a) computed from t = e^-|a|: 1 / (1 + t) for a >= 0, t / (1 + t) for
//   a < 0, so it never forms e^(large).
//
// Measured against float64 Math.exp / Math.log (test/simdmath.test.ts): exp and log within 1 ulp,
// softplus and sigmoid within 3 ulp.

// Constants from Cephes (expf.c, logf.c); the f32 literals round to the same floats Cephes uses.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // 355 / 512: 9 significant bits
const LN2_LO: f32 = -2.12194440e-4; // ln 2 - LN2_HI
/**
 * The least float x whose e^x, as computed here, is normal: e^EXP_LO = 1.1754997e-38 >= 2^-126,
 * while the float below it, -87.33654785, gives 1.1754907e-38 < 2^-126 (ln 2^-126 =
 * -87.336544750553). test/simdmath.test.ts checks every float from EXP_LO up.
 */
export const EXP_LO: f32 = -87.33654022216797;
const EXP_MAX: f32 = 89.0; // e^89 > FLT_MAX: overflows to +Inf
const EXP_P0: f32 = 1.9875691500e-4;
const EXP_P1: f32 = 1.3981999507e-3;
const EXP_P2: f32 = 8.3334519073e-3;
const EXP_P3: f32 = 4.1665795894e-2;
const EXP_P4: f32 = 1.6666665459e-1;
const EXP_P5: f32 = 5.0000001201e-1;

const SQRT_HALF: f32 = 0.707106781186547524;
const FLT_MIN: f32 = 1.17549435e-38; // smallest normal float, 2^-126
const TWO_25: f32 = 33554432.0; // 2^25: lifts any subnormal into the normal range
const LOG_Q0: f32 = 7.0376836292e-2;
const LOG_Q1: f32 = -1.1514610310e-1;
const LOG_Q2: f32 = 1.1676998740e-1;
const LOG_Q3: f32 = -1.2420140846e-1;
const LOG_Q4: f32 = 1.4249322787e-1;
const LOG_Q5: f32 = -1.6668057665e-1;
const LOG_Q6: f32 = 2.0000714765e-1;
const LOG_Q7: f32 = -2.4999993993e-1;
const LOG_Q8: f32 = 3.3333331174e-1;


// The vectors of those constants, four copies each. V8 rebuilds a v128 constant with three
// instructions wherever it is used (and does not hoist it out of loops); a load from memory is one.
// Measured on exp_f32x4 in a loop (V8 12, x64): 17.7 -> 9.7 ns, with pmin/pmax for the clamp.
const V_EXP_LO: usize = memory.data<f32>([EXP_LO, EXP_LO, EXP_LO, EXP_LO], 16);
const V_EXP_MAX: usize = memory.data<f32>([EXP_MAX, EXP_MAX, EXP_MAX, EXP_MAX], 16);
const V_LOG2E: usize = memory.data<f32>([LOG2E, LOG2E, LOG2E, LOG2E], 16);
const V_LN2_HI: usize = memory.data<f32>([LN2_HI, LN2_HI, LN2_HI, LN2_HI], 16);
const V_LN2_LO: usize = memory.data<f32>([LN2_LO, LN2_LO, LN2_LO, LN2_LO], 16);
const V_EXP_P0: usize = memory.data<f32>([EXP_P0, EXP_P0, EXP_P0, EXP_P0], 16);
const V_EXP_P1: usize = memory.data<f32>([EXP_P1, EXP_P1, EXP_P1, EXP_P1], 16);
const V_EXP_P2: usize = memory.data<f32>([EXP_P2, EXP_P2, EXP_P2, EXP_P2], 16);
const V_EXP_P3: usize = memory.data<f32>([EXP_P3, EXP_P3, EXP_P3, EXP_P3], 16);
const V_EXP_P4: usize = memory.data<f32>([EXP_P4, EXP_P4, EXP_P4, EXP_P4], 16);
const V_EXP_P5: usize = memory.data<f32>([EXP_P5, EXP_P5, EXP_P5, EXP_P5], 16);
const V_ONE: usize = memory.data<f32>([1.0, 1.0, 1.0, 1.0], 16);
const V_HALF: usize = memory.data<f32>([0.5, 0.5, 0.5, 0.5], 16);
const V_SQRT_HALF: usize = memory.data<f32>([SQRT_HALF, SQRT_HALF, SQRT_HALF, SQRT_HALF], 16);
const V_FLT_MIN: usize = memory.data<f32>([FLT_MIN, FLT_MIN, FLT_MIN, FLT_MIN], 16);
const V_TWO_25: usize = memory.data<f32>([TWO_25, TWO_25, TWO_25, TWO_25], 16);
const V_TWENTY_FIVE: usize = memory.data<f32>([25.0, 25.0, 25.0, 25.0], 16);
const V_LOG_Q0: usize = memory.data<f32>([LOG_Q0, LOG_Q0, LOG_Q0, LOG_Q0], 16);
const V_LOG_Q1: usize = memory.data<f32>([LOG_Q1, LOG_Q1, LOG_Q1, LOG_Q1], 16);
const V_LOG_Q2: usize = memory.data<f32>([LOG_Q2, LOG_Q2, LOG_Q2, LOG_Q2], 16);
const V_LOG_Q3: usize = memory.data<f32>([LOG_Q3, LOG_Q3, LOG_Q3, LOG_Q3], 16);
const V_LOG_Q4: usize = memory.data<f32>([LOG_Q4, LOG_Q4, LOG_Q4, LOG_Q4], 16);
const V_LOG_Q5: usize = memory.data<f32>([LOG_Q5, LOG_Q5, LOG_Q5, LOG_Q5], 16);
const V_LOG_Q6: usize = memory.data<f32>([LOG_Q6, LOG_Q6, LOG_Q6, LOG_Q6], 16);
const V_LOG_Q7: usize = memory.data<f32>([LOG_Q7, LOG_Q7, LOG_Q7, LOG_Q7], 16);
const V_LOG_Q8: usize = memory.data<f32>([LOG_Q8, LOG_Q8, LOG_Q8, LOG_Q8], 16);
const V_INF: usize = memory.data<f32>([Infinity, Infinity, Infinity, Infinity], 16);
const V_NEG_INF: usize = memory.data<f32>([-Infinity, -Infinity, -Infinity, -Infinity], 16);
const V_NAN: usize = memory.data<f32>([NaN, NaN, NaN, NaN], 16);
const V_BIAS: usize = memory.data<i32>([127, 127, 127, 127], 16);
const V_MANT_MASK: usize = memory.data<i32>([0x007fffff, 0x007fffff, 0x007fffff, 0x007fffff], 16);
const V_HALF_BITS: usize = memory.data<i32>([0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000], 16);
const V_BIAS_126: usize = memory.data<i32>([126, 126, 126, 126], 16);

// ---------------------------------------------------------------------------------------------
// exp

/** e^x for one float, exactly 0 below EXP_LO. The explanation is in the header; exp_f32x4 is its transcription. */
// @ts-ignore: decorator
@inline
export function exp_f32(x: f32): f32 {
  return exp_cut_f32(x, EXP_LO);
}

/** e^x for four floats; lane for lane the same bits as exp_f32. */
// @ts-ignore: decorator
@inline
export function exp_f32x4(x: v128): v128 {
  return exp_cut_f32x4(x, v128.load(V_EXP_LO));
}

/** e^x for x >= lo, exactly 0 for x < lo (lo >= EXP_LO, so the result is 0 or normal). */
// @ts-ignore: decorator
@inline
export function exp_cut_f32(x: f32, lo: f32): f32 {
  const xc = min<f32>(max<f32>(x, lo), EXP_MAX);
  const nf = nearest<f32>(xc * LOG2E);
  const r = xc - nf * LN2_HI - nf * LN2_LO;
  let p = EXP_P0;
  p = p * r + EXP_P1;
  p = p * r + EXP_P2;
  p = p * r + EXP_P3;
  p = p * r + EXP_P4;
  p = p * r + EXP_P5;
  const er = p * (r * r) + r + <f32>1.0;
  // 2^n = 2^n1 * 2^n2 with n1 = n >> 1 (arithmetic): n in [-126, 128] gives n1, n2 in [-63, 64].
  const n = <i32>nf;
  const n1 = n >> 1;
  const n2 = n - n1;
  const s1 = reinterpret<f32>((n1 + 127) << 23);
  const s2 = reinterpret<f32>((n2 + 127) << 23);
  const e = er * s1 * s2;
  return x < lo ? 0 : e;
}

/** exp_cut_f32 on four floats, lo in every lane of loV; lane for lane the same bits. */
// @ts-ignore: decorator
@inline
export function exp_cut_f32x4(x: v128, loV: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, loV), v128.load(V_EXP_MAX));
  const nf = f32x4.nearest(f32x4.mul(xc, v128.load(V_LOG2E)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(nf, v128.load(V_LN2_HI))), f32x4.mul(nf, v128.load(V_LN2_LO)));
  let p = v128.load(V_EXP_P0);
  p = f32x4.add(f32x4.mul(p, r), v128.load(V_EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), v128.load(V_EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), v128.load(V_EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), v128.load(V_EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), v128.load(V_EXP_P5));
  const er = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), v128.load(V_ONE));
  const n = i32x4.trunc_sat_f32x4_s(nf);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const bias = v128.load(V_BIAS);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return v128.andnot(f32x4.mul(f32x4.mul(er, s1), s2), f32x4.lt(x, loV));
}

// ---------------------------------------------------------------------------------------------
// log

/** Natural log of one float. The explanation is in the header; log_f32x4 is its transcription. */
// @ts-ignore: decorator
@inline
export function log_f32(x: f32): f32 {
  // Subnormals have no implicit leading 1: scale them into the normal range first.
  const tiny = x < FLT_MIN;
  const xs = tiny ? x * TWO_25 : x;
  const bits = reinterpret<i32>(xs);
  // xs = m * 2^e with m in [0.5, 1): keep the mantissa bits, set the exponent of 0.5.
  const m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000);
  let e = <f32>((bits >> 23) - 126) - (tiny ? <f32>25.0 : <f32>0.0);
  // Move m into [sqrt(1/2), sqrt(2)) so f = m - 1 is small; m - 1 and 2m - 1 are exact.
  const low = m < SQRT_HALF;
  const f = (low ? m + m : m) - <f32>1.0;
  e = e - (low ? <f32>1.0 : <f32>0.0);
  const z = f * f;
  let q = LOG_Q0;
  q = q * f + LOG_Q1;
  q = q * f + LOG_Q2;
  q = q * f + LOG_Q3;
  q = q * f + LOG_Q4;
  q = q * f + LOG_Q5;
  q = q * f + LOG_Q6;
  q = q * f + LOG_Q7;
  q = q * f + LOG_Q8;
  let y = q * f * z;
  y = y + e * LN2_LO;
  y = y - <f32>0.5 * z;
  let r = f + y + e * LN2_HI;
  if (x == 0) r = -Infinity;
  if (x < 0) r = NaN;
  if (!(x < Infinity)) r = x; // +Inf and NaN return themselves
  return r;
}

/** Natural log of four floats; lane for lane the same bits as log_f32. */
// @ts-ignore: decorator
@inline
export function log_f32x4(x: v128): v128 {
  return log_lanes(x);
}

// log_f32x4's body, compiled once and called (too large to inline at every use). Not exported:
// asc warns (AS112) on every exported function that takes or returns a v128, which JS could not
// pass, even one that no entry exports; the inline wrapper is what other files import.
function log_lanes(x: v128): v128 {
  const tiny = f32x4.lt(x, v128.load(V_FLT_MIN));
  const xs = v128.bitselect(f32x4.mul(x, v128.load(V_TWO_25)), x, tiny);
  const m = v128.or(v128.and(xs, v128.load(V_MANT_MASK)), v128.load(V_HALF_BITS));
  let e = f32x4.sub(
    f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_s(xs, 23), v128.load(V_BIAS_126))),
    v128.and(tiny, v128.load(V_TWENTY_FIVE)),
  );
  const low = f32x4.lt(m, v128.load(V_SQRT_HALF));
  const one = v128.load(V_ONE);
  const f = f32x4.sub(v128.bitselect(f32x4.add(m, m), m, low), one);
  e = f32x4.sub(e, v128.and(low, one));
  const z = f32x4.mul(f, f);
  let q = v128.load(V_LOG_Q0);
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q1));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q2));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q3));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q4));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q5));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q6));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q7));
  q = f32x4.add(f32x4.mul(q, f), v128.load(V_LOG_Q8));
  let y = f32x4.mul(f32x4.mul(q, f), z);
  y = f32x4.add(y, f32x4.mul(e, v128.load(V_LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(v128.load(V_HALF), z));
  let r = f32x4.add(f32x4.add(f, y), f32x4.mul(e, v128.load(V_LN2_HI)));
  const zero = f32x4.splat(0.0);
  r = v128.bitselect(v128.load(V_NEG_INF), r, f32x4.eq(x, zero));
  r = v128.bitselect(v128.load(V_NAN), r, f32x4.lt(x, zero));
  r = v128.bitselect(r, x, f32x4.lt(x, v128.load(V_INF)));
  return r;
}

// ---------------------------------------------------------------------------------------------
// log1p, softplus, sigmoid

/** log(1 + t) for t > -1, accurate for small t (Goldberg's trick, see the header). */
// @ts-ignore: decorator
@inline
export function log1p_f32(t: f32): f32 {
  const u = <f32>1.0 + t;
  const d = u - <f32>1.0;
  return d == 0 ? t : log_f32(u) * (t / d);
}

/** log(1 + t) for four floats; lane for lane the same bits as log1p_f32. */
// @ts-ignore: decorator
@inline
export function log1p_f32x4(t: v128): v128 {
  const one = f32x4.splat(1.0);
  const u = f32x4.add(one, t);
  const d = f32x4.sub(u, one);
  // Lanes with d == 0 divide by zero here; the select discards them.
  return v128.bitselect(t, f32x4.mul(log_f32x4(u), f32x4.div(t, d)), f32x4.eq(d, f32x4.splat(0.0)));
}

/** softplus(a) = log(1 + e^a) = max(a, 0) + log1p(e^-|a|). */
// @ts-ignore: decorator
@inline
export function softplus_f32(a: f32): f32 {
  return max<f32>(a, 0) + log1p_f32(exp_f32(-abs<f32>(a)));
}

/** softplus of four floats; lane for lane the same bits as softplus_f32. */
// @ts-ignore: decorator
@inline
export function softplus_f32x4(a: v128): v128 {
  return softplus4(a);
}

// softplus4 and sigmoid4 are calls, not inlined: each inlined copy of exp, log1p and the rest
// is ~200 bytes, and the mixture kernels hold nine (one per component's sigma and its derivative,
// training and inference). Out of line they keep the shipped module within its size budget after
// the subnormal flushes (issue 16); only the softplus sigma pays the call.
function softplus4(a: v128): v128 {
  return f32x4.add(f32x4.max(a, f32x4.splat(0.0)), log1p_f32x4(exp_f32x4(f32x4.neg(f32x4.abs(a)))));
}

/** sigmoid(a) = 1 / (1 + e^-a), from t = e^-|a| so no e^(large) is formed. */
// @ts-ignore: decorator
@inline
export function sigmoid_f32(a: f32): f32 {
  const t = exp_f32(-abs<f32>(a));
  const num = a >= 0 ? <f32>1.0 : t;
  return num / (<f32>1.0 + t);
}

/** sigmoid of four floats; lane for lane the same bits as sigmoid_f32. */
// @ts-ignore: decorator
@inline
export function sigmoid_f32x4(a: v128): v128 {
  return sigmoid4(a);
}

function sigmoid4(a: v128): v128 {
  const one = f32x4.splat(1.0);
  const t = exp_f32x4(f32x4.neg(f32x4.abs(a)));
  const num = v128.bitselect(one, t, f32x4.ge(a, f32x4.splat(0.0)));
  return f32x4.div(num, f32x4.add(one, t));
}

// ---------------------------------------------------------------------------------------------
// Array kernels: out (n) = f(inp (n)). For tests and for the host; out may alias inp.

/** out (n) = e^inp (n). */
export function exp_f32_array(out: usize, inp: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, exp_f32x4(v128.load(inp + o)));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), exp_f32(load<f32>(inp + (<usize>i << 2))));
}

/** Scalar twin of exp_f32_array. */
export function exp_f32_array_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), exp_f32(load<f32>(inp + (<usize>i << 2))));
}

/** out (n) = log(inp (n)). */
export function log_f32_array(out: usize, inp: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, log_f32x4(v128.load(inp + o)));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), log_f32(load<f32>(inp + (<usize>i << 2))));
}

/** Scalar twin of log_f32_array. */
export function log_f32_array_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), log_f32(load<f32>(inp + (<usize>i << 2))));
}

/** out (n) = softplus(inp (n)). */
export function softplus_f32_array(out: usize, inp: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, softplus_f32x4(v128.load(inp + o)));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), softplus_f32(load<f32>(inp + (<usize>i << 2))));
}

/** Scalar twin of softplus_f32_array. */
export function softplus_f32_array_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), softplus_f32(load<f32>(inp + (<usize>i << 2))));
}

/** out (n) = sigmoid(inp (n)). */
export function sigmoid_f32_array(out: usize, inp: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, sigmoid_f32x4(v128.load(inp + o)));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), sigmoid_f32(load<f32>(inp + (<usize>i << 2))));
}

/** Scalar twin of sigmoid_f32_array. */
export function sigmoid_f32_array_scalar(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), sigmoid_f32(load<f32>(inp + (<usize>i << 2))));
}
