// Arena kernels (assembly/memory.ts): the batch gather, fills, copies and the finiteness check,
// at widths below, at and past the SIMD width and past the narrow-row path (16 floats).

import { beforeAll, describe, expect, it } from "vitest";
import type { TestKernels } from "../src/engine/kernels.js";
import { Heap, loadKernels, testRng, uniform } from "./util.js";

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

describe("gather_rows", () => {
  for (const width of [1, 2, 3, 4, 5, 16, 17, 33]) {
    it(`copies rows idx[start .. start + count) of a (rows, ${width}) matrix in index order`, () => {
      const h = new Heap(k);
      const rng = testRng(width);
      const rows = 23;
      const src = uniform(rng, rows * width);
      const order = Array.from({ length: rows }, (_, i) => (i * 7 + 3) % rows);
      const start = 4, count = 13;
      const pSrc = h.put(src);
      const pIdx = h.alloc(rows);
      h.u32(pIdx, rows).set(order);
      // One float past the output is a sentinel: nothing may be written beyond count rows.
      const pOut = h.alloc(count * width + 1);
      h.f32(pOut, count * width + 1).fill(-7);
      k.gather_rows(pOut, pSrc, pIdx, start, count, width);
      const want: number[] = [];
      for (let r = 0; r < count; r++) for (let c = 0; c < width; c++) want.push(Math.fround(src[order[start + r]! * width + c]!));
      want.push(-7);
      expect(Array.from(h.f32(pOut, count * width + 1))).toEqual(want);
    });
  }
});

describe("fill_zero, copy_bytes, all_finite", () => {
  it("fill_zero zeroes exactly nbytes", () => {
    const h = new Heap(k);
    const p = h.alloc(40);
    h.f32(p, 40).fill(3);
    k.fill_zero(p, 4 * 37);
    expect(Array.from(h.f32(p, 40))).toEqual([...Array(37).fill(0), 3, 3, 3]);
  });

  it("copy_bytes copies overlapping ranges like memmove", () => {
    const h = new Heap(k);
    const p = h.put(Array.from({ length: 12 }, (_, i) => i));
    k.copy_bytes(p + 8, p, 4 * 8);
    expect(Array.from(h.f32(p, 12))).toEqual([0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 10, 11]);
  });

  for (const n of [1, 3, 4, 5, 8, 17, 33]) {
    it(`all_finite finds a NaN or an infinity at any of ${n} positions, and nothing in finite data`, () => {
      const h = new Heap(k);
      const p = h.put(uniform(testRng(n), n, -3e38, 3e38));
      expect(k.all_finite(p, n)).toBe(1);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (let i = 0; i < n; i++) {
          const v = h.f32(p, n);
          const keep = v[i]!;
          v[i] = bad;
          expect(k.all_finite(p, n)).toBe(0);
          // Only the first n floats count.
          expect(k.all_finite(p, i)).toBe(1);
          h.f32(p, n)[i] = keep;
        }
      }
    });
  }
});
