// Dense (fully connected) layer, Keras semantics: kernel w (I, O) row-major, bias b (O).
//
// Dimensions: N rows (batch), I inputs, O outputs (units).
//
// Forward:   out (N, O) = inp (N, I) . w (I, O) + b (O)
// Backward, with dout = d loss / d out (N, O):
//   dinp (N, I) += dout . w^T        (skipped when dinp is 0: the first layer needs no dinp)
//   dw   (I, O) += inp^T . dout
//   db   (O)    += sum over n of dout[n, :]
//
// All four are the same strided product C = C0 + A . B (see `gemm`): forward starts from the bias
// (a row stride of 0 repeats it on every row), the gradients start from themselves (dinp with w
// transposed, see `dinp_gemm`; db with A a row of ones). Each adds the products in the same order as
// the scalar twins, so the results are bit-identical. Layers with 1-2 inputs (a first layer) have
// their own forward and dw + db passes (`forwardSmallI`, `dwSmallI`): with k that short, a gemm
// tile spends its time loading and storing C rather than multiplying.
//
// No subnormals (issue 16): no flush here. A sum of floats that are 0 or normal is subnormal only
// when they nearly cancel at the bottom of the normal range, and a product of two normal floats
// only when their exponents add up below -126; what this kernel multiplies and sums is 0 or of
// ordinary size: activations, weights, and gradients whose smallest source, a responsibility, is
// 0 or at least 2^-80 (lanes.ts). A flush of every product would add three instructions to each
// multiply-add.

// ---------------------------------------------------------------------------------------------
// Scalar twins: the plain definitions, and the oracle the SIMD kernels are tested against.
// ---------------------------------------------------------------------------------------------

/** out (N, O) = inp (N, I) . w (I, O) + b (O); overwrites out. */
export function dense_forward_scalar(out: usize, inp: usize, w: usize, b: usize, N: i32, I: i32, O: i32, work: usize): void {
  checkShapes(out, inp, w, b, N, I, O);
  for (let n = 0; n < N; n++) {
    const inp_n = inp + (<usize>(n * I) << 2);
    const out_n = out + (<usize>(n * O) << 2);
    for (let o = 0; o < O; o++) {
      // Start from the bias and add the products in order of i; the SIMD kernel does the same.
      let s = load<f32>(b + (<usize>o << 2));
      for (let i = 0; i < I; i++) {
        s += load<f32>(inp_n + (<usize>i << 2)) * load<f32>(w + (<usize>(i * O + o) << 2));
      }
      store<f32>(out_n + (<usize>o << 2), s);
    }
  }
}

/**
 * dinp (N, I) += dout (N, O) . w (I, O)^T, unless dinp is 0; dw (I, O) += inp (N, I)^T . dout;
 * db (O) += sum_n dout[n, :].
 */
export function dense_backward_scalar(
  dinp: usize, dw: usize, db: usize, dout: usize, inp: usize, w: usize, N: i32, I: i32, O: i32, work: usize,
): void {
  checkShapes(dout, inp, w, db, N, I, O);
  assert((dw & 15) == 0 && (dinp & 15) == 0, "dense: buffers must be 16-byte aligned");
  if (dinp != 0) dinp_scalar(dinp, dout, w, N, I, O);
  for (let n = 0; n < N; n++) {
    const inp_n = inp + (<usize>(n * I) << 2);
    const dout_n = dout + (<usize>(n * O) << 2);
    for (let i = 0; i < I; i++) {
      // Each dw[i, o] receives its products in order of n, as in the SIMD kernel.
      const x = load<f32>(inp_n + (<usize>i << 2));
      const dw_i = dw + (<usize>(i * O) << 2);
      for (let o = 0; o < O; o++) {
        const p = dw_i + (<usize>o << 2);
        store<f32>(p, load<f32>(p) + x * load<f32>(dout_n + (<usize>o << 2)));
      }
    }
    for (let o = 0; o < O; o++) {
      const p = db + (<usize>o << 2);
      store<f32>(p, load<f32>(p) + load<f32>(dout_n + (<usize>o << 2)));
    }
  }
}

/** dinp (N, I) += dout (N, O) . w (I, O)^T: one dot product along O per (n, i). */
function dinp_scalar(dinp: usize, dout: usize, w: usize, N: i32, I: i32, O: i32): void {
  for (let n = 0; n < N; n++) {
    const dout_n = dout + (<usize>(n * O) << 2);
    for (let i = 0; i < I; i++) {
      // Start from dinp's old value and add the products in order of o, as the SIMD kernel does.
      const w_i = w + (<usize>(i * O) << 2);
      const p = dinp + (<usize>(n * I + i) << 2);
      let s = load<f32>(p);
      for (let o = 0; o < O; o++) s += load<f32>(dout_n + (<usize>o << 2)) * load<f32>(w_i + (<usize>o << 2));
      store<f32>(p, s);
    }
  }
}

// @ts-ignore: decorator
@inline
function checkShapes(out: usize, inp: usize, w: usize, b: usize, N: i32, I: i32, O: i32): void {
  assert(N > 0 && I > 0 && O > 0, "dense: sizes must be positive");
  assert(((out | inp | w | b) & 15) == 0 && out != 0 && inp != 0 && w != 0 && b != 0,
    "dense: buffers must be non-zero and 16-byte aligned");
}

// ---------------------------------------------------------------------------------------------
// SIMD kernels.
// ---------------------------------------------------------------------------------------------

/** out (N, O) = inp (N, I) . w (I, O) + b (O); overwrites out. */
export function dense_forward(out: usize, inp: usize, w: usize, b: usize, N: i32, I: i32, O: i32, work: usize): void {
  checkShapes(out, inp, w, b, N, I, O);
  checkWork(work);
  // Under one vector of outputs there is nothing to vectorise over.
  if (O < 4) {
    dense_forward_scalar(out, inp, w, b, N, I, O, work);
    return;
  }
  if (I <= 2) {
    forwardSmallI(out, inp, w, b, N, I, O);
    return;
  }
  // Rows of A are rows of inp (stride I, k = i steps 1); C0 is the bias on every row (stride 0).
  pack = work;
  gemm(out, O, b, 0, inp, I, 1, w, O, N, I);
}

/**
 * dense_forward for I <= 2 (a first layer over one or two features). A 4 x 8 tile would reload
 * the bias and store 8 vectors for every 1-2 steps of k; instead 8 columns of the bias and of w's
 * I rows stay in registers while the rows of inp stream past: 2 stores per 2 or 4 mul + add pairs.
 * The last block of columns ends at column O and overlaps the one before when O % 8 != 0: the
 * overlapped columns get the same values again (out is only written), so no tail loop or mask.
 */
function forwardSmallI(out: usize, inp: usize, w: usize, b: usize, N: i32, I: i32, O: i32): void {
  const rowI = <usize>I << 2;
  const rowO = <usize>O << 2;
  // For I = 1 the second row of w is never used; reading row 0 again keeps the loads inside w.
  const w1 = w + (I > 1 ? rowO : 0);
  for (let p = 0; p < O; p += 8) {
    const o0 = <usize>min(p, O - 4) << 2;
    const o1 = <usize>min(p + 4, O - 4) << 2;
    const c0 = v128.load(b + o0), c1 = v128.load(b + o1);
    const y00 = v128.load(w + o0), y01 = v128.load(w + o1);
    const y10 = v128.load(w1 + o0), y11 = v128.load(w1 + o1);
    let a = inp, c = out;
    const aEnd = inp + <usize>N * rowI;
    do {
      let s = v128.load32_splat(a);
      let x0 = f32x4.add(c0, f32x4.mul(s, y00));
      let x1 = f32x4.add(c1, f32x4.mul(s, y01));
      if (I > 1) {
        s = v128.load32_splat(a, 4);
        x0 = f32x4.add(x0, f32x4.mul(s, y10));
        x1 = f32x4.add(x1, f32x4.mul(s, y11));
      }
      v128.store(c + o0, x0);
      v128.store(c + o1, x1);
      a += rowI;
      c += rowO;
    } while (a < aEnd);
  }
}

/**
 * dw (I, O) += inp^T . dout and db (O) += sum_n dout[n, :] for I <= 2 and O % 4 == 0, in one pass
 * over dout: a gemm with k = n over 1-2 rows keeps 4 accumulators per 16 columns busy, then
 * passes over dout again for db. Here 8 columns of dw's I rows and of db accumulate in registers
 * (up to 6 independent chains) while the rows of dout and inp stream past; each still receives its
 * terms in order of n after its old value, as in the scalar twin (db adds dout itself, as there).
 * When O % 8 == 4 the last block's two vectors are the same 4 columns: both compute the same
 * values from the same old ones.
 */
function dwSmallI(dw: usize, db: usize, dout: usize, inp: usize, N: i32, I: i32, O: i32): void {
  const rowI = <usize>I << 2;
  const rowO = <usize>O << 2;
  // For I = 1 dw's second row aliases row 0 and is stored before it, so row 0 wins.
  const w1 = dw + (I > 1 ? rowO : 0);
  for (let p = 0; p < O; p += 8) {
    const o0 = <usize>p << 2, o1 = <usize>min(p + 4, O - 4) << 2;
    let d0 = v128.load(db + o0), d1 = v128.load(db + o1);
    let x00 = v128.load(dw + o0), x01 = v128.load(dw + o1);
    let x10 = v128.load(w1 + o0), x11 = v128.load(w1 + o1);
    let a = inp, y = dout;
    const yEnd = dout + <usize>N * rowO;
    do {
      const y0 = v128.load(y + o0), y1 = v128.load(y + o1);
      d0 = f32x4.add(d0, y0);
      d1 = f32x4.add(d1, y1);
      let s = v128.load32_splat(a);
      x00 = f32x4.add(x00, f32x4.mul(s, y0));
      x01 = f32x4.add(x01, f32x4.mul(s, y1));
      if (I > 1) {
        s = v128.load32_splat(a, 4);
        x10 = f32x4.add(x10, f32x4.mul(s, y0));
        x11 = f32x4.add(x11, f32x4.mul(s, y1));
      }
      a += rowI;
      y += rowO;
    } while (y < yEnd);
    v128.store(w1 + o0, x10); v128.store(w1 + o1, x11);
    v128.store(dw + o0, x00); v128.store(dw + o1, x01);
    v128.store(db + o0, d0); v128.store(db + o1, d1);
  }
}

/**
 * dinp (N, I) += dout (N, O) . w (I, O)^T, unless dinp is 0; dw (I, O) += inp (N, I)^T . dout;
 * db (O) += sum_n dout[n, :].
 */
export function dense_backward(
  dinp: usize, dw: usize, db: usize, dout: usize, inp: usize, w: usize, N: i32, I: i32, O: i32, work: usize,
): void {
  checkShapes(dout, inp, w, db, N, I, O);
  checkWork(work);
  pack = work;
  assert((dw & 15) == 0 && (dinp & 15) == 0, "dense: buffers must be 16-byte aligned");
  if (O < 4) {
    dense_backward_scalar(dinp, dw, db, dout, inp, w, N, I, O, work);
    return;
  }
  if (dinp != 0) {
    // gemm needs 4 columns (inputs, here); narrower layers (the first, usually skipped) go scalar.
    if (I >= 4) dinp_gemm(dinp, dout, w, N, I, O);
    else dinp_scalar(dinp, dout, w, N, I, O);
  }
  if (I <= 2 && (O & 3) == 0) {
    dwSmallI(dw, db, dout, inp, N, I, O);
    return;
  }
  // dw = dw + inp^T . dout: rows of A are columns of inp (stride 1, k = n steps I).
  gemm(dw, O, dw, O, inp, 1, I, dout, O, I, N);
  // db = db + ones (1, N) . dout: A is one 1.0 (both strides 0), and 1 * x == x exactly, so this is
  // the scalar twin's sum in order of n, with 4 independent accumulators per 16 columns instead of
  // one serial chain of adds per 4.
  gemm(db, O, db, O, ONE, 0, 0, dout, O, 1, N);
}

/**
 * Lanes of the vector at column `cols - 4` that hold columns not yet written, for a tail of r = 1..3
 * columns: lane j is live when j >= 4 - r. A tail is handled by recomputing the last whole vector
 * and keeping the already-written lanes (v128.bitselect), so no scalar tail loop is needed.
 */
// @ts-ignore: decorator
@inline
function tailMask(r: i32): v128 {
  return i32x4.gt_s(i32x4(0, 1, 2, 3), i32x4.splat(3 - r));
}

/** Bytes of the buffer that holds one block of k of B, packed into 8-column panels (half of L2). */
const PACK_BYTES = 256 * 1024;

/**
 * C (M, P) = C0 + A (M, K) . B (K, P), P >= 4, all strides in elements:
 *   C[m, p] at c + m*cs + p, C0[m, p] at c0 + m*c0s + p, A[m, k] at a + m*ars + k*ak, B[k, p] at b + k*P + p.
 * C0 may be C itself (accumulate) or a row repeated with c0s = 0 (bias).
 *
 * Register tile: 4 rows x 8 columns = 8 f32x4 accumulators. Per k the tile loads 2 vectors of B and
 * broadcasts 4 scalars of A for 8 mul+add pairs, so arithmetic (not loads) is the bottleneck, and
 * 8 accumulators + 2 B vectors + 1 broadcast fit x86's 16 xmm registers without spilling.
 * Column leftovers take 4 x 4 tiles, the last one masked (see tailMask). A last block of fewer than
 * 4 rows repeats its last row: every tile reads all of C0 before it stores, so the repeated rows
 * compute and store the same value, which is correct even when C0 is C.
 *
 * Cache blocking, for large B (see `gemmBlocked`): columns and k run in blocks, and each block of B
 * is copied into contiguous 8-column panels, each of which stays in L1 while every row of A passes
 * over it.
 * Each C[m, p] still starts from C0 and receives its products in order of k (a block ends by storing
 * the f32 partial sum, the next reloads it exactly), so the result is bit-identical either way.
 */
function gemm(
  c: usize, cs: i32, c0: usize, c0s: i32, a: usize, ars: i32, ak: i32, b: usize, P: i32, M: i32, K: i32,
): void {
  // Small products keep B in cache as it is; blocking pays once B outgrows L1/L2 and M reuses it.
  if (M >= 16 && <i64>K * <i64>P > 16384) {
    gemmBlocked(c, cs, c0, c0s, a, ars, ak, b, P, M, K);
    return;
  }
  const csB = <usize>cs << 2;
  const c0sB = <usize>c0s << 2;
  const arsB = <usize>ars << 2;
  const akB = <usize>ak << 2;
  const bkB = <usize>P << 2;
  for (let m = 0; m < M; m += 4) {
    const rows = min(4, M - m);
    const c_m = c + <usize>m * csB;
    const c0_m = c0 + <usize>m * c0sB;
    const a_m = a + <usize>m * arsB;
    let p = 0;
    if (M < 4) {
      // A product of 1-3 rows (predict of a few rows): one row at a time over 16 columns, rather
      // than 4-row tiles that would repeat the row; the rest of the columns as below.
      for (; p + 16 <= P; p += 16) {
        const off = <usize>p << 2;
        for (let r = 0; r < rows; r++) {
          tile1x16(c_m + <usize>r * csB + off, c0_m + <usize>r * c0sB + off, a_m + <usize>r * arsB, akB, b + off, bkB, K);
        }
      }
    }
    if (ars == 1 && rows == 4) {
      // dw: the 4 rows of A are 4 adjacent columns of inp, one pointer apart by constant offsets.
      for (; p + 8 <= P; p += 8) {
        const off = <usize>p << 2;
        tile4x8(c_m + off, csB, c0_m + off, c0sB, a_m, arsB, akB, b + off, bkB, K, rows, true);
      }
    }
    for (; p + 8 <= P; p += 8) {
      const off = <usize>p << 2;
      tile4x8(c_m + off, csB, c0_m + off, c0sB, a_m, arsB, akB, b + off, bkB, K, rows, false);
    }
    columnTail(c_m, csB, c0_m, c0sB, a_m, arsB, akB, b, bkB, K, rows, p, P);
  }
}

/** Rows of k per block of `gemmBlocked`, and columns per block: KC x NC floats fill PACK. */
const KC = 256;
const NC = PACK_BYTES / (KC * 4);
/** Rows of A per packed block: MC x KC floats (64 KiB, in L2) in strips of 4 rows, k-major. */
const MC = 64;
/**
 * The work region the host plans for dense_forward and dense_backward (src/engine/kernels.ts
 * DENSE_WORK_BYTES): PACK (PACK_BYTES) then APACK (MC x KC floats). Scratch comes from the caller,
 * never from a static address, so two instances over one shared memory can multiply at once.
 */
export const DENSE_WORK_BYTES: i32 = PACK_BYTES + MC * KC * 4;
/**
 * The work region of the running dense_forward or dense_backward call: PACK at pack, APACK at
 * pack + PACK_BYTES. Set from the work argument on entry; a module global, so per instance (per
 * thread), and read by the packing loops instead of passed down: one more pointer argument kept
 * live across gemmBlocked's tiles cost 4% of a 4096 x 256 x 256 forward in V8.
 */
let pack: usize = 0;

// @ts-ignore: decorator
@inline
function checkWork(work: usize): void {
  assert(work != 0 && (work & 15) == 0, "dense: work must be non-zero and 16-byte aligned");
}
/** A row of ones for db (see `dense_backward`). */
const ONE: usize = memory.data<f32>([1]);

/**
 * `gemm` blocked for the caches. Columns run in blocks of NC and k in blocks of KC; each block of B
 * (KC x NC) is copied row by row (sequential reads) into PACK as NC / 8 panels of KC x 8 contiguous
 * floats. Rows of A run in blocks of MC, each copied into APACK as strips of 4 rows with the 4 values
 * of one k side by side (a short last strip repeats its last row), so a tile reads A and B
 * contiguously whatever A's strides (dw reads inp transposed, rows I floats apart). For each panel
 * every strip passes over it while it sits in L1. The first block of k starts from C0, the later
 * ones from C. Columns past the last whole panel (P % 8) run after all blocks, unblocked, as in `gemm`.
 */
function gemmBlocked(
  c: usize, cs: i32, c0: usize, c0s: i32, a: usize, ars: i32, ak: i32, b: usize, P: i32, M: i32, K: i32,
): void {
  const csB = <usize>cs << 2;
  const arsB = <usize>ars << 2;
  const akB = <usize>ak << 2;
  const bkB = <usize>P << 2;
  const P8 = P & ~7;
  for (let pc = 0; pc < P8; pc += NC) {
    const nc = min(NC, P8 - pc);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const panelB = <usize>kc << 5;
      const stripB = <usize>kc << 4;
      const from = k0 == 0 ? c0 : c;
      const fromsB = k0 == 0 ? <usize>c0s << 2 : csB;
      let src = b + <usize>k0 * bkB + (<usize>pc << 2);
      for (let k = 0; k < kc; k++) {
        let dst = pack + (<usize>k << 5);
        for (let p = 0; p < nc; p += 8) {
          const off = <usize>p << 2;
          v128.store(dst, v128.load(src + off));
          v128.store(dst, v128.load(src + off, 16), 16);
          dst += panelB;
        }
        src += bkB;
      }
      for (let m0 = 0; m0 < M; m0 += MC) {
        const mc = min(MC, M - m0);
        packA(a + <usize>m0 * arsB + <usize>k0 * akB, arsB, akB, mc, kc);
        let panel = pack;
        for (let p = pc; p < pc + nc; p += 8) {
          const off = <usize>p << 2;
          let strip = pack + PACK_BYTES;
          for (let m = m0; m < m0 + mc; m += 4) {
            tile4x8(c + <usize>m * csB + off, csB, from + <usize>m * fromsB + off, fromsB, strip, 4, 16,
              panel, 32, kc, min(4, m0 + mc - m), true);
            strip += stripB;
          }
          panel += panelB;
        }
      }
    }
  }
  if (P8 < P) {
    const c0sB = <usize>c0s << 2;
    for (let m = 0; m < M; m += 4) {
      columnTail(c + <usize>m * csB, csB, c0 + <usize>m * c0sB, c0sB, a + <usize>m * arsB, arsB, akB, b, bkB, K,
        min(4, M - m), P8, P);
    }
  }
}

/**
 * Copy mc rows x kc of A (byte strides arsB, akB) into APACK as strips of 4 rows: strip s holds rows
 * 4s .. 4s + 3, the 4 values of one k side by side; a short last strip repeats its last row.
 */
function packA(a: usize, arsB: usize, akB: usize, mc: i32, kc: i32): void {
  let dst = pack + PACK_BYTES;
  for (let m = 0; m < mc; m += 4) {
    const rows = min(4, mc - m);
    const a_m = a + <usize>m * arsB;
    if (rows == 4 && arsB == 4) {
      // Rows side by side in memory (dw: A is inp transposed): one vector per k.
      let src = a_m;
      for (let k = 0; k < kc; k++) {
        v128.store(dst + (<usize>k << 4), v128.load(src));
        src += akB;
      }
    } else {
      for (let r = 0; r < 4; r++) {
        let src = a_m + <usize>min(r, rows - 1) * arsB;
        const d = dst + (<usize>r << 2);
        for (let k = 0; k < kc; k++) {
          store<f32>(d + (<usize>k << 4), load<f32>(src));
          src += akB;
        }
      }
    }
    dst += <usize>kc << 4;
  }
}

/** The columns p .. P (fewer than 8) of one 4-row block: a 4 x 4 tile, then a masked one for the rest. */
// @ts-ignore: decorator
@inline
function columnTail(
  c_m: usize, csB: usize, c0_m: usize, c0sB: usize, a_m: usize, arsB: usize, akB: usize, b: usize, bkB: usize,
  K: i32, rows: i32, p: i32, P: i32,
): void {
  if (p + 4 <= P) {
    const off = <usize>p << 2;
    tile4x4(c_m + off, csB, c0_m + off, c0sB, a_m, arsB, akB, b + off, bkB, K, rows, i32x4.splat(-1));
    p += 4;
  }
  if (p < P) {
    const off = <usize>(P - 4) << 2;
    tile4x4(c_m + off, csB, c0_m + off, c0sB, a_m, arsB, akB, b + off, bkB, K, rows, tailMask(P - p));
  }
}

/**
 * One 4 x 8 tile of `gemm`; byte strides; `rows` (1..4) live rows, the rest repeat the last.
 * `adjacent` (a compile-time constant) says A's 4 rows are 4 floats side by side (ars = 4, all 4
 * readable: a packed strip, or inp^T in dw): one pointer and constant offsets then address them.
 * The loops end on a pointer rather than a counter (K >= 1; B's stride is never 0).
 */
// @ts-ignore: decorator
@inline
function tile4x8(
  c: usize, cs: usize, c0: usize, c0s: usize, a: usize, ars: usize, ak: usize, b: usize, bk: usize, K: i32, rows: i32,
  adjacent: bool,
): void {
  const r1 = <usize>min(1, rows - 1);
  const r2 = <usize>min(2, rows - 1);
  const r3 = <usize>min(3, rows - 1);
  let a0 = a, a1 = a + r1 * ars, a2 = a + r2 * ars, a3 = a + r3 * ars;
  let x00 = v128.load(c0), x01 = v128.load(c0, 16);
  let x10 = v128.load(c0 + r1 * c0s), x11 = v128.load(c0 + r1 * c0s, 16);
  let x20 = v128.load(c0 + r2 * c0s), x21 = v128.load(c0 + r2 * c0s, 16);
  let x30 = v128.load(c0 + r3 * c0s), x31 = v128.load(c0 + r3 * c0s, 16);
  let b_k = b;
  const bEnd = b + <usize>K * bk;
  if (adjacent) {
    do {
      const y0 = v128.load(b_k);
      const y1 = v128.load(b_k, 16);
      let s = v128.load32_splat(a0);
      x00 = f32x4.add(x00, f32x4.mul(s, y0));
      x01 = f32x4.add(x01, f32x4.mul(s, y1));
      s = v128.load32_splat(a0, 4);
      x10 = f32x4.add(x10, f32x4.mul(s, y0));
      x11 = f32x4.add(x11, f32x4.mul(s, y1));
      s = v128.load32_splat(a0, 8);
      x20 = f32x4.add(x20, f32x4.mul(s, y0));
      x21 = f32x4.add(x21, f32x4.mul(s, y1));
      s = v128.load32_splat(a0, 12);
      x30 = f32x4.add(x30, f32x4.mul(s, y0));
      x31 = f32x4.add(x31, f32x4.mul(s, y1));
      a0 += ak;
      b_k += bk;
    } while (b_k < bEnd);
  } else {
    do {
      const y0 = v128.load(b_k);
      const y1 = v128.load(b_k, 16);
      let s = v128.load32_splat(a0);
      x00 = f32x4.add(x00, f32x4.mul(s, y0));
      x01 = f32x4.add(x01, f32x4.mul(s, y1));
      s = v128.load32_splat(a1);
      x10 = f32x4.add(x10, f32x4.mul(s, y0));
      x11 = f32x4.add(x11, f32x4.mul(s, y1));
      s = v128.load32_splat(a2);
      x20 = f32x4.add(x20, f32x4.mul(s, y0));
      x21 = f32x4.add(x21, f32x4.mul(s, y1));
      s = v128.load32_splat(a3);
      x30 = f32x4.add(x30, f32x4.mul(s, y0));
      x31 = f32x4.add(x31, f32x4.mul(s, y1));
      a0 += ak; a1 += ak; a2 += ak; a3 += ak;
      b_k += bk;
    } while (b_k < bEnd);
  }
  v128.store(c, x00); v128.store(c, x01, 16);
  v128.store(c + r1 * cs, x10); v128.store(c + r1 * cs, x11, 16);
  v128.store(c + r2 * cs, x20); v128.store(c + r2 * cs, x21, 16);
  v128.store(c + r3 * cs, x30); v128.store(c + r3 * cs, x31, 16);
}

/** One 1 x 16 tile of `gemm` (4 accumulators); byte strides. */
// @ts-ignore: decorator
@inline
function tile1x16(c: usize, c0: usize, a: usize, ak: usize, b: usize, bk: usize, K: i32): void {
  let x0 = v128.load(c0), x1 = v128.load(c0, 16), x2 = v128.load(c0, 32), x3 = v128.load(c0, 48);
  let a_k = a, b_k = b;
  const bEnd = b + <usize>K * bk;
  do {
    const s = v128.load32_splat(a_k);
    x0 = f32x4.add(x0, f32x4.mul(s, v128.load(b_k)));
    x1 = f32x4.add(x1, f32x4.mul(s, v128.load(b_k, 16)));
    x2 = f32x4.add(x2, f32x4.mul(s, v128.load(b_k, 32)));
    x3 = f32x4.add(x3, f32x4.mul(s, v128.load(b_k, 48)));
    a_k += ak;
    b_k += bk;
  } while (b_k < bEnd);
  v128.store(c, x0); v128.store(c, x1, 16); v128.store(c, x2, 32); v128.store(c, x3, 48);
}

/** One 4 x 4 tile of `gemm`; lanes outside `live` keep what C already holds. */
// @ts-ignore: decorator
@inline
function tile4x4(
  c: usize, cs: usize, c0: usize, c0s: usize, a: usize, ars: usize, ak: usize, b: usize, bk: usize, K: i32, rows: i32,
  live: v128,
): void {
  const r1 = <usize>min(1, rows - 1);
  const r2 = <usize>min(2, rows - 1);
  const r3 = <usize>min(3, rows - 1);
  let a0 = a, a1 = a + r1 * ars, a2 = a + r2 * ars, a3 = a + r3 * ars;
  let x0 = v128.load(c0);
  let x1 = v128.load(c0 + r1 * c0s);
  let x2 = v128.load(c0 + r2 * c0s);
  let x3 = v128.load(c0 + r3 * c0s);
  let b_k = b;
  const bEnd = b + <usize>K * bk;
  do {
    const y = v128.load(b_k);
    x0 = f32x4.add(x0, f32x4.mul(v128.load32_splat(a0), y));
    x1 = f32x4.add(x1, f32x4.mul(v128.load32_splat(a1), y));
    x2 = f32x4.add(x2, f32x4.mul(v128.load32_splat(a2), y));
    x3 = f32x4.add(x3, f32x4.mul(v128.load32_splat(a3), y));
    a0 += ak; a1 += ak; a2 += ak; a3 += ak;
    b_k += bk;
  } while (b_k < bEnd);
  // Masked lanes were written by an earlier tile (or belong to a repeated row): keep them.
  const c1 = c + r1 * cs, c2 = c + r2 * cs, c3 = c + r3 * cs;
  const k0 = v128.load(c), k1 = v128.load(c1), k2 = v128.load(c2), k3 = v128.load(c3);
  v128.store(c, v128.bitselect(x0, k0, live));
  v128.store(c1, v128.bitselect(x1, k1, live));
  v128.store(c2, v128.bitselect(x2, k2, live));
  v128.store(c3, v128.bitselect(x3, k3, live));
}

/**
 * dinp (N, I) += dout (N, O) . w (I, O)^T for I >= 4, O >= 4, as `gemm` with C = C0 = dinp, A = dout
 * (rows O apart, k = o steps 1) and B = w^T (O, I). gemm reads B row-major, so w passes through
 * APACK in blocks copied transposed: O split evenly into blocks of at most KC outputs (k), so each
 * has at least 4, by ib inputs (columns), ib a multiple of 8 that fills APACK, shortened by 8 when
 * it would leave a last block of 1-3 inputs (gemm needs P >= 4). A block's K * P fits APACK, so gemm
 * stays unblocked and never repacks APACK under itself. The blocks of k run in order, each starting
 * from what the last stored, so every dinp[n, i] receives its products in order of o after its old
 * value, exactly as in the scalar twin.
 */
function dinp_gemm(dinp: usize, dout: usize, w: usize, N: i32, I: i32, O: i32): void {
  const rowO = <usize>O << 2;
  const kBlocks = (O + KC - 1) / KC;
  const kcMax = (O + kBlocks - 1) / kBlocks;
  const ibMax = (MC * KC / kcMax) & ~7;
  for (let k0 = 0; k0 < O; k0 += kcMax) {
    const kc = min(kcMax, O - k0);
    for (let i0 = 0; i0 < I;) {
      let ib = min(ibMax, I - i0);
      const rest = I - i0 - ib;
      if (rest > 0 && rest < 4) ib -= 8;
      transposeBlock(w + (<usize>(i0 * O + k0) << 2), rowO, kc, ib);
      const c = dinp + (<usize>i0 << 2);
      gemm(c, I, c, I, dout + (<usize>k0 << 2), O, 1, pack + PACK_BYTES, ib, N, kc);
      i0 += ib;
    }
  }
}

/**
 * APACK (kc, ib) = the block (ib, kc) at w (rows rowO bytes apart) transposed, kc, ib >= 4, in 4 x 4
 * tiles; a last partial tile in either direction moves back to end at the edge and copies some
 * values again, which is harmless.
 */
function transposeBlock(w: usize, rowO: usize, kc: i32, ib: i32): void {
  const apack = pack + PACK_BYTES;
  const ibB = <usize>ib << 2;
  for (let p = 0; p < ib; p += 4) {
    const p0 = min(p, ib - 4);
    for (let k = 0; k < kc; k += 4) {
      const k0 = min(k, kc - 4);
      const src = w + <usize>p0 * rowO + (<usize>k0 << 2);
      const r0 = v128.load(src), r1 = v128.load(src + rowO);
      const r2 = v128.load(src + 2 * rowO), r3 = v128.load(src + 3 * rowO);
      // t01 = [r0[0], r1[0], r0[1], r1[1]] ..., then column j = [r0[j], r1[j], r2[j], r3[j]].
      const t01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const u01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), u23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const dst = apack + <usize>k0 * ibB + (<usize>p0 << 2);
      v128.store(dst, v128.shuffle<f32>(t01, t23, 0, 1, 4, 5));
      v128.store(dst + ibB, v128.shuffle<f32>(t01, t23, 2, 3, 6, 7));
      v128.store(dst + 2 * ibB, v128.shuffle<f32>(u01, u23, 0, 1, 4, 5));
      v128.store(dst + 3 * ibB, v128.shuffle<f32>(u01, u23, 2, 3, 6, 7));
    }
  }
}
