// assembly/simdmath.ts: exp, log, softplus and sigmoid on f32x4 against float64 Math, special
// values, and the SIMD kernels bit-identical to their scalar twins.

import { describe, expect, it } from "vitest";
import type { TestKernels } from "../src/engine/kernels.js";
import { FLT_MIN, flushToZero, sigmoid, softplus } from "./reference/simdmath.js";
import { expectClose, expectIdentical, Heap, loadKernels, normal, testRng, type Tol, uniform } from "./util.js";

type Fn = "exp" | "log" | "softplus" | "sigmoid";

const k: TestKernels = await loadKernels();

/** Runs the SIMD kernel (or its scalar twin) over xs; returns the results as float64. */
function run(fn: Fn, xs: ArrayLike<number>, scalar = false): Float64Array {
  const heap = new Heap(k);
  const inp = heap.put(xs);
  const out = heap.alloc(xs.length);
  k[`${fn}_f32_array${scalar ? "_scalar" : ""}`](out, inp, xs.length);
  return heap.get(out, xs.length);
}

/** n evenly spaced float32 values in [lo, hi]. */
function sweep(lo: number, hi: number, n: number): Float64Array {
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = Math.fround(lo + ((hi - lo) * i) / (n - 1));
  return xs;
}

/** Every positive float32 exponent, subnormals included: random bit patterns below +Inf. */
function positiveBits(n: number): Float64Array {
  const rng = testRng(7);
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = Math.floor(rng() * 0x7f800000);
  return Float64Array.from(new Float32Array(bits.buffer));
}

/**
 * The float64 reference rounded to float32, so overflow to Inf and underflow to 0 count as right,
 * and flushed to zero below 2^-126 as the kernels flush (no subnormal results, issue 16).
 */
function ref(f: (x: number) => number, xs: Float64Array): Float64Array {
  return xs.map((x) => flushToZero(Math.fround(f(x))));
}

/** Every float32 from lo up to hi (lo <= hi < 0), in order. */
function allFloatsNegative(lo: number, hi: number): Float64Array {
  const f = new Float32Array(2);
  const u = new Uint32Array(f.buffer);
  f[0] = lo;
  f[1] = hi;
  const xs = new Float64Array(u[0]! - u[1]! + 1);
  for (let i = 0; i < xs.length; i++) {
    u[0] = u[1]! + xs.length - 1 - i;
    xs[i] = f[0];
  }
  return xs;
}

/** How many of xs are subnormal float32 values. */
function subnormals(xs: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] !== 0 && Math.abs(xs[i]!) < FLT_MIN) n++;
  return n;
}

/** Every finite float32 of either sign (random bit patterns), for the no-subnormal checks. */
function anyBits(n: number): Float64Array {
  const rng = testRng(13);
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = (Math.floor(rng() * 0x7f800000) | (rng() < 0.5 ? 0x80000000 : 0)) >>> 0;
  return Float64Array.from(new Float32Array(bits.buffer));
}

/** expectClose where want is finite; identical (Inf, NaN) where it is not. */
function expectCloseOrSame(got: Float64Array, want: Float64Array, tol: Tol, label: string): void {
  const finite = want.map((w) => (Number.isFinite(w) ? 1 : 0));
  expectClose(got.filter((_, i) => finite[i]), want.filter((_, i) => finite[i]), tol, `${label} (finite)`);
  expectIdentical(got.filter((_, i) => !finite[i]), want.filter((_, i) => !finite[i]), `${label} (Inf)`);
}

// Tolerances. exp and log are Cephes' minimax polynomials evaluated in float32; measured worst case
// is under 1 ulp, so 2 ulp (relative 2 * 2^-23 < 3e-7) leaves margin. Results at the bottom of the
// normal range have a spacing of 2^-149, hence the atol of two of those.
const EXP_LOG: Tol = { atol: 2 ** -148, rtol: 3e-7 };
// softplus and sigmoid chain exp, log1p (Goldberg's quotient) and a division: measured worst case
// 2.8 ulp; allow 4 ulp (relative 4 * 2^-23 = 4.8e-7).
const COMPOSED: Tol = { atol: 2 ** -148, rtol: 4.8e-7 };

describe("exp", () => {
  it("matches Math.exp, flushed to zero, over the whole finite range within 2 ulp", () => {
    // -104..89 crosses underflow (results below 2^-126 are 0) and overflow (above 88.72).
    const xs = sweep(-104, 89, 200_001);
    expectCloseOrSame(run("exp", xs), ref(Math.exp, xs), EXP_LOG, "exp sweep");
    const small = sweep(-1, 1, 20_001);
    expectClose(run("exp", small), ref(Math.exp, small), EXP_LOG, "exp near 0");
  });

  it("handles special values", () => {
    const xs = [0, -0, Infinity, -Infinity, NaN, 89, 1000, -110, -1000, 88.72283, -103.9, -90];
    const got = run("exp", xs);
    expect(Array.from(got.slice(0, 9))).toEqual([1, 1, Infinity, 0, NaN, Infinity, Infinity, 0, 0]);
    expect(got[9]).toBeLessThan(Infinity); // largest finite e^x: FLT_MAX * (1 - 2e-7)
    // e^-103.9 and e^-90 are subnormal in float32 (e^-103.9 would round to 2^-149): exactly 0.
    expect(Object.is(got[10], 0) && Object.is(got[11], 0)).toBe(true);
  });

  it("is 0 below the normal range and normal from its edge up, for every float there", () => {
    // EXP_LO = -87.33654022216797 (assembly/simdmath.ts): the least float whose e^x is normal.
    const lo = Math.fround(-87.33654022216797);
    const xs = allFloatsNegative(-87.4, -80);
    const got = run("exp", xs);
    for (let i = 0; i < xs.length; i++) {
      if (xs[i]! < lo ? got[i] !== 0 : got[i]! < FLT_MIN) throw new Error(`e^${xs[i]} = ${got[i]}`);
    }
    expect(got.filter((e) => e === 0).length).toBe(xs.filter((x) => x < lo).length);
    expect(run("exp", [lo])[0]).toBeGreaterThanOrEqual(FLT_MIN);
  });
});

describe("log", () => {
  it("matches Math.log on every binade, subnormals included, within 2 ulp", () => {
    const xs = positiveBits(200_000);
    expectClose(run("log", xs), ref(Math.log, xs), EXP_LOG, "log bits");
    // Around 1, where log x -> 0 and only a relative bound is meaningful.
    const near1 = sweep(0.5, 2, 200_001);
    expectClose(run("log", near1), ref(Math.log, near1), { atol: 0, rtol: 3e-7 }, "log near 1");
  });

  it("handles special values", () => {
    const xs = [1, 0, -0, -1, -Infinity, Infinity, NaN, 2 ** -149, 3.4028234663852886e38];
    const got = run("log", xs);
    expect(Array.from(got.slice(0, 7))).toEqual([0, -Infinity, -Infinity, NaN, NaN, Infinity, NaN]);
    expect(got[7]).toBe(Math.fround(Math.log(2 ** -149)));
    expect(got[8]).toBe(Math.fround(Math.log(3.4028234663852886e38)));
  });
});

describe("softplus and sigmoid", () => {
  it("match the float64 formulas, including the tails", () => {
    // At -87, softplus = e^-87 (a naive log(1 + e^a) returns 0), and 0 below e^a's normal range
    // (ref flushes); at +100 it is a.
    const xs = sweep(-100, 100, 100_001);
    expectClose(run("softplus", xs), ref(softplus, xs), COMPOSED, "softplus");
    expectClose(run("sigmoid", xs), ref(sigmoid, xs), COMPOSED, "sigmoid");
  });

  it("never return a subnormal (exp, log, softplus, sigmoid of any float)", () => {
    const xs = Float64Array.from([...anyBits(100_000), ...sweep(-110, -80, 30_001)]);
    const counts = (["exp", "log", "softplus", "sigmoid"] as const).map((fn) => subnormals(run(fn, xs)) + subnormals(run(fn, xs, true)));
    expect(counts).toEqual([0, 0, 0, 0]);
  });

  it("handle special values", () => {
    const xs = [Infinity, -Infinity, NaN, 0, -200];
    expect(Array.from(run("softplus", xs))).toEqual([Infinity, 0, NaN, Math.fround(Math.LN2), 0]);
    expect(Array.from(run("sigmoid", xs))).toEqual([1, 0, NaN, 0.5, 0]);
  });
});

describe("SIMD lanes are bit-identical to the scalar twins", () => {
  const rng = testRng(11);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1, -1, 2 ** -149, 2 ** -126, 88.72, -87.5, -103.5];
  const cases: Record<Fn, Float64Array> = {
    exp: Float64Array.from([...specials, ...normal(rng, 40_001, 30)]),
    log: Float64Array.from([...specials, ...positiveBits(40_001), ...uniform(rng, 1_000, 0, 4)]),
    softplus: Float64Array.from([...specials, ...normal(rng, 40_001, 20)]),
    sigmoid: Float64Array.from([...specials, ...normal(rng, 40_001, 20)]),
  };
  for (const fn of ["exp", "log", "softplus", "sigmoid"] as const) {
    it(fn, () => {
      // Lengths not a multiple of 4, so the SIMD kernel's scalar tail runs too.
      const xs = cases[fn];
      expect(xs.length % 4).not.toBe(0);
      expectIdentical(run(fn, xs), run(fn, xs, true), fn);
    });
  }
});
