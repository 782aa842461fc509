// Adam (Keras 2 semantics) and sum_squares vs the float64 reference and their scalar twins, plus a
// sanity check that Adam minimizes a quadratic.

import { beforeAll, describe, expect, it } from "vitest";
import type { TestKernels } from "../src/engine/kernels.js";
import { adamLrT, adamUpdate, sumSquares, type AdamHyper } from "./reference/adam.js";
import {
  expectClose,
  expectIdentical,
  Heap,
  loadKernels,
  normal,
  SIZES,
  testRng,
  uniform,
  type Tol,
} from "./util.js";

// Keras defaults.
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-7;

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

type Variant = "simd" | "scalar";

interface Run {
  w: Float64Array;
  m: Float64Array;
  v: Float64Array;
  /** g as left in memory after the last step (must equal the last gradient). */
  g: Float64Array;
}

interface Schedule {
  n: number;
  lr: number;
  decay: number;
  l2: number;
  steps: number;
  seed: number;
}

/** Gradients for every step of a schedule: normal draws, with some exact zeros (v stays tiny). */
function gradients(s: Schedule): Float64Array[] {
  const rng = testRng(s.seed + 1);
  return Array.from({ length: s.steps }, () => normal(rng, s.n).map((x, i) => (i % 7 === 3 ? 0 : x)));
}

/** Run `steps` Adam steps in wasm from w0 and zero moments. */
function runKernel(variant: Variant, s: Schedule, w0: Float64Array, grads: Float64Array[]): Run {
  const h = new Heap(k);
  const w = h.put(w0);
  const m = h.put(new Float64Array(s.n));
  const v = h.put(new Float64Array(s.n));
  const g = h.alloc(s.n);
  const fn = variant === "simd" ? k.adam_update : k.adam_update_scalar;
  for (let t = 1; t <= s.steps; t++) {
    h.f32(g, s.n).set(grads[t - 1]!);
    fn(w, g, m, v, s.n, k.adam_lr_t(s.lr, s.decay, BETA1, BETA2, t), BETA1, BETA2, EPS, s.l2);
  }
  return { w: h.get(w, s.n), m: h.get(m, s.n), v: h.get(v, s.n), g: h.get(g, s.n) };
}

/** The same steps in float64, with the hyperparameters rounded to the float32 the kernel sees. */
function runReference(s: Schedule, w0: Float64Array, grads: Float64Array[]): Run {
  const w = Float64Array.from(w0);
  const m = new Float64Array(s.n);
  const v = new Float64Array(s.n);
  for (let t = 1; t <= s.steps; t++) {
    const hyper: AdamHyper = {
      lrT: Math.fround(adamLrT(s.lr, s.decay, BETA1, BETA2, t)),
      beta1: Math.fround(BETA1),
      beta2: Math.fround(BETA2),
      eps: Math.fround(EPS),
      l2: Math.fround(s.l2),
    };
    adamUpdate(w, grads[t - 1]!, m, v, hyper);
  }
  return { w, m, v, g: grads[s.steps - 1]! };
}

function schedules(): Schedule[] {
  const out: Schedule[] = [];
  let seed = 1;
  for (const n of [...SIZES, 1000]) {
    for (const l2 of [0, 0.01]) {
      for (const decay of [0, 0.05]) out.push({ n, lr: 0.01, decay, l2, steps: 6, seed: seed++ });
    }
  }
  return out;
}

const label = (s: Schedule) => `n=${s.n} l2=${s.l2} decay=${s.decay}`;

describe("adam_lr_t", () => {
  it("matches the Keras formula computed in JS", () => {
    // The module's beta^t by repeated squaring has relative error ~ t * 2^-53 against Math.pow's
    // ulp; 1 - beta^t amplifies that by beta^t / (1 - beta^t), so ~1e-13 relative for these t.
    const tol: Tol = { atol: 0, rtol: 1e-12 };
    for (const [b1, b2] of [[BETA1, BETA2], [0.5, 0.75]] as const) {
      for (const decay of [0, 1e-3, 0.5]) {
        const ts = [1, 2, 3, 10, 100, 1000, 123456];
        const got = ts.map((t) => k.adam_lr_t(1e-3, decay, b1, b2, t));
        const want = ts.map((t) => adamLrT(1e-3, decay, b1, b2, t));
        expectClose(got, want, tol, `b1=${b1} b2=${b2} decay=${decay}`);
      }
    }
    // Step 1 without decay: sqrt(1 - b2) / (1 - b1) * lr, the bias-corrected first step.
    expect(k.adam_lr_t(1e-3, 0, BETA1, BETA2, 1)).toBeCloseTo((1e-3 * Math.sqrt(0.001)) / 0.1, 15);
  });
});

describe("adam_update", () => {
  it("matches the float64 reference over several steps (with and without l2 and decay)", () => {
    // Each step rounds w, m and v a few times at 2^-24 ~ 6e-8 relative; over 6 steps that stays
    // below 1e-6 relative. m is a sum of terms (1 - b1) b1^k g ~ 0.1 * |g| <= 0.4 that may cancel
    // to near zero, so its error is absolute: a few ulps of 0.4, ~1e-7. v sums positive terms.
    const tolW: Tol = { atol: 2e-7, rtol: 1e-6 };
    const tolM: Tol = { atol: 2e-7, rtol: 1e-6 };
    const tolV: Tol = { atol: 1e-12, rtol: 1e-6 };
    for (const s of schedules()) {
      const w0 = uniform(testRng(s.seed), s.n);
      const grads = gradients(s);
      const got = runKernel("simd", s, w0, grads);
      const want = runReference(s, w0, grads);
      expectClose(got.w, want.w, tolW, `${label(s)} w`);
      expectClose(got.m, want.m, tolM, `${label(s)} m`);
      expectClose(got.v, want.v, tolV, `${label(s)} v`);
      expectIdentical(got.g, want.g, `${label(s)} g untouched`);
    }
  });

  it("with g = 0, l2 alone moves each weight about lr toward 0 (Adam's first step ~ lr * sign)", () => {
    // Step 1: lrT = lr sqrt(1 - b2) / (1 - b1), m = (1 - b1) g', v = (1 - b2) g'^2 with
    // g' = 2 l2 w, so the step is exactly lr * g' / (|g'| + eps / sqrt(1 - b2)).
    const n = 17;
    const lr = 0.01;
    const l2 = 0.01;
    const rng = testRng(77);
    const w0 = uniform(rng, n, 0.2, 1).map((x, i) => (i % 2 === 0 ? x : -x));
    const got = runKernel("simd", { n, lr, decay: 0, l2, steps: 1, seed: 77 }, w0, [new Float64Array(n)]);
    const want = w0.map((x) => x - (lr * 2 * l2 * x) / (2 * l2 * Math.abs(x) + EPS / Math.sqrt(1 - BETA2)));
    // A few float32 roundings of w (~1) and of the step (~lr).
    expectClose(got.w, want, { atol: 2e-7, rtol: 0 }, "w");
  });

  it("agrees bit for bit with the scalar twin", () => {
    for (const s of schedules()) {
      const w0 = uniform(testRng(s.seed), s.n);
      const grads = gradients(s);
      const a = runKernel("simd", s, w0, grads);
      const b = runKernel("scalar", s, w0, grads);
      expectIdentical(a.w, b.w, `${label(s)} w`);
      expectIdentical(a.m, b.m, `${label(s)} m`);
      expectIdentical(a.v, b.v, `${label(s)} v`);
    }
  });

  it("decreases a quadratic", () => {
    // f(w) = sum a_i (w_i - c_i)^2, gradient 2 a_i (w_i - c_i), from w = 0.
    const n = 33;
    const rng = testRng(5);
    const a = uniform(rng, n, 0.5, 2);
    const c = uniform(rng, n, -1, 1);
    const h = new Heap(k);
    const w = h.put(new Float64Array(n));
    const m = h.put(new Float64Array(n));
    const v = h.put(new Float64Array(n));
    const g = h.alloc(n);
    const f = () => {
      const ww = h.get(w, n);
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i]! * (ww[i]! - c[i]!) ** 2;
      return s;
    };
    const f0 = f();
    const losses: number[] = [];
    for (let t = 1; t <= 300; t++) {
      const ww = h.get(w, n);
      h.f32(g, n).set(ww.map((x, i) => 2 * a[i]! * (x - c[i]!)));
      k.adam_update(w, g, m, v, n, k.adam_lr_t(0.05, 0, BETA1, BETA2, t), BETA1, BETA2, EPS, 0);
      losses.push(f());
    }
    // The first steps move every weight straight toward its target.
    expect(losses[9]!).toBeLessThan(f0);
    expect(losses[299]!).toBeLessThan(1e-3 * f0);
  });
});

describe("sum_squares", () => {
  it("matches the reference and the scalar twin", () => {
    for (const n of [...SIZES, 1000, 100_000]) {
      const w = normal(testRng(n), n, 3);
      const want = sumSquares(w);
      // Squares of float32 are exact in f64, so both sides only round their n additions:
      // at most (n - 1) * 2^-53 relative each (positive terms).
      const tol: Tol = { atol: 0, rtol: 2 * n * 2 ** -53 };
      const h = new Heap(k);
      const p = h.put(w);
      expectClose([k.sum_squares(p, n)], [want], tol, `n=${n}`);
      expectClose([k.sum_squares_scalar(p, n)], [want], tol, `n=${n} scalar`);
    }
  });
});

describe("adam_step (settings from memory, the host's one call per step)", () => {
  // Kernels ending inside a vector or on one, followed by no, part of one, or several vectors of
  // the rest; runs of 1, 2 and more whole vectors on either side (one pass takes two).
  for (const [nK, nR] of [[0, 5], [3, 4], [4, 1], [17, 33], [6, 6], [8, 0], [0, 12], [13, 20], [40, 9], [12, 15]] as const) {
    it(`equals adam_lr_t then adam_update on ${nK} kernels with l2 and ${nR} others without, bit for bit`, () => {
      const h = new Heap(k);
      const rng = testRng(100 + nK + nR);
      const n = nK + nR;
      const init = [uniform(rng, n), uniform(rng, n), uniform(rng, n, -0.1, 0.1), uniform(rng, n, 0, 0.01)];
      const hp = [3e-3, 0.01, 0.85, 0.995, 1e-7, 0.02];
      const run = (viaStep: boolean): number[][] => {
        // Four parallel regions w | g | m | v, as in the arena (one region's bytes apart).
        const bytes = Math.ceil(n / 4) * 16;
        const w = h.alloc(4 * bytes / 4);
        init.forEach((x, j) => h.f32(w + j * bytes, n).set(x));
        const pHp = h.alloc(12);
        new Float64Array(k.memory.buffer, pHp, 6).set(hp);
        for (let t = 1; t <= 3; t++) {
          if (viaStep) k.adam_step(w, w + bytes, w + 2 * bytes, w + 3 * bytes, nK, nR, t, pHp);
          else {
            const lrT = k.adam_lr_t(hp[0]!, hp[1]!, hp[2]!, hp[3]!, t);
            k.adam_update(w, w + bytes, w + 2 * bytes, w + 3 * bytes, nK, lrT, hp[2]!, hp[3]!, hp[4]!, hp[5]!);
            const o = 4 * nK;
            k.adam_update(w + o, w + bytes + o, w + 2 * bytes + o, w + 3 * bytes + o, nR, lrT, hp[2]!, hp[3]!, hp[4]!, 0);
          }
        }
        return [0, 1, 2, 3].map((j) => Array.from(h.f32(w + j * bytes, n)));
      };
      const a = run(true);
      const b = run(false);
      expect(a).toEqual(b);
      // The step moved every weight (so the comparison is not between two untouched buffers).
      for (let i = 0; i < n; i++) expect(a[0]![i]).not.toBe(Math.fround(init[0]![i]!));
    });
  }
});

describe("adam_update's finiteness flag", () => {
  for (const variant of ["simd", "scalar"] as const) {
    for (const n of [1, 3, 4, 5, 8, 17, 33]) {
      it(`${variant}, n = ${n}: 1 for a finite step, 0 when any new w, m or v is not finite at any position`, () => {
        const h = new Heap(k);
        const rng = testRng(200 + n);
        const f = variant === "simd" ? k.adam_update : k.adam_update_scalar;
        const run = (g: Float64Array): number => {
          const w = h.put(uniform(rng, n));
          const pg = h.put(g);
          const m = h.put(new Float64Array(n));
          const v = h.put(new Float64Array(n));
          return f(w, pg, m, v, n, 1e-3, BETA1, BETA2, EPS, 0);
        };
        expect(run(uniform(rng, n))).toBe(1);
        for (let i = 0; i < n; i++) {
          // g = 3e38 is finite, but v = (1 - beta2) g^2 overflows to Infinity.
          const g = uniform(rng, n);
          g[i] = 3e38;
          expect(run(g)).toBe(0);
        }
        // A non-finite m with a finite v (the kernels check w and v only: such an m reaches w).
        for (const bad of [Infinity, -Infinity, NaN]) {
          for (let i = 0; i < n; i++) {
            const w = h.put(uniform(rng, n));
            const pg = h.put(uniform(rng, n));
            const m0 = new Float64Array(n);
            m0[i] = bad;
            const m = h.put(m0);
            const v = h.put(new Float64Array(n));
            expect(f(w, pg, m, v, n, 1e-3, BETA1, BETA2, EPS, 0)).toBe(0);
          }
        }
      });
    }
  }
});
