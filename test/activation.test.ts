// Activation kernels (relu, tanh, linear) vs the float64 reference, their scalar twins, and
// central differences of the reference forward.

import { beforeAll, describe, expect, it } from "vitest";
import type { TestKernels, Ptr } from "../src/engine/kernels.js";
import {
  linearBackward,
  linearForward,
  reluBackward,
  reluForward,
  tanhBackward,
  tanhForward,
} from "./reference/activation.js";
import { centralDiff, expectClose, expectIdentical, Heap, loadKernels, SIZES, testRng, uniform, type Tol } from "./util.js";

// relu and linear forward only copy or zero a float: exact.
const EXACT: Tol = { atol: 0, rtol: 0 };
// tanh: the rational approximation's measured worst case over every float in [0.0004, 7.9] is
// 4.1e-7 relative (7 ulp of 1, near |x| = 5.8; see assembly/activation.ts); below 0.0004 it
// returns x, within 5e-8 relative. Relative alone suffices: |tanh x| <= |x| and the error scales
// with the value down to the subnormals.
const TANH: Tol = { atol: 0, rtol: 4.5e-7 };
// Backward given the same float32 out: a product or two and the final add, each rounded to
// float32 (2^-24 ~ 6e-8 relative to its own magnitude, |dout| <= 1 and |dinp0| <= 1).
const BACKWARD: Tol = { atol: 2e-7, rtol: 2e-7 };
// Backward vs central differences of the float64 forward (h = 1e-6, float64: truncation ~h^2 and
// round-off ~1e-16 * n / h, both < 1e-8 for n <= 33). relu and linear only add one float32
// rounding; tanh's out is float32 (|error| <= 6e-8) so 1 - out^2 is off by up to 1.2e-7 absolute
// on top of the roundings above.
const GRAD: Tol = { atol: 1e-7, rtol: 1e-7 };
const TANH_GRAD: Tol = { atol: 3e-7, rtol: 2e-7 };

const LARGE = 1027; // many whole vectors plus a tail of 3

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

type Fwd = (out: Ptr, inp: Ptr, n: number) => void;
type Bwd = (dinp: Ptr, dout: Ptr, out: Ptr, n: number) => void;

interface Activation {
  name: "relu" | "tanh" | "linear";
  simd: () => [Fwd, Bwd];
  scalar: () => [Fwd, Bwd];
  forward: (inp: ArrayLike<number>) => Float64Array;
  backward: (dinp0: ArrayLike<number>, dout: ArrayLike<number>, out: ArrayLike<number>) => Float64Array;
  tol: Tol;
  gradTol: Tol;
}

const ACTIVATIONS: Activation[] = [
  {
    name: "relu",
    simd: () => [k.relu_forward, k.relu_backward],
    scalar: () => [k.relu_forward_scalar, k.relu_backward_scalar],
    forward: reluForward,
    backward: reluBackward,
    tol: EXACT,
    gradTol: GRAD,
  },
  {
    name: "tanh",
    simd: () => [k.tanh_forward, k.tanh_backward],
    scalar: () => [k.tanh_forward_scalar, k.tanh_backward_scalar],
    forward: tanhForward,
    backward: tanhBackward,
    tol: TANH,
    gradTol: TANH_GRAD,
  },
  {
    name: "linear",
    simd: () => [k.linear_forward, k.linear_backward],
    scalar: () => [k.linear_forward_scalar, k.linear_backward_scalar],
    forward: linearForward,
    backward: (dinp0, dout) => linearBackward(dinp0, dout),
    tol: EXACT,
    gradTol: GRAD,
  },
];

/** Inputs in [-3, 3] with at least `gap` between each value and 0 (relu's kink). */
function inputs(n: number, seed: number, gap = 0): Float64Array {
  const rng = testRng(seed);
  const x = uniform(rng, n, -3, 3);
  for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < gap) x[i] = x[i]! < 0 ? -gap : gap;
  return x;
}

function runForward(fn: Fwd, x: ArrayLike<number>): Float64Array {
  const h = new Heap(k);
  const out = h.alloc(x.length);
  fn(out, h.put(x), x.length);
  return h.get(out, x.length);
}

function runBackward(fn: Bwd, dinp0: ArrayLike<number>, dout: ArrayLike<number>, out: ArrayLike<number>): Float64Array {
  const h = new Heap(k);
  const n = dout.length;
  const dinp = h.put(dinp0);
  fn(dinp, h.put(dout), h.put(out), n);
  return h.get(dinp, n);
}

/** Every float in a dense sweep of [-20, 20] plus values that break naive code. */
function tanhSweep(): Float64Array {
  const special = [
    0, -0, 1e-45, -1e-45, 1e-38, -1e-38, 1e-20, 1e-10, -1e-7, 3.999e-4, 4e-4, -4e-4, 4.001e-4, 0.5, -0.5, 0.625,
    5.83, -5.83, 7.9053, 7.90531110763549805, -7.90531110763549805, 7.9054, 9, 10, -20, 44, 89, 100, -1e4, 1e30,
    -3.4028234663852886e38, Infinity, -Infinity,
  ];
  const values = special.map(Math.fround);
  for (let i = -400000; i <= 400000; i++) values.push(Math.fround(i * 5e-5));
  return Float64Array.from(values);
}

describe.each(ACTIVATIONS)("$name", (a) => {
  it.each([...SIZES, LARGE])("forward matches the float64 reference, n = %i", (n) => {
    const x = inputs(n, 100 + n);
    const want = a.forward(x);
    expectClose(runForward(a.simd()[0], x), want, a.tol, `${a.name} simd n=${n}`);
    expectClose(runForward(a.scalar()[0], x), want, a.tol, `${a.name} scalar n=${n}`);
  });

  it.each([...SIZES, LARGE])("backward matches the float64 reference and accumulates, n = %i", (n) => {
    const rng = testRng(200 + n);
    const out = runForward(a.scalar()[0], inputs(n, 300 + n));
    const dout = uniform(rng, n);
    const dinp0 = uniform(rng, n);
    const want = a.backward(dinp0, dout, out);
    expectClose(runBackward(a.simd()[1], dinp0, dout, out), want, BACKWARD, `${a.name} simd n=${n}`);
    expectClose(runBackward(a.scalar()[1], dinp0, dout, out), want, BACKWARD, `${a.name} scalar n=${n}`);
  });

  it.each(SIZES)("backward matches central differences of the float64 forward, n = %i", (n) => {
    // Kink-free inputs (|x| >= 0.01 >> h), so relu's difference quotient is its derivative.
    const x = inputs(n, 400 + n, 0.01);
    const rng = testRng(500 + n);
    const dout = uniform(rng, n);
    // loss(x) = sum dout * f(x), so d loss / d x = dout * f'(x): what backward adds to a zero dinp.
    const loss = (v: Float64Array): number => {
      const y = a.forward(v);
      let s = 0;
      for (let i = 0; i < n; i++) s += dout[i]! * y[i]!;
      return s;
    };
    const want = centralDiff(loss, Float64Array.from(x));
    const out = Float64Array.from(a.forward(x), Math.fround);
    const zero = new Float64Array(n);
    expectClose(runBackward(a.simd()[1], zero, dout, out), want, a.gradTol, `${a.name} simd n=${n}`);
    expectClose(runBackward(a.scalar()[1], zero, dout, out), want, a.gradTol, `${a.name} scalar n=${n}`);
  });

  it.each([...SIZES, LARGE])("SIMD kernels match their scalar twins bit for bit, n = %i", (n) => {
    const x = inputs(n, 600 + n);
    const [fs, bs] = a.simd();
    const [ft, bt] = a.scalar();
    expectIdentical(runForward(fs, x), runForward(ft, x), `${a.name} forward n=${n}`);
    const rng = testRng(700 + n);
    const dout = uniform(rng, n);
    const dinp0 = uniform(rng, n);
    const out = runForward(ft, x);
    expectIdentical(runBackward(bs, dinp0, dout, out), runBackward(bt, dinp0, dout, out), `${a.name} backward n=${n}`);
  });

  it("backward adds to dinp instead of overwriting it", () => {
    const n = 17;
    const rng = testRng(800);
    const out = runForward(a.scalar()[0], inputs(n, 801, 0.01));
    const dout = uniform(rng, n);
    const zero = new Float64Array(n);
    for (const fn of [a.simd()[1], a.scalar()[1]]) {
      const once = runBackward(fn, zero, dout, out);
      const twice = runBackward(fn, once, dout, out);
      // once + once is exact in float32 (a doubling), so the second call must give exactly 2 * once.
      expectIdentical(twice, once.map((v) => 2 * v), `${a.name} twice`);
    }
  });
});

describe("relu edge cases", () => {
  it("propagates NaN, maps -0 to +0, and gives no gradient through dead units even for infinite dout", () => {
    const x = [NaN, -0, 0, -Infinity, Infinity, -1, 1, 1e-45];
    for (const fwd of [k.relu_forward, k.relu_forward_scalar]) {
      expectIdentical(runForward(fwd, x), [NaN, 0, 0, 0, Infinity, 0, 1, Math.fround(1e-45)], "relu forward");
    }
    const out = [0, 0, 0, 0, 2];
    const dout = [Infinity, -Infinity, NaN, 1, 3];
    for (const bwd of [k.relu_backward, k.relu_backward_scalar]) {
      expectIdentical(runBackward(bwd, [1, 1, 1, 1, 1], dout, out), [1, 1, 1, 1, 4], "relu backward");
    }
  });
});

describe("tanh accuracy", () => {
  const x = tanhSweep();

  it("is within 4.5e-7 relative of Math.tanh over a dense sweep of [-20, 20] and edge values", () => {
    const want = tanhForward(x);
    expectClose(runForward(k.tanh_forward, x), want, TANH, "tanh simd sweep");
  });

  it("SIMD and scalar agree bit for bit over the sweep", () => {
    expectIdentical(runForward(k.tanh_forward, x), runForward(k.tanh_forward_scalar, x), "tanh sweep");
  });

  it("saturates to exactly +-1, never exceeds 1, keeps the sign of zero and propagates NaN", () => {
    for (const fwd of [k.tanh_forward, k.tanh_forward_scalar]) {
      const got = runForward(fwd, x);
      const bad: number[] = [];
      for (let i = 0; i < x.length; i++) {
        const xi = x[i]!;
        const gi = got[i]!;
        const saturated = Math.abs(xi) >= Math.fround(7.90531110763549805);
        if (Math.abs(gi) > 1 || (saturated && gi !== Math.sign(xi)) || (xi === 0 && !Object.is(gi, xi))) bad.push(xi);
      }
      expect(bad).toEqual([]);
      expectIdentical(runForward(fwd, [NaN, -NaN, 0.5, NaN, 1]).map((v) => (Number.isNaN(v) ? 1 : 0)), [1, 1, 0, 1, 0], "NaN");
    }
  });
});
