// SIMD-peak probe (not part of the library): the most f32x4 multiply-add work one core sustains,
// the ceiling every kernel figure in RESULTS.md is compared with. WebAssembly SIMD has no fused
// multiply-add (only relaxed-simd, which the library does not use), so one "mul+add" is two
// instructions doing 8 flops on four lanes.
//
// The probe is the GEMM inner step, from L1, with as many independent accumulators as x86's 16
// xmm registers allow: per k it loads 2 vectors of B and broadcasts R scalars of A, feeding R x 2
// accumulators (an R x 8 register tile). R = 4 (8 accumulators) and R = 6 (12 accumulators) are
// both measured and the report keeps the faster. Operands come from memory, so no product can be
// hoisted out of the loop, and the result depends on every accumulator, so nothing is dead code.
// (A pure-register loop x_j += y * z is no better a probe: with few distinct operands the
// compiler folds equal products together, and with many it runs out of registers.)

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
