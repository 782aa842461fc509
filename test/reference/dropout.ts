// Float64 reference for assembly/dropout.ts, written for clarity, with its own transcription of the
// library's generator (xoshiro128**, Blackman & Vigna 2018) so the tests check the draw order and
// the keep rule independently of the wasm code.

/** One xoshiro128** step on state (4) u32 in place; returns the next 32 random bits. */
export function xoshiroNext(s: Uint32Array): number {
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1]! << 9) >>> 0;
  s[2]! ^= s[0]!;
  s[3]! ^= s[1]!;
  s[1]! ^= s[2]!;
  s[0]! ^= s[3]!;
  s[2]! ^= t;
  s[3] = rotl(s[3]!, 11);
  return result;
}

/** Uniform in [0, 1) from the top 24 bits, as rng_uniform in assembly/random.ts. */
export function xoshiroUniform(s: Uint32Array): number {
  return (xoshiroNext(s) >>> 8) / 16777216;
}

export interface Dropout {
  mask: Float64Array; // (n): 0 or 1 / (1 - rate)
  out: Float64Array; // (n) = inp * mask
}

/**
 * Inverted dropout over inp (n): draw u_i in index order from a copy of state, keep element i when
 * u_i >= rate, mask = keep ? 1 / (1 - rate) : 0, out = inp * mask. `state` is advanced by n draws.
 */
export function dropoutForward(inp: ArrayLike<number>, rate: number, state: Uint32Array): Dropout {
  const n = inp.length;
  const mask = new Float64Array(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = xoshiroUniform(state);
    mask[i] = u >= rate ? 1 / (1 - rate) : 0;
    out[i] = inp[i]! * mask[i]!;
  }
  return { mask, out };
}

/** dinp0 + dout * mask. */
export function dropoutBackward(dinp0: ArrayLike<number>, dout: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const dinp = Float64Array.from(dinp0);
  for (let i = 0; i < dinp.length; i++) dinp[i]! += dout[i]! * mask[i]!;
  return dinp;
}
