// The fused activation + dropout kernels vs the float64 reference (with its own transcription of
// the generator and the four-stream mask), their scalar twins, central differences, and the
// statistics of the mask.

import { beforeAll, describe, expect, it } from "vitest";
import { ACT_LINEAR, ACT_RELU, ACT_TANH, DROPOUT_WORK_BYTES, type Ptr, type TestKernels } from "../src/engine/kernels.js";
import { type Act, actDropoutBackward, actDropoutForward, dropoutMask } from "./reference/dropout.js";
import { centralDiff, expectClose, expectIdentical, Heap, loadKernels, SIZES, testRng, uniform, type Tol } from "./util.js";

const RATE = Math.fround(0.2);
const ACTS: { name: Act; code: number }[] = [
  { name: "relu", code: ACT_RELU },
  { name: "tanh", code: ACT_TANH },
  { name: "linear", code: ACT_LINEAR },
];
// relu and linear: a kept value is inp * scale with scale = 1 / (1 - rate) rounded to float32,
// two roundings of 2^-24 ~ 6e-8 against the float64 reference; dropped values are exactly 0. The
// derivative is exactly scale or 0.
const EXACT_ACT: Tol = { atol: 0, rtol: 1.2e-7 };
// tanh: the rational approximation is within 4.5e-7 relative (assembly/activation.ts), then the
// scale; its derivative 1 - h^2 inherits h's error, at most 2 |h| * 4.5e-7 |h| <= 9e-7 absolute,
// times scale 1.25 (4.5e-7 observed).
const TANH_OUT: Tol = { atol: 0, rtol: 6e-7 };
const TANH_DERIV: Tol = { atol: 1.2e-6, rtol: 2e-7 };
const outTol = (a: Act): Tol => (a === "tanh" ? TANH_OUT : EXACT_ACT);
const derivTol = (a: Act): Tol => (a === "tanh" ? TANH_DERIV : EXACT_ACT);
// Backward given the kernel's deriv: one float32 product.
const BACKWARD: Tol = { atol: 0, rtol: 1e-7 };
// Backward vs central differences of the float64 forward with the mask fixed (h = 1e-6, n <= 33:
// float64 error < 1e-8), plus the kernel's float32 deriv error above.
const GRAD: Tol = { atol: 1e-7, rtol: 2e-7 };
const TANH_GRAD: Tol = { atol: 1.2e-6, rtol: 2e-7 };

const LARGE = 1027; // many whole vectors plus a tail of 3
// The forward takes blocks of 8 elements (one 32-bit draw per lane decides two elements) and runs
// the last n % 8 through a padded block: remainders 4 to 7 after whole blocks, and whole blocks only.
const BLOCK_SIZES = [...SIZES, 12, 15, 16, 20];

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

type Fwd = (out: Ptr, deriv: Ptr, inp: Ptr, n: number, act: number, rate: number, state: Ptr, work: Ptr) => void;
type Bwd = (dinp: Ptr, dout: Ptr, deriv: Ptr, n: number) => void;
const VARIANTS = [
  ["simd", () => k.act_dropout_forward, () => k.act_dropout_backward],
  ["scalar", () => k.act_dropout_forward_scalar, () => k.act_dropout_backward_scalar],
] as const;

interface Run {
  out: Float64Array;
  deriv: Float64Array;
  state: Uint32Array; // generator state after the call
}

/** Run one forward on a generator at `state0` (copied in; the state after is returned). */
function runForward(fn: Fwd, act: number, inp: ArrayLike<number>, rate: number, state0: Uint32Array): Run {
  const h = new Heap(k);
  const n = inp.length;
  const out = h.alloc(n);
  const deriv = h.alloc(n);
  const state = h.alloc(4);
  h.u32(state, 4).set(state0);
  fn(out, deriv, h.put(inp), n, act, rate, state, h.alloc(DROPOUT_WORK_BYTES / 4));
  return { out: h.get(out, n), deriv: h.get(deriv, n), state: h.u32(state, 4).slice() };
}

/** The generator state rng_seed produces for seed. */
function seeded(seed: bigint): Uint32Array {
  const h = new Heap(k);
  const state = h.alloc(4);
  k.rng_seed(state, seed);
  return h.u32(state, 4).slice();
}

function runBackward(fn: Bwd, dinp0: ArrayLike<number>, dout: ArrayLike<number>, deriv: ArrayLike<number>): Float64Array {
  const h = new Heap(k);
  const n = dout.length;
  const dinp = h.put(dinp0);
  fn(dinp, h.put(dout), h.put(deriv), n);
  return h.get(dinp, n);
}

/** Inputs in [-3, 3] at least 0.01 from 0 (relu's kink), with a few exact zeros unless smooth. */
function inputs(n: number, seed: number, withZeros = true): Float64Array {
  const x = uniform(testRng(seed), n, -3, 3);
  for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < 0.01) x[i] = x[i]! < 0 ? -0.01 : 0.01;
  if (withZeros) for (let i = 2; i < n; i += 7) x[i] = 0;
  return x;
}

describe.each(VARIANTS)("act_dropout_forward (%s)", (name, fwd) => {
  describe.each(ACTS)("$name", ({ name: act, code }) => {
    it.each([...BLOCK_SIZES, LARGE])("matches the reference: same draws, same keep decisions, n = %i", (n) => {
      const x = inputs(n, 100 + n);
      const state0 = seeded(BigInt(1000 + n));
      const got = runForward(fwd(), code, x, RATE, state0);
      const refState = state0.slice();
      const want = actDropoutForward(act, x, RATE, refState);
      const label = `${name} ${act} n=${n}`;
      // The keep decisions agree exactly: the linear derivative is the mask itself.
      const kept = runForward(fwd(), ACT_LINEAR, x, RATE, state0).deriv.map((m) => (m === 0 ? 0 : 1));
      expectIdentical(kept, want.mask.map((m) => (m === 0 ? 0 : 1)), `${label} kept`);
      expectClose(got.out, want.out, outTol(act), `${label} out`);
      expectClose(got.deriv, want.deriv, derivTol(act), `${label} deriv`);
      // Exactly 16 draws, whatever n.
      expectIdentical(got.state, refState, `${label} state`);
    });

    it("rate 0: the activation alone (as the standalone kernel), derivative unmasked, no draws", () => {
      const n = 33;
      const x = inputs(n, 8);
      const state0 = seeded(8n);
      const got = runForward(fwd(), code, x, 0, state0);
      const h = new Heap(k);
      const out = h.alloc(n);
      ({ relu: k.relu_forward, tanh: k.tanh_forward, linear: k.linear_forward })[act](out, h.put(x), n);
      const standalone = h.get(out, n);
      expectIdentical(got.out, standalone, `${name} ${act} out`);
      const d = Array.from(standalone, (y, i) => (act === "relu" ? (x[i]! > 0 ? 1 : 0) : act === "tanh" ? Math.fround(1 - Math.fround(y * y)) : 1));
      expectIdentical(got.deriv, d, `${name} ${act} deriv`);
      expectIdentical(got.state, state0, `${name} ${act} state`);
    });

    it("deriv = 0 skips the derivative and leaves out unchanged", () => {
      const n = 17;
      const x = inputs(n, 9);
      const state0 = seeded(9n);
      const h = new Heap(k);
      const out = h.alloc(n);
      const state = h.alloc(4);
      h.u32(state, 4).set(state0);
      fwd()(out, 0, h.put(x), n, code, RATE, state, h.alloc(DROPOUT_WORK_BYTES / 4));
      expectIdentical(h.get(out, n), runForward(fwd(), code, x, RATE, state0).out, `${name} ${act}`);
    });
  });

  it("keeps exactly inp * scale with scale = 1 / (1 - rate) rounded once to float32", () => {
    const n = 1001;
    const x = uniform(testRng(7), n, -2, 2);
    for (const rate of [RATE, 0.5, 0.75, Math.fround(0.3)]) {
      const scale = Math.fround(1 / Math.fround(1 - rate));
      const got = runForward(fwd(), ACT_LINEAR, x, rate, seeded(7n));
      for (let i = 0; i < n; i++) {
        const m = got.deriv[i]!;
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

  it("the keep rule u >= rate holds at the edges: rate just above 0 and just below 1, and at T = ceil(rate * 2^16)'s limits", () => {
    // 2^-16 and 1 - 2^-16 are multiples of 2^-16 (T = 1 and 65535); above 1 - 2^-16, T = 65536
    // and nothing is kept; 0.5 puts the signed threshold of the SIMD compare at -1.
    const rates = [Math.fround(1e-7), 2 ** -24, 2 ** -16, Math.fround(2 ** -16 + 2 ** -30), 0.5, 1 - 2 ** -16, Math.fround(1 - 2 ** -24), Math.fround(0.999)];
    for (const rate of rates) {
      const n = 4099;
      const state0 = seeded(21n);
      const got = runForward(fwd(), ACT_LINEAR, new Float64Array(n).fill(1), rate, state0);
      const want = dropoutMask(n, rate, state0.slice());
      expectIdentical(got.deriv.map((m) => (m === 0 ? 0 : 1)), want.map((m) => (m === 0 ? 0 : 1)), `${name} rate ${rate}`);
      // Above 1 - 2^-16 no 16-bit u reaches the rate: every element is dropped.
      if (rate > 1 - 2 ** -16) expect(got.deriv.every((m) => m === 0), `${name} rate ${rate}`).toBe(true);
    }
  });
});

describe("the dropout mask's statistics (100k elements, rate 0.2; within 4 standard errors)", () => {
  const n = 100_000;
  const p = 1 - RATE;
  const kept = (seed: bigint, state0 = seeded(seed)) =>
    runForward(k.act_dropout_forward, ACT_LINEAR, new Float64Array(n).fill(1), RATE, state0).deriv.map((m) => (m === 0 ? 0 : 1));

  it("keeps a fraction 1 - rate overall and in each of the four streams", () => {
    const m = kept(12345n);
    let all = 0;
    for (let i = 0; i < n; i++) all += m[i]!;
    expect(Math.abs(all / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let i = j; i < n; i += 4) s += m[i]!;
      expect(Math.abs(s / (n / 4) - p), `stream ${j}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / (n / 4)));
    }
  });

  it("neighbours are independent: both kept with probability (1 - rate)^2 at lags 1 to 8", () => {
    // Lags 1-3 pair different streams in one vector (or across vectors), lag 4 and 8 consecutive
    // outputs of one stream; seeding the four streams alike would make lags 1-3 fully correlated.
    const m = kept(777n);
    for (let lag = 1; lag <= 8; lag++) {
      let both = 0;
      for (let i = 0; i + lag < n; i++) both += m[i]! * m[i + lag]!;
      const q = p * p;
      expect(Math.abs(both / (n - lag) - q), `lag ${lag}`).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / (n - lag)));
    }
  });

  it("consecutive calls on one generator give independent masks, 16 draws apart", () => {
    const state0 = seeded(99n);
    const first = runForward(k.act_dropout_forward, ACT_LINEAR, new Float64Array(n).fill(1), RATE, state0);
    const a = first.deriv.map((m) => (m === 0 ? 0 : 1));
    const b = kept(0n, first.state);
    let both = 0;
    for (let i = 0; i < n; i++) both += a[i]! * b[i]!;
    const q = p * p;
    expect(Math.abs(both / n - q)).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / n));
    const advanced = state0.slice();
    dropoutMask(0, RATE, advanced);
    expectIdentical(first.state, advanced, "16 draws");
  });

  it("the same seed gives the same mask; different seeds give different masks", () => {
    const a = kept(1n);
    const b = kept(1n);
    const c = kept(2n);
    expectIdentical(a, b, "same seed");
    let differ = 0;
    for (let i = 0; i < n; i++) if (a[i] !== c[i]) differ++;
    // Two independent masks differ at each element with probability 2 * 0.2 * 0.8 = 0.32.
    expect(Math.abs(differ / n - 0.32)).toBeLessThan(0.01);
  });
});

describe("act_dropout SIMD vs scalar twin", () => {
  it.each([...BLOCK_SIZES, LARGE, 100_000])("same seed: identical output, derivative and final state, n = %i", (n) => {
    const x = inputs(n, 300 + n);
    for (const { name, code } of ACTS) {
      for (const rate of [0, RATE, 0.5]) {
        const state0 = seeded(BigInt(n));
        const a = runForward(k.act_dropout_forward, code, x, rate, state0);
        const b = runForward(k.act_dropout_forward_scalar, code, x, rate, state0);
        expectIdentical(a.out, b.out, `${name} rate ${rate} out n=${n}`);
        expectIdentical(a.deriv, b.deriv, `${name} rate ${rate} deriv n=${n}`);
        expectIdentical(a.state, b.state, `${name} rate ${rate} state n=${n}`);
      }
    }
  });

  it.each([...SIZES, LARGE])("backward: identical results, n = %i", (n) => {
    const rng = testRng(400 + n);
    const deriv = runForward(k.act_dropout_forward_scalar, ACT_TANH, inputs(n, 401 + n), RATE, seeded(BigInt(n))).deriv;
    const dout = uniform(rng, n);
    dout[0] = Infinity;
    const dinp0 = uniform(rng, n);
    expectIdentical(runBackward(k.act_dropout_backward, dinp0, dout, deriv), runBackward(k.act_dropout_backward_scalar, dinp0, dout, deriv), `n=${n}`);
  });
});

describe.each(VARIANTS)("act_dropout_backward (%s)", (name, fwd, bwd) => {
  describe.each(ACTS)("$name", ({ name: act, code }) => {
    it.each([...SIZES, LARGE])("matches the float64 reference and overwrites dinp, n = %i", (n) => {
      const rng = testRng(600 + n);
      const deriv = runForward(fwd(), code, inputs(n, 601 + n), RATE, seeded(BigInt(n))).deriv;
      const dout = uniform(rng, n);
      // dinp starts at NaN: any accumulation would show.
      const dinp0 = new Float64Array(n).fill(NaN);
      expectClose(runBackward(bwd(), dinp0, dout, deriv), actDropoutBackward(dout, deriv), BACKWARD, `${name} ${act} n=${n}`);
    });

    it.each(SIZES)("forward then backward matches central differences with the mask fixed, n = %i", (n) => {
      const rng = testRng(700 + n);
      const x = inputs(n, 701 + n, false);
      const state0 = seeded(BigInt(702 + n));
      const { deriv } = runForward(fwd(), code, x, RATE, state0);
      const dout = uniform(rng, n);
      // loss(x) = sum dout * act(x) * mask: the reference forward with the drawn mask held fixed.
      const loss = (v: Float64Array): number => {
        const { out } = actDropoutForward(act, v, RATE, state0.slice());
        let s = 0;
        for (let i = 0; i < n; i++) s += dout[i]! * out[i]!;
        return s;
      };
      const want = centralDiff(loss, Float64Array.from(x));
      expectClose(runBackward(bwd(), new Float64Array(n), dout, deriv), want, act === "tanh" ? TANH_GRAD : GRAD, `${name} ${act} n=${n}`);
    });
  });

  it("a zero derivative (dead relu unit, dropped element) passes exactly 0, even for an infinite dout", () => {
    const got = runBackward(bwd(), [5, 5, 5, 5, 5], [Infinity, -Infinity, NaN, Infinity, 2], [0, 0, 0, 1.25, 1.25]);
    expectIdentical(got, [0, 0, 0, Infinity, 2.5], name);
  });
});
