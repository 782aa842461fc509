// The one seeded generator: xoshiro128** (Blackman & Vigna, 2018), seeded through splitmix64.
// Every random choice in the library (weight init, shuffling, dropout masks, sampling) draws from
// a generator whose 16-byte state lives in the arena, so the host can save and restore it and a
// seed reproduces every bit on every engine.
//
// state (4) u32

/** Seed a generator: splitmix64 expands the 64-bit seed into four non-zero words. */
export function rng_seed(state: usize, seed: u64): void {
  let z = seed;
  for (let i = 0; i < 2; i++) {
    z += 0x9e3779b97f4a7c15;
    let x = z;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
    x = x ^ (x >> 31);
    store<u32>(state + (<usize>i << 3), <u32>x);
    store<u32>(state + (<usize>i << 3) + 4, <u32>(x >> 32));
  }
  // xoshiro's only bad state is all zero; splitmix64 cannot produce it for both words in practice,
  // but guard anyway so no seed can break the stream.
  if ((load<u32>(state) | load<u32>(state, 4) | load<u32>(state, 8) | load<u32>(state, 12)) == 0) {
    store<u32>(state, 1);
  }
}

/** Next 32 random bits. */
// @ts-ignore: decorator
@inline
export function rng_next_u32(state: usize): u32 {
  let s0 = load<u32>(state);
  let s1 = load<u32>(state, 4);
  let s2 = load<u32>(state, 8);
  let s3 = load<u32>(state, 12);
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
  return result;
}

/** Uniform float32 in [0, 1): the top 24 bits, so every value is exact. */
// @ts-ignore: decorator
@inline
export function rng_uniform(state: usize): f32 {
  return <f32>(rng_next_u32(state) >>> 8) * (<f32>1.0 / <f32>16777216.0);
}

/** Uniform float64 in [0, 1) from 53 bits (two draws). */
export function rng_uniform_f64(state: usize): f64 {
  const hi = <u64>(rng_next_u32(state) >>> 5); // 27 bits
  const lo = <u64>(rng_next_u32(state) >>> 6); // 26 bits
  return <f64>((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}

/** Unbiased integer in [0, bound) by Lemire's multiply-and-reject (bound >= 1). */
export function rng_below(state: usize, bound: u32): u32 {
  let m = <u64>rng_next_u32(state) * <u64>bound;
  let low = <u32>m;
  if (low < bound) {
    const threshold: u32 = (<u32>0 - bound) % bound;
    while (low < threshold) {
      m = <u64>rng_next_u32(state) * <u64>bound;
      low = <u32>m;
    }
  }
  return <u32>(m >> 32);
}

/**
 * Fill a strided block with U(-limit, limit): w[r * stride + c] for r < rows, c < cols.
 * Glorot-uniform init is this with limit = sqrt(6 / (fan_in + fan_out)) (Keras' default kernel
 * initializer); the fused mixture head uses one block per sub-head so each gets its own limit.
 */
export function rng_fill_uniform(w: usize, rows: i32, cols: i32, stride: i32, limit: f32, state: usize): void {
  for (let r = 0; r < rows; r++) {
    const w_r = w + (<usize>(r * stride) << 2);
    for (let c = 0; c < cols; c++) {
      const u = rng_uniform(state);
      store<f32>(w_r + (<usize>c << 2), (u * <f32>2.0 - <f32>1.0) * limit);
    }
  }
}

/** Fisher-Yates shuffle of idx (n) u32 in place. */
export function rng_shuffle(idx: usize, n: i32, state: usize): void {
  for (let i = n - 1; i > 0; i--) {
    const j = <i32>rng_below(state, <u32>(i + 1));
    const a = load<u32>(idx + (<usize>i << 2));
    store<u32>(idx + (<usize>i << 2), load<u32>(idx + (<usize>j << 2)));
    store<u32>(idx + (<usize>j << 2), a);
  }
}

/** idx (n) u32 = 0, 1, ..., n-1. */
export function iota_u32(idx: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u32>(idx + (<usize>i << 2), <u32>i);
}
