// clip_global_norm (Keras global_clipnorm) against the float64 reference and its scalar twin, at
// sizes below, at and past the SIMD width.
import { beforeAll, describe, expect, it } from "vitest";
import type { TestKernels } from "../src/engine/kernels.js";
import { clipGlobalNorm } from "./reference/clip.js";
import { expectClose, expectIdentical, Heap, loadKernels, normal, SIZES, testRng } from "./util.js";

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

/** Settings block as the host writes it: 6 Adam values, then clipNorm. */
function settings(h: Heap, c: number): number {
  const p = h.alloc(14);
  h.f64(p, 7).set([1e-3, 0, 0.9, 0.999, 1e-7, 0, c]);
  return p;
}

describe("clip_global_norm", () => {
  for (const n of SIZES) {
    it(`n = ${n}: scales to norm c when |g| > c, like the reference; the scalar twin agrees to one ulp of the factor`, () => {
      const g = normal(testRng(40 + n), n, 5);
      const norm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      const c = norm / 3;
      const h = new Heap(k);
      const hp = settings(h, c);
      const p = h.put(g), q = h.put(g);
      expect(k.clip_global_norm(p, n, hp)).toBe(1);
      expect(k.clip_global_norm_scalar(q, n, hp)).toBe(1);
      // One f32 rounding of the factor and one of each product: 2^-23 relative, with room.
      const tol = { atol: 0, rtol: 3 * 2 ** -24 };
      expectClose(h.get(p, n), clipGlobalNorm(g, c), tol, "simd");
      expectClose(h.get(q, n), clipGlobalNorm(g, c), tol, "scalar");
      expectClose(h.get(p, n), h.get(q, n), tol, "simd vs scalar");
      const after = Math.sqrt(h.get(p, n).reduce((a, v) => a + v * v, 0));
      expect(Math.abs(after - c) / c).toBeLessThan(1e-6);
    });

    it(`n = ${n}: leaves every bit alone when |g| <= c or c = 0`, () => {
      const g = normal(testRng(80 + n), n, 5);
      const norm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      const h = new Heap(k);
      for (const c of [norm * 1.0001, 1e30, 0]) {
        const hp = settings(h, c);
        const p = h.put(g), q = h.put(g);
        expect(k.clip_global_norm(p, n, hp)).toBe(0);
        expect(k.clip_global_norm_scalar(q, n, hp)).toBe(0);
        expectIdentical(h.f32(p, n), Float32Array.from(g), `c=${c}`);
        expectIdentical(h.f32(q, n), Float32Array.from(g), `c=${c} scalar`);
      }
    });
  }
});
