// Inverted dropout (Srivastava et al. 2014; Keras `Dropout`): during training each element is
// kept with probability 1 - rate and scaled by 1 / (1 - rate), so the expected output equals the
// input and inference is the identity (the host simply skips this layer outside training).
//
// Dimension legend: n floats (a whole (N, O) activation buffer, treated as flat).
//
// Forward, with u_i = rng_uniform(state) drawn in index order i = 0, 1, ..., n - 1:
//   mask[i] = u_i >= rate ? 1 / (1 - rate) : 0        (kept with probability 1 - rate: u is
//   out[i]  = inp[i] * mask[i]                          uniform on the multiples of 2^-24 in [0, 1))
// Backward (mask is the forward cache):
//   dinp[i] += dout[i] * mask[i]
//
// rate must lie in [0, 1). rate = 0 is valid (every mask entry is 1, out = inp) but still draws n
// numbers, so the host skips the kernel instead of calling it with rate 0 to keep the stream for
// later draws the same whether or not a zero-rate dropout layer is present.
//
// The draws are inherently sequential (each one advances the generator state), so both twins draw
// one number per element in index order and advance the state identically; the SIMD kernel packs
// four draws into a vector and does the compare, select and multiply on f32x4. Both compute
// scale = 1 / (1 - rate) once in float32 and multiply by it, so masks and outputs agree bit for bit.

import { rng_uniform } from "./random";

// @ts-ignore: decorator
@inline
function aligned(ptr: usize): bool {
  return (ptr & 15) == 0;
}

/** mask (n) = 0 or 1 / (1 - rate) drawn from state (4) u32; out (n) = inp (n) * mask. */
export function dropout_forward_scalar(out: usize, mask: usize, inp: usize, n: i32, rate: f32, state: usize): void {
  assert(rate >= 0 && rate < 1);
  // A kept element's value is inp * scale with scale rounded once to float32.
  const scale = <f32>1.0 / (<f32>1.0 - rate);
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const m: f32 = rng_uniform(state) >= rate ? scale : 0;
    store<f32>(mask + off, m);
    store<f32>(out + off, load<f32>(inp + off) * m);
  }
}

/**
 * SIMD transcription of dropout_forward_scalar: four scalar draws, then vector compare and multiply.
 * The generator state lives in locals for the whole call (loaded once, stored back at the end)
 * rather than going through memory on every draw: the same xoshiro128** steps as rng_next_u32, so
 * the same stream, at about half the cost (bench/: the seed fit spent 14% of its time here); the
 * four draws of a vector are assembled in a register (4.8 -> 2.3 ns per element).
 */
export function dropout_forward(out: usize, mask: usize, inp: usize, n: i32, rate: f32, state: usize): void {
  assert(aligned(out) && aligned(mask) && aligned(inp) && n >= 0);
  assert(rate >= 0 && rate < 1);
  const scale = <f32>1.0 / (<f32>1.0 - rate);
  const rate4 = f32x4.splat(rate);
  const scale4 = f32x4.splat(scale);
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const unit = f32x4.splat(<f32>1.0 / <f32>16777216.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    // Four draws in index order (the xoshiro128** step of rng_next_u32, written out once per lane),
    // gathered in a register rather than stored and reloaded as a vector, which stalls store-to-load
    // forwarding. The top 24 bits are below 2^24, so the signed conversion is exact, and scaling by
    // 2^-24 is exact: u equals rng_uniform's value lane by lane.
    let bits: u32, t: u32;
    bits = rotl<u32>(s1 * 5, 7) * 9;
    t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
    let v = i32x4.splat(bits >>> 8);
    bits = rotl<u32>(s1 * 5, 7) * 9;
    t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
    v = i32x4.replace_lane(v, 1, bits >>> 8);
    bits = rotl<u32>(s1 * 5, 7) * 9;
    t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
    v = i32x4.replace_lane(v, 2, bits >>> 8);
    bits = rotl<u32>(s1 * 5, 7) * 9;
    t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
    v = i32x4.replace_lane(v, 3, bits >>> 8);
    const u = f32x4.mul(f32x4.convert_i32x4_s(v), unit);
    const m = v128.and(scale4, f32x4.ge(u, rate4));
    v128.store(mask + off, m);
    v128.store(out + off, f32x4.mul(v128.load(inp + off), m));
  }
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
  // The last n % 4 elements draw through the state in memory, as the scalar twin does.
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const m: f32 = rng_uniform(state) >= rate ? scale : 0;
    store<f32>(mask + o, m);
    store<f32>(out + o, load<f32>(inp + o) * m);
  }
}

/** dinp (n) += dout (n) * mask (n), with mask from the forward pass. */
export function dropout_backward_scalar(dinp: usize, dout: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(dinp + off, load<f32>(dinp + off) + load<f32>(dout + off) * load<f32>(mask + off));
  }
}

/** SIMD transcription of dropout_backward_scalar. */
export function dropout_backward(dinp: usize, dout: usize, mask: usize, n: i32): void {
  assert(aligned(dinp) && aligned(dout) && aligned(mask) && n >= 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const g = f32x4.mul(v128.load(dout + off), v128.load(mask + off));
    v128.store(dinp + off, f32x4.add(v128.load(dinp + off), g));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(dinp + off, load<f32>(dinp + off) + load<f32>(dout + off) * load<f32>(mask + off));
  }
}
