// Gradient clipping by global norm (Keras `global_clipnorm`, tf.clip_by_global_norm; Pascanu,
// Mikolov and Bengio 2013): when the Euclidean norm of all gradients together exceeds c, every
// gradient is multiplied by c / |g|, which keeps the step's direction and caps its length.
//
// Dimension legend: n parameters. g (n) is the whole trainable region's gradient (one arena
// block), scaled in place. c is read from memory, the optimizer block hp at OPT_CLIP_NORM
// (settings.ts), so the host passes only integers (see adam_step).
//
//   s = sum_i g_i^2 in f64 (sum_squares: exact squares, rounded additions)
//   if c > 0 and s > c^2:  f = f32(c / sqrt(s)),  g_i = g_i * f   (float32 multiply)
//
// Keras multiplies by c * min(1 / |g|, 1 / c) on every step, which in float32 is not exactly 1
// when |g| <= c; here such gradients are left as they are, so a fit whose gradients never exceed c
// has the same bits as one without clipping. The norm is of the data term's gradient: an L2
// penalty's gradient is added later, inside adam_step, and is not clipped (Keras clips it too).
//
// No subnormals (issue 16): the factor c / |g| < 1 scales gradients that are 0 or normal, and
// g_i * c / |g| is subnormal only where |g_i| < 1.2e-38 * |g| / c, a component some 38 orders of
// magnitude below the norm; no gradient kernel makes one (the smallest weight a responsibility
// gives a gradient term is 2^-80, lanes.ts), so no flush is needed here.
//
// The SIMD kernel and its scalar twin scale identically (one f32 multiply per element) but take
// the norm from sum_squares and sum_squares_scalar, whose summation orders differ: they agree to
// rounding of the factor (one ulp), not bit for bit.

import { sum_squares, sum_squares_scalar } from "./adam";
import { OPT_CLIP_NORM } from "./settings";

// @ts-ignore: decorator
@inline
function clip_factor(s: f64, hp: usize): f32 {
  const c = load<f64>(hp, OPT_CLIP_NORM);
  return c > 0 && s > c * c ? <f32>(c / Math.sqrt(s)) : 1;
}

/** Scalar twin: g (n) *= min(1, c / |g|), c = hp's OPT_CLIP_NORM. Returns 1 when it scaled, else 0. */
export function clip_global_norm_scalar(g: usize, n: i32, hp: usize): i32 {
  assert((hp & 7) == 0);
  const f = clip_factor(sum_squares_scalar(g, n), hp);
  if (f == 1) return 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(g + off, load<f32>(g + off) * f);
  }
  return 1;
}

/** g (n) *= min(1, c / |g|), c = hp's OPT_CLIP_NORM, four lanes at a time. Returns 1 when it scaled, else 0. */
export function clip_global_norm(g: usize, n: i32, hp: usize): i32 {
  assert((hp & 7) == 0);
  assert((g & 15) == 0);
  const f = clip_factor(sum_squares(g, n), hp);
  if (f == 1) return 0;
  const fv = f32x4.splat(f);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = g + (<usize>i << 2);
    v128.store(p, f32x4.mul(v128.load(p), fv));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(g + off, load<f32>(g + off) * f);
  }
  return 1;
}
