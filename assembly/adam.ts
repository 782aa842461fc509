// The Adam optimizer with Keras semantics (tf.keras / Keras 2 `optimizers.Adam`, with the legacy
// `decay` argument), plus the sum of squares behind the L2 penalty.
//
// Dimension legend: n parameters. Parameters, gradients and both moments share one arena layout,
// so w (n), g (n), m (n), v (n) are parallel and one flat loop updates every layer at once.
//
// Keras 2 Adam (Kingma & Ba 2015, Algorithm 1 with the "epsilon hat" form of section 2), step t
// counting applied steps including this one (t = iterations + 1):
//   lr_t = lr / (1 + decay * (t - 1)) * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m    = beta1 * m + (1 - beta1) * g
//   v    = beta2 * v + (1 - beta2) * g^2
//   w   -= lr_t * m / (sqrt(v) + eps)
// The legacy time decay divides by 1 + decay * iterations with iterations read before the
// increment, hence t - 1. Keras defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7.
// A Keras L2 kernel regularizer l2 adds l2 * sum(w^2) to the loss, so its gradient 2 * l2 * w is
// folded into g on the fly (g itself is left untouched).
//
// adam_update runs the same float32 operations in the same order as its scalar twin (no fused
// multiply-add in wasm SIMD), so the two agree bit for bit.
//
// No subnormals (issue 16: WebAssembly has no flush-to-zero, and Intel cores take a microcode assist
// on each subnormal operand or result). A parameter whose gradient stays 0 (a dead unit) has its
// moments decay geometrically: m by beta1 a step reaches the subnormal range within ~800 steps, v
// by beta2 within ~70,000. adam_step flushes them to +0 in a pass of its own (adam_flush_moments:
// a compare and an and-not per vector, NaN kept) once every `flush_period` steps, the longest
// power of two (at most 1024) over which neither moment can shrink by more than 2^-20, so nothing
// above the thresholds at one pass can decay into the subnormal range before the next:
//   m = 0 where |m| < 2^-80: a flushed m would have moved w by under lr_t * 2^-80 / eps (8e-21 at
//     the Keras defaults), below the float32 spacing of any weight over 1e-13; between passes m
//     stays above 2^-100, so lr_t * m is normal for lr_t >= 2^-26;
//   v = 0 where v < vMin = min(2^-100, (eps 2^-25)^2): there sqrt(v) < eps 2^-25 is under half an
//     ulp of eps, so sqrt(v) + eps, and the step, keep their bits.
// With epsilon below ~1e-11, vMin falls under 2^-104 and a long-dead parameter's v may still reach
// the subnormal range between passes. A pass per step, in adam_update's loop, cost 15% (m alone) to
// 60% (m, v and the gradient's square) of the step on 1M parameters (V8, x64); one pass every 128
// steps (beta1 0.9) costs under 1%. A gradient itself below ~1e-18, whose square is subnormal, is
// not guarded: the gradient kernels do not produce one (their smallest terms carry a
// responsibility's weight of at least 2^-80, lanes.ts).

import { OPT_BETA1, OPT_BETA2, OPT_DECAY, OPT_EPSILON, OPT_L2, OPT_LEARNING_RATE } from "./settings";

// @ts-ignore: decorator
@inline
function aligned(ptr: usize): bool {
  return (ptr & 15) == 0;
}

/**
 * Keras step size for step t >= 1 (f64). Computed here rather than on the host because JS's
 * Math.pow may differ between engines by an ulp; beta^t by repeated squaring (powi) is f64
 * multiplications only, so the same bits everywhere, and 2.2 KB smaller than the stdlib's pow.
 * Its relative error grows like t * 2^-53 (1e-13 at t = 1000), far below the float32 lr_t.
 */
export function adam_lr_t(lr: f64, decay: f64, beta1: f64, beta2: f64, t: i32): f64 {
  assert(t >= 1);
  const ft = <f64>t;
  const decayed = lr / (1.0 + decay * (ft - 1.0));
  return decayed * (Math.sqrt(1.0 - powi(beta2, t)) / (1.0 - powi(beta1, t)));
}

/** x^t for t >= 1 by repeated squaring: f64 multiplications only, so the same bits on every engine. */
function powi(x: f64, t: i32): f64 {
  let r: f64 = 1;
  while (true) {
    if (t & 1) r *= x;
    t >>>= 1;
    if (t == 0) return r;
    x *= x;
  }
}

/**
 * One Adam step, scalar twin. w (n) updated, m (n), v (n) moments updated; g (n) read only.
 * lrT from adam_lr_t; l2 the L2 regularization factor (0 for none).
 */
export function adam_update_scalar(
  w: usize, g: usize, m: usize, v: usize, n: i32,
  lrT: f32, beta1: f32, beta2: f32, eps: f32, l2: f32,
): bool {
  assert(n >= 0);
  return adam_update_from(w, g, m, v, n, n, lrT, beta1, beta2, eps, l2, 0) == 0;
}

/**
 * Parameters i0 .. n-1 of one Adam step, the first nK of them with the L2 term: the scalar twin,
 * and the SIMD kernel's tail. Returns the sum of x - x over the new w and v: 0 when all new w, m
 * and v are finite, NaN otherwise. m needs no check of its own: with v finite, sqrt(v) + eps is
 * finite and positive, so a non-finite m makes the step and so w non-finite.
 */
// @ts-ignore: decorator
@inline
function adam_update_from(
  w: usize, g: usize, m: usize, v: usize, nK: i32, n: i32,
  lrT: f32, beta1: f32, beta2: f32, eps: f32, l2: f32, i0: i32,
): f32 {
  let bad: f32 = 0;
  const twoL2 = <f32>2 * l2; // d/dw of l2 * w^2
  const rest1 = <f32>1 - beta1;
  const rest2 = <f32>1 - beta2;
  for (let i = i0; i < n; i++) {
    const off = <usize>i << 2;
    const wi = load<f32>(w + off);
    // Past the kernels the term is 0 * w, as in the SIMD kernel's lanes (it keeps -0 and NaN as is).
    const gi = load<f32>(g + off) + (i < nK ? twoL2 : 0) * wi;
    const mi = beta1 * load<f32>(m + off) + rest1 * gi;
    const vi = beta2 * load<f32>(v + off) + rest2 * (gi * gi);
    store<f32>(m + off, mi);
    store<f32>(v + off, vi);
    // eps outside the sqrt, as Keras 2 and the paper's epsilon hat: it bounds the step by lrT / eps
    // when both moments are zero.
    const wn = wi - lrT * mi / (sqrt<f32>(vi) + eps);
    store<f32>(w + off, wn);
    bad += (wn - wn) + (vi - vi);
  }
  return bad;
}

/**
 * One Adam step over n parameters. w (n) updated, m (n), v (n) moments updated; g (n) read only.
 * lrT from adam_lr_t; l2 the L2 regularization factor (0 for none). Returns true when every new
 * w, m and v is finite (checked as they are written, instead of another pass over all three).
 */
export function adam_update(
  w: usize, g: usize, m: usize, v: usize, n: i32,
  lrT: f32, beta1: f32, beta2: f32, eps: f32, l2: f32,
): bool {
  return adam_region(w, g, m, v, n, n, lrT, beta1, beta2, eps, l2);
}

/**
 * Adam on the 4 parameters at w, g, m, v (adam_update_from's arithmetic, lane by lane); returns
 * (w - w) + (v - v) of the new values.
 */
// @ts-ignore: decorator
@inline
function adamVec(
  w: usize, g: usize, m: usize, v: usize, twoL2: v128, b1: v128, b2: v128, rest1: v128, rest2: v128, vlr: v128,
  veps: v128,
): v128 {
  const wi = v128.load(w);
  const gi = f32x4.add(v128.load(g), f32x4.mul(twoL2, wi));
  const mi = f32x4.add(f32x4.mul(b1, v128.load(m)), f32x4.mul(rest1, gi));
  const vi = f32x4.add(f32x4.mul(b2, v128.load(v)), f32x4.mul(rest2, f32x4.mul(gi, gi)));
  v128.store(m, mi);
  v128.store(v, vi);
  const wn = f32x4.sub(wi, f32x4.div(f32x4.mul(vlr, mi), f32x4.add(f32x4.sqrt(vi), veps)));
  v128.store(w, wn);
  return f32x4.add(f32x4.sub(wn, wn), f32x4.sub(vi, vi));
}

/**
 * adam_update over n parameters of which the first nK get the L2 term, in one pass: the factor
 * 2 * l2 is a vector that becomes 0 past the kernels (lane by lane in the vector that straddles
 * nK), so the whole trainable region streams through one loop with one tail.
 */
function adam_region(
  w: usize, g: usize, m: usize, v: usize, nK: i32, n: i32,
  lrT: f32, beta1: f32, beta2: f32, eps: f32, l2: f32,
): bool {
  assert(n >= 0 && nK >= 0 && nK <= n);
  assert(aligned(w) && aligned(g) && aligned(m) && aligned(v));
  const b1 = f32x4.splat(beta1);
  const b2 = f32x4.splat(beta2);
  const rest1 = f32x4.splat(<f32>1 - beta1);
  const rest2 = f32x4.splat(<f32>1 - beta2);
  const vlr = f32x4.splat(lrT);
  const veps = f32x4.splat(eps);
  // x - x is 0 for finite x and NaN for NaN and +-Inf; NaN stays in the sum.
  let bad = f32x4.splat(0);
  // Segments: whole vectors of kernels, the vector straddling nK (if any), the rest.
  let twoL2 = f32x4.splat(<f32>2 * l2);
  let end = nK & ~3;
  let i = 0;
  const n4 = n & ~3;
  while (true) {
    // Two vectors per pass: more independent square roots and divisions in flight (-7%).
    for (; i + 8 <= end; i += 8) {
      const off = <usize>i << 2;
      const b = adamVec(w + off, g + off, m + off, v + off, twoL2, b1, b2, rest1, rest2, vlr, veps);
      const o2 = off + 16;
      bad = f32x4.add(bad, f32x4.add(b, adamVec(w + o2, g + o2, m + o2, v + o2, twoL2, b1, b2, rest1, rest2, vlr, veps)));
    }
    if (i < end) {
      const off = <usize>i << 2;
      bad = f32x4.add(bad, adamVec(w + off, g + off, m + off, v + off, twoL2, b1, b2, rest1, rest2, vlr, veps));
      i += 4;
    }
    if (end >= n4) break;
    if (end < nK) {
      // The straddling vector: lanes below nK keep the factor, the others get 0.
      twoL2 = v128.and(twoL2, i32x4.gt_s(i32x4.splat(nK - end), i32x4(0, 1, 2, 3)));
      end += 4;
    } else {
      twoL2 = f32x4.splat(0);
      end = n4;
    }
  }
  const tail = adam_update_from(w, g, m, v, nK, n, lrT, beta1, beta2, eps, l2, i);
  return f32x4.extract_lane(bad, 0) + f32x4.extract_lane(bad, 1) + f32x4.extract_lane(bad, 2) + f32x4.extract_lane(bad, 3) + tail == 0;
}

/**
 * One Adam step of a whole trainable region: the first nKernels parameters with the L2 term, the
 * next nRest without, in one pass (adam_region). The settings come from memory, the optimizer block
 * hp (settings.ts OPT_*), and t is the step (>= 1), so the host passes only integers: V8
 * boxes every double argument of a call it does not inline (any call site that has seen two
 * models' instances). The same conversions to float32 as a host passing the values to
 * adam_update, so the same bits, and at every step t that flush_period(beta1, beta2) divides,
 * adam_flush_moments after it. Returns true when every new parameter and moment is finite.
 */
export function adam_step(w: usize, g: usize, m: usize, v: usize, nKernels: i32, nRest: i32, t: i32, hp: usize): bool {
  assert((hp & 7) == 0);
  const beta1 = load<f64>(hp, OPT_BETA1), beta2 = load<f64>(hp, OPT_BETA2);
  const lrT = <f32>adam_lr_t(load<f64>(hp, OPT_LEARNING_RATE), load<f64>(hp, OPT_DECAY), beta1, beta2, t);
  const eps = <f32>load<f64>(hp, OPT_EPSILON);
  const ok = adam_region(w, g, m, v, nKernels, nKernels + nRest, lrT, <f32>beta1, <f32>beta2, eps, <f32>load<f64>(hp, OPT_L2));
  // Every flush_period steps, the moments' flush (header, "No subnormals").
  if (t % flush_period(<f32>beta1, <f32>beta2) == 0) adam_flush_moments(m, v, nKernels + nRest, eps);
  return ok;
}

/** m's flush threshold, 2^-80, and the cap of v's, 2^-100 (header). */
const M_TINY: f32 = 8.271806125530277e-25;
const V_TINY: f32 = 7.888609052210118e-31;

/** vMin = min(2^-100, (eps 2^-25)^2), v's flush threshold (header). */
// @ts-ignore: decorator
@inline
function v_min(eps: f32): f32 {
  const e = <f64>eps * 2.9802322387695312e-8; // eps * 2^-25
  return <f32>min<f64>(<f64>V_TINY, e * e);
}

/**
 * Steps between adam_step's flushes: the largest power of two p <= 1024 with beta^p >= 2^-20 for
 * both betas (a zero beta keeps nothing from the last step and sets no limit); 1 if a beta is below
 * 2^-20. Powers by squaring in f64: the same bits everywhere.
 */
export function flush_period(beta1: f32, beta2: f32): i32 {
  let p = 1;
  let x1 = <f64>beta1, x2 = <f64>beta2;
  while (p < 1024) {
    const y1 = x1 * x1, y2 = x2 * x2;
    if ((beta1 > 0 && y1 < 9.5367431640625e-7) || (beta2 > 0 && y2 < 9.5367431640625e-7)) break;
    x1 = y1;
    x2 = y2;
    p <<= 1;
  }
  return p;
}

/** Scalar twin of adam_flush_moments, from element i0 on (also its tail). */
export function adam_flush_moments_scalar(m: usize, v: usize, n: i32, eps: f32): void {
  flush_moments_from(m, v, n, v_min(eps), 0);
}

// @ts-ignore: decorator
@inline
function flush_moments_from(m: usize, v: usize, n: i32, vMin: f32, i0: i32): void {
  for (let i = i0; i < n; i++) {
    const off = <usize>i << 2;
    const mi = load<f32>(m + off), vi = load<f32>(v + off);
    store<f32>(m + off, abs<f32>(mi) < M_TINY ? 0 : mi);
    store<f32>(v + off, vi < vMin ? 0 : vi);
  }
}

/** m (n) = 0 where |m| < 2^-80 and v (n) = 0 where v < vMin (header), in place. */
export function adam_flush_moments(m: usize, v: usize, n: i32, eps: f32): void {
  assert(n >= 0 && aligned(m) && aligned(v));
  const vMinS = v_min(eps);
  const mTiny = f32x4.splat(M_TINY), vMin = f32x4.splat(vMinS);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const mi = v128.load(m + off), vi = v128.load(v + off);
    v128.store(m + off, v128.andnot(mi, f32x4.lt(f32x4.abs(mi), mTiny)));
    v128.store(v + off, v128.andnot(vi, f32x4.lt(vi, vMin)));
  }
  flush_moments_from(m, v, n, vMinS, i);
}

/**
 * Sum of w^2 over w (n), scalar twin, in f64. The square of a float32 is exact in f64 (24 + 24
 * significand bits fit in 53), so only the additions round: relative error about n * 2^-53.
 */
export function sum_squares_scalar(w: usize, n: i32): f64 {
  assert(n >= 0);
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = <f64>load<f32>(w + (<usize>i << 2));
    s += x * x;
  }
  return s;
}

/**
 * Sum of w^2 over w (n) in f64: each group of 4 floats is widened to two f64x2 halves and squared
 * exactly, with four f64 partial sums (lanes 0, 1 in lo; lanes 2, 3 in hi). The summation order
 * differs from the scalar twin, so the two agree to rounding (~n * 2^-53 relative), not bitwise.
 */
export function sum_squares(w: usize, n: i32): f64 {
  assert(n >= 0);
  assert(aligned(w));
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(w + (<usize>i << 2));
    const xlo = f64x2.promote_low_f32x4(x);
    const xhi = f64x2.promote_low_f32x4(f32x4.shuffle(x, x, 2, 3, 2, 3));
    lo = f64x2.add(lo, f64x2.mul(xlo, xlo));
    hi = f64x2.add(hi, f64x2.mul(xhi, xhi));
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) +
    (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; i < n; i++) {
    const x = <f64>load<f32>(w + (<usize>i << 2));
    s += x * x;
  }
  return s;
}
