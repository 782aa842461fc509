// SIMD-peak probe (not part of the library): the most f32x4 multiply-add work one core sustains,
// the ceiling every kernel figure in RESULTS.md is compared with. WebAssembly SIMD has no fused
// multiply-add (only relaxed-simd, which the library does not use), so one "mul+add" is two
// instructions doing 8 flops on four lanes.
//
// Two probes. `peak_reg` is the register peak: 12 independent f32x4 mul+add chains on registers
// only (see its comment for why nothing can be hoisted or folded); it is the ceiling the kernel
// percentages use. `peak_4x8` and `peak_6x8` are the GEMM inner step with operands loaded from L1:
// per k they load 2 vectors of B and broadcast R scalars of A, feeding R x 2 accumulators (an
// R x 8 register tile), which is what a GEMM kernel can at best sustain; they are reported beside
// the register peak. In every probe the result depends on every accumulator, so nothing is dead code.

/** reps passes over K = 256 of a 4 x 8 tile: A (256, 4) k-major at a, B (256, 8) at b; 64 flops per k. */
export function peak_4x8(a: usize, b: usize, reps: i32): f32 {
  let t = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let x00 = f32x4.splat(0), x01 = f32x4.splat(0), x10 = f32x4.splat(0), x11 = f32x4.splat(0);
    let x20 = f32x4.splat(0), x21 = f32x4.splat(0), x30 = f32x4.splat(0), x31 = f32x4.splat(0);
    let a_k = a, b_k = b;
    for (let k = 0; k < 256; k++) {
      const y0 = v128.load(b_k), y1 = v128.load(b_k, 16);
      let s = v128.load32_splat(a_k);
      x00 = f32x4.add(x00, f32x4.mul(s, y0)); x01 = f32x4.add(x01, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 4);
      x10 = f32x4.add(x10, f32x4.mul(s, y0)); x11 = f32x4.add(x11, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 8);
      x20 = f32x4.add(x20, f32x4.mul(s, y0)); x21 = f32x4.add(x21, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 12);
      x30 = f32x4.add(x30, f32x4.mul(s, y0)); x31 = f32x4.add(x31, f32x4.mul(s, y1));
      a_k += 16; b_k += 32;
    }
    t = f32x4.add(t, f32x4.add(f32x4.add(f32x4.add(x00, x01), f32x4.add(x10, x11)), f32x4.add(f32x4.add(x20, x21), f32x4.add(x30, x31))));
  }
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}

/** reps passes over K = 256 of a 6 x 8 tile: A (256, 8) k-major at a (6 used), B (256, 8) at b; 96 flops per k. */
export function peak_6x8(a: usize, b: usize, reps: i32): f32 {
  let t = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let x00 = f32x4.splat(0), x01 = f32x4.splat(0), x10 = f32x4.splat(0), x11 = f32x4.splat(0);
    let x20 = f32x4.splat(0), x21 = f32x4.splat(0), x30 = f32x4.splat(0), x31 = f32x4.splat(0);
    let x40 = f32x4.splat(0), x41 = f32x4.splat(0), x50 = f32x4.splat(0), x51 = f32x4.splat(0);
    let a_k = a, b_k = b;
    for (let k = 0; k < 256; k++) {
      const y0 = v128.load(b_k), y1 = v128.load(b_k, 16);
      let s = v128.load32_splat(a_k);
      x00 = f32x4.add(x00, f32x4.mul(s, y0)); x01 = f32x4.add(x01, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 4);
      x10 = f32x4.add(x10, f32x4.mul(s, y0)); x11 = f32x4.add(x11, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 8);
      x20 = f32x4.add(x20, f32x4.mul(s, y0)); x21 = f32x4.add(x21, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 12);
      x30 = f32x4.add(x30, f32x4.mul(s, y0)); x31 = f32x4.add(x31, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 16);
      x40 = f32x4.add(x40, f32x4.mul(s, y0)); x41 = f32x4.add(x41, f32x4.mul(s, y1));
      s = v128.load32_splat(a_k, 20);
      x50 = f32x4.add(x50, f32x4.mul(s, y0)); x51 = f32x4.add(x51, f32x4.mul(s, y1));
      a_k += 32; b_k += 32;
    }
    const u = f32x4.add(f32x4.add(f32x4.add(x00, x01), f32x4.add(x10, x11)), f32x4.add(f32x4.add(x20, x21), f32x4.add(x30, x31)));
    t = f32x4.add(t, f32x4.add(u, f32x4.add(f32x4.add(x40, x41), f32x4.add(x50, x51))));
  }
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}

/**
 * The register peak: reps passes of 256 steps, each step 12 f32x4 mul+add pairs on registers only,
 * x_j = x_j + x_(j+1 mod 12) * c. Every product reads another accumulator's value from the previous
 * step, so no product is loop-invariant (nothing can be hoisted) and no two products are equal
 * (nothing can be folded); each chain's step is one mul + one add of latency, and 12 chains cover
 * that latency at two pairs per cycle. 12 accumulators + c + one temporary fit 16 xmm registers.
 * The accumulators restart from `seed` every pass, so they stay finite (|1 + c| ^ 256 ~ 1.3).
 * 96 flops per step.
 */
export function peak_reg(seed: usize, reps: i32): f32 {
  const c = f32x4.splat(-0.001);
  let t = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let x0 = v128.load(seed), x1 = v128.load(seed, 16), x2 = v128.load(seed, 32), x3 = v128.load(seed, 48);
    let x4 = v128.load(seed, 64), x5 = v128.load(seed, 80), x6 = v128.load(seed, 96), x7 = v128.load(seed, 112);
    let x8 = v128.load(seed, 128), x9 = v128.load(seed, 144), xa = v128.load(seed, 160), xb = v128.load(seed, 176);
    for (let k = 0; k < 256; k++) {
      const y0 = x0;
      x0 = f32x4.add(x0, f32x4.mul(x1, c)); x1 = f32x4.add(x1, f32x4.mul(x2, c));
      x2 = f32x4.add(x2, f32x4.mul(x3, c)); x3 = f32x4.add(x3, f32x4.mul(x4, c));
      x4 = f32x4.add(x4, f32x4.mul(x5, c)); x5 = f32x4.add(x5, f32x4.mul(x6, c));
      x6 = f32x4.add(x6, f32x4.mul(x7, c)); x7 = f32x4.add(x7, f32x4.mul(x8, c));
      x8 = f32x4.add(x8, f32x4.mul(x9, c)); x9 = f32x4.add(x9, f32x4.mul(xa, c));
      xa = f32x4.add(xa, f32x4.mul(xb, c)); xb = f32x4.add(xb, f32x4.mul(y0, c));
    }
    const u = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
    t = f32x4.add(t, f32x4.add(u, f32x4.add(f32x4.add(x8, x9), f32x4.add(xa, xb))));
  }
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}
