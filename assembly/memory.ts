// Arena helpers: where the host may start its arena, and bulk moves inside it.

/** First 16-byte aligned byte after the module's static data: the arena starts here. */
export function heap_base(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Zero `nbytes` bytes at `ptr` (gradients once per step). */
export function fill_zero(ptr: usize, nbytes: i32): void {
  memory.fill(ptr, 0, <usize>nbytes);
}

/** Copy `nbytes` bytes from `src` to `dst` (weight snapshots); the regions may overlap. */
export function copy_bytes(dst: usize, src: usize, nbytes: i32): void {
  memory.copy(dst, src, <usize>nbytes);
}

/**
 * Gather rows: out (count, width) = src[idx[start + r]] for r in [0, count).
 * `idx` holds u32 row numbers (a shuffled order); this is how a batch is staged without JS.
 */
export function gather_rows(out: usize, src: usize, idx: usize, start: i32, count: i32, width: i32): void {
  const rowBytes = <usize>width << 2;
  // memory.copy costs a runtime call (~15 ns in V8) whatever its size, more than copying a narrow
  // row float by float (the seed's rows are 2 floats: gathers were 3.4% of its fit).
  const narrow = width <= 16;
  for (let r = 0; r < count; r++) {
    const row = <usize>load<u32>(idx + ((<usize>(start + r)) << 2));
    const o = out + <usize>r * rowBytes;
    const s = src + row * rowBytes;
    if (narrow) {
      for (let c: usize = 0; c < rowBytes; c += 4) store<f32>(o + c, load<f32>(s + c));
    } else {
      memory.copy(o, s, rowBytes);
    }
  }
}

/** True when every one of the `n` floats at `x` is finite (no NaN, no Inf). */
export function all_finite(x: usize, n: i32): bool {
  // A float is finite exactly when x - x == 0; NaN and +-Inf both give NaN.
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    acc = f32x4.add(acc, f32x4.sub(v, v));
  }
  let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) +
    f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    s += v - v;
  }
  return s == 0;
}
