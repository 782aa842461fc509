// Dropout kernels vs the float64 reference (with its own transcription of the generator), their
// scalar twins, central differences, and the statistics of the mask.

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels, Ptr } from "../src/kernels.js";
import { dropoutBackward, dropoutForward } from "./reference/dropout.js";
import { centralDiff, expectClose, expectIdentical, Heap, loadKernels, SIZES, testRng, uniform, type Tol } from "./util.js";

const RATE = Math.fround(0.2);
// A kept value is inp * scale with scale = 1 / (1 - rate) rounded to float32: two roundings of
// 2^-24 ~ 6e-8 relative against the float64 reference; dropped values are exactly 0.
const FORWARD: Tol = { atol: 0, rtol: 1.2e-7 };
// Backward: dout * mask and the add to dinp0 are each rounded (|dout|, |dinp0| <= 1, mask <= 1.25).
const BACKWARD: Tol = { atol: 1.5e-7, rtol: 1e-7 };
// Central differences of the float64 forward with the mask fixed (h = 1e-6, n <= 33): the loss is
// linear in inp, so only float64 round-off ~1e-16 * n / h < 1e-8 plus the kernel's roundings.
const GRAD: Tol = { atol: 1e-7, rtol: 1e-7 };

const LARGE = 1027; // many whole vectors plus a tail of 3

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

type Fwd = (out: Ptr, mask: Ptr, inp: Ptr, n: number, rate: number, state: Ptr) => void;

interface Run {
  out: Float64Array;
  mask: Float64Array;
  state: Uint32Array; // generator state after the call
}

/** Seed a fresh generator with rng_seed and run one dropout forward on it. */
function runForward(fn: Fwd, inp: ArrayLike<number>, rate: number, seed: bigint): Run {
  const h = new Heap(k);
  const n = inp.length;
  const out = h.alloc(n);
  const mask = h.alloc(n);
  const state = h.alloc(4);
  k.rng_seed(state, seed);
  fn(out, mask, h.put(inp), n, rate, state);
  return { out: h.get(out, n), mask: h.get(mask, n), state: h.u32(state, 4).slice() };
}

/** The generator state rng_seed produces for seed. */
function seededState(seed: bigint): Uint32Array {
  const h = new Heap(k);
  const state = h.alloc(4);
  k.rng_seed(state, seed);
  return h.u32(state, 4).slice();
}

function runBackward(fn: Kernels["dropout_backward"], dinp0: ArrayLike<number>, dout: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const h = new Heap(k);
  const n = dout.length;
  const dinp = h.put(dinp0);
  fn(dinp, h.put(dout), h.put(mask), n);
  return h.get(dinp, n);
}

describe.each([
  ["simd", () => k.dropout_forward] as const,
  ["scalar", () => k.dropout_forward_scalar] as const,
])("dropout_forward (%s)", (name, fwd) => {
  it.each([...SIZES, LARGE])("matches the reference: same draws, same keep decisions, n = %i", (n) => {
    const x = uniform(testRng(100 + n), n, -2, 2);
    const seed = BigInt(1000 + n);
    const got = runForward(fwd(), x, RATE, seed);
    const refState = seededState(seed);
    const want = dropoutForward(x, RATE, refState);
    // u is a multiple of 2^-24 and rate a float32 in both, so the keep decisions agree exactly.
    expectIdentical(got.mask.map((m) => (m === 0 ? 0 : 1)), want.mask.map((m) => (m === 0 ? 0 : 1)), `${name} kept n=${n}`);
    expectClose(got.mask, want.mask, FORWARD, `${name} mask n=${n}`);
    expectClose(got.out, want.out, FORWARD, `${name} out n=${n}`);
    // Exactly one draw per element.
    expectIdentical(got.state, refState, `${name} state n=${n}`);
  });

  it("keeps exactly inp * scale with scale = 1 / (1 - rate) rounded once to float32", () => {
    const n = 1001;
    const x = uniform(testRng(7), n, -2, 2);
    for (const rate of [RATE, 0.5, 0.75, Math.fround(0.3)]) {
      const scale = Math.fround(1 / Math.fround(1 - rate));
      const got = runForward(fwd(), x, rate, 7n);
      for (let i = 0; i < n; i++) {
        const m = got.mask[i]!;
        if (m !== 0 && m !== scale) throw new Error(`${name} rate ${rate}: mask[${i}] = ${m}, want 0 or ${scale}`);
        const want = m === 0 ? x[i]! * 0 : Math.fround(x[i]! * scale);
        if (!Object.is(got.out[i], want)) throw new Error(`${name} rate ${rate}: out[${i}] = ${got.out[i]}, want ${want}`);
        // When 1 / (1 - rate) is a float32 (rate 0.5, 0.75), kept values are exactly inp / (1 - rate).
        if (m !== 0 && (rate === 0.5 || rate === 0.75)) expect(got.out[i]).toBe(Math.fround(x[i]! / (1 - rate)));
      }
    }
    // rate 0.2 rounds to a float32 just above 0.2, yet 1 / (1 - rate) still rounds to exactly 1.25.
    expect(Math.fround(1 / Math.fround(1 - RATE))).toBe(1.25);
  });

  it("rate 0 keeps everything unchanged (and still draws once per element)", () => {
    const n = 33;
    const x = uniform(testRng(8), n, -2, 2);
    const got = runForward(fwd(), x, 0, 8n);
    expectIdentical(got.mask, new Float64Array(n).fill(1), `${name} mask`);
    expectIdentical(got.out, x, `${name} out`);
    const refState = seededState(8n);
    dropoutForward(x, 0, refState);
    expectIdentical(got.state, refState, `${name} state`);
  });

  it("keeps a fraction 1 - rate of 100k elements (within 4 standard errors)", () => {
    const n = 100_000;
    const got = runForward(fwd(), new Float64Array(n).fill(1), RATE, 12345n);
    let kept = 0;
    for (let i = 0; i < n; i++) if (got.mask[i] !== 0) kept++;
    const p = 1 - RATE;
    const se = Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(kept / n - p)).toBeLessThan(4 * se);
  });

  it("the same seed gives the same mask; different seeds give different masks", () => {
    const x = new Float64Array(257).fill(1);
    const a = runForward(fwd(), x, RATE, 1n);
    const b = runForward(fwd(), x, RATE, 1n);
    const c = runForward(fwd(), x, RATE, 2n);
    expectIdentical(a.mask, b.mask, `${name} same seed`);
    expectIdentical(a.state, b.state, `${name} same seed state`);
    let differ = 0;
    for (let i = 0; i < x.length; i++) if (a.mask[i] !== c.mask[i]) differ++;
    // Two independent masks differ at each element with probability 2 * 0.2 * 0.8 = 0.32.
    expect(differ).toBeGreaterThan(40);
  });
});

describe("dropout SIMD vs scalar twin", () => {
  it.each([...SIZES, LARGE, 100_000])("same seed: identical mask, output and final state, n = %i", (n) => {
    const x = uniform(testRng(300 + n), n, -2, 2);
    const seed = BigInt(n);
    const a = runForward(k.dropout_forward, x, RATE, seed);
    const b = runForward(k.dropout_forward_scalar, x, RATE, seed);
    expectIdentical(a.mask, b.mask, `mask n=${n}`);
    expectIdentical(a.out, b.out, `out n=${n}`);
    expectIdentical(a.state, b.state, `state n=${n}`);
  });

  it.each([...SIZES, LARGE])("backward: identical results, n = %i", (n) => {
    const rng = testRng(400 + n);
    const mask = runForward(k.dropout_forward_scalar, new Float64Array(n), RATE, BigInt(n)).mask;
    const dout = uniform(rng, n);
    const dinp0 = uniform(rng, n);
    expectIdentical(runBackward(k.dropout_backward, dinp0, dout, mask), runBackward(k.dropout_backward_scalar, dinp0, dout, mask), `n=${n}`);
  });
});

describe.each([
  ["simd", () => k.dropout_backward] as const,
  ["scalar", () => k.dropout_backward_scalar] as const,
])("dropout_backward (%s)", (name, bwd) => {
  function makeMask(n: number): Float64Array {
    return runForward(k.dropout_forward_scalar, new Float64Array(n), RATE, BigInt(500 + n)).mask;
  }

  it.each([...SIZES, LARGE])("matches the float64 reference and accumulates into dinp, n = %i", (n) => {
    const rng = testRng(600 + n);
    const mask = makeMask(n);
    const dout = uniform(rng, n);
    const dinp0 = uniform(rng, n);
    expectClose(runBackward(bwd(), dinp0, dout, mask), dropoutBackward(dinp0, dout, mask), BACKWARD, `${name} n=${n}`);
  });

  it.each(SIZES)("matches central differences of the forward with the mask fixed, n = %i", (n) => {
    const rng = testRng(700 + n);
    const mask = makeMask(n);
    const x = uniform(rng, n, -2, 2);
    const dout = uniform(rng, n);
    // loss(x) = sum dout * inp * mask: the forward with the drawn mask held fixed.
    const loss = (v: Float64Array): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += dout[i]! * v[i]! * mask[i]!;
      return s;
    };
    const want = centralDiff(loss, Float64Array.from(x));
    expectClose(runBackward(bwd(), new Float64Array(n), dout, mask), want, GRAD, `${name} n=${n}`);
  });

  it("adds to dinp instead of overwriting it", () => {
    const n = 17;
    const mask = makeMask(n);
    const dout = uniform(testRng(800), n);
    const once = runBackward(bwd(), new Float64Array(n), dout, mask);
    // once + once is exact in float32, so a second call must give exactly 2 * once.
    expectIdentical(runBackward(bwd(), once, dout, mask), once.map((v) => 2 * v), `${name} twice`);
  });
});
