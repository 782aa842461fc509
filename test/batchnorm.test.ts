// Batch normalization kernels vs the float64 reference, their scalar twins, and central
// differences of the reference training forward.

import { beforeAll, describe, expect, it } from "vitest";
import type { TestKernels } from "../src/engine/kernels.js";
import {
  batchnormForwardInfer,
  batchnormForwardTrain,
  batchnormUpdateMoving,
} from "./reference/batchnorm.js";
import {
  centralDiff,
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

// Keras defaults (layers.BatchNormalization), rounded to the float32 the kernels receive.
const EPS = Math.fround(1e-3);
const MOMENTUM = Math.fround(0.99);

// Float32 round-off on O(1) data (2^-24 ~ 6e-8 relative per operation). The statistics are sums
// of up to N = 33 terms whose rounding errors mostly cancel (observed ~3e-8 absolute on the
// mean, ~2e-7 relative on the variance); the rows add a few more operations and inherit
// invstd's error, observed below 3e-7. The atol covers values near zero (a mean of mixed-sign
// rows, xhat of a row at the mean). Each tolerance is ~4x the worst error seen at these sizes.
const STATS: Tol = { atol: 2e-7, rtol: 1e-6 };
const ROWS: Tol = { atol: 1e-6, rtol: 1e-6 };
// Gradients: the kernel works from float32 caches (mean, var; xhat recomputed) and sums N float32
// products, and dinp subtracts terms of size N * |dout| that cancel to O(1), so its error is
// absolute relative to the gradient's scale (gamma * invstd ~ 1 here): observed ~2e-6 at N = 33. Central
// differences in float64 with h = 1e-6 are accurate to ~1e-9, far below this.
const GRAD: Tol = { atol: 1e-5, rtol: 1e-5 };

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

type Variant = "simd" | "scalar";

interface Case {
  N: number;
  C: number;
  x: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
}

function makeCase(N: number, C: number, seed: number): Case {
  const rng = testRng(seed);
  return { N, C, x: normal(rng, N * C), gamma: uniform(rng, C, 0.5, 1.5), beta: uniform(rng, C, -1, 1) };
}

interface Train {
  out: Float64Array;
  mean: Float64Array;
  vari: Float64Array;
}

function forwardTrain(variant: Variant, c: Case): Train {
  const h = new Heap(k);
  const { N, C } = c;
  const out = h.alloc(N * C);
  const mean = h.alloc(C);
  const vari = h.alloc(C);
  const fn = variant === "simd" ? k.batchnorm_forward_train : k.batchnorm_forward_train_scalar;
  fn(out, mean, vari, h.put(c.x), h.put(c.gamma), h.put(c.beta), N, C, EPS);
  return { out: h.get(out, N * C), mean: h.get(mean, C), vari: h.get(vari, C) };
}

function forwardInfer(variant: Variant, c: Case, mm: Float64Array, mv: Float64Array): Float64Array {
  const h = new Heap(k);
  const { N, C } = c;
  const out = h.alloc(N * C);
  const fn = variant === "simd" ? k.batchnorm_forward_infer : k.batchnorm_forward_infer_scalar;
  fn(out, h.put(c.x), h.put(c.gamma), h.put(c.beta), h.put(mm), h.put(mv), N, C, EPS);
  return h.get(out, N * C);
}

interface Grads {
  dinp: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/**
 * Training forward then backward with the given variant. dgamma and dbeta start at `prev` values
 * so accumulation is exercised, and the returned ones are (after - prev); dinp starts at other
 * values and is returned as it is, since the kernel overwrites it. A deriv (N, C) is passed to the
 * kernel (fused with the activation's backward), else 0.
 */
function backward(variant: Variant, c: Case, dout: Float64Array, withDinp = true, deriv: Float64Array | null = null): Grads {
  const h = new Heap(k);
  const { N, C } = c;
  const out = h.alloc(N * C);
  const mean = h.alloc(C);
  const vari = h.alloc(C);
  const gamma = h.put(c.gamma);
  const x = h.put(c.x);
  k.batchnorm_forward_train(out, mean, vari, x, gamma, h.put(c.beta), N, C, EPS);
  const prevC = uniform(testRng(8), C, -0.5, 0.5);
  const dinp = withDinp ? h.put(uniform(testRng(7), N * C, -0.5, 0.5)) : 0;
  const dgamma = h.put(prevC);
  const dbeta = h.put(prevC);
  const fn = variant === "simd" ? k.batchnorm_backward : k.batchnorm_backward_scalar;
  fn(dinp, dgamma, dbeta, h.alloc(3 * C), h.put(dout), x, mean, vari, gamma, deriv ? h.put(deriv) : 0, N, C, EPS);
  const minus = (got: Float64Array, prev: Float64Array) => got.map((g, i) => g - prev[i]!);
  return {
    dinp: withDinp ? h.get(dinp, N * C) : new Float64Array(0),
    dgamma: minus(h.get(dgamma, C), prevC),
    dbeta: minus(h.get(dbeta, C), prevC),
  };
}

function updateMoving(
  variant: Variant, mm: Float64Array, mv: Float64Array, mean: Float64Array, vari: Float64Array,
): { mm: Float64Array; mv: Float64Array } {
  const h = new Heap(k);
  const C = mm.length;
  const pm = h.put(mm);
  const pv = h.put(mv);
  const fn = variant === "simd" ? k.batchnorm_update_moving : k.batchnorm_update_moving_scalar;
  fn(pm, pv, h.put(mean), h.put(vari), C, MOMENTUM);
  return { mm: h.get(pm, C), mv: h.get(pv, C) };
}

/**
 * Every pair of SIZES, plus wide and tall cases with many whole vectors and a tail, and channel
 * counts whose 4-channel groups (G = C / 4) end part-way through the kernels' blocks of 2 and 4
 * groups: G = 6 and 7 (C = 24, 29) as well as G = 1, 2, 9 among the others. The sums down the
 * rows go two rows at a time (one pair only: N = 2; odd N among SIZES), and N = 26, C = 32 is
 * the seed workload's last batch.
 */
function eachSize(body: (N: number, C: number, label: string) => void): void {
  const pairs = SIZES.flatMap((N) => SIZES.map((C) => [N, C] as const));
  for (const [N, C] of [...pairs, [3, 1027], [130, 37], [5, 24], [7, 29], [2, 9], [26, 32]] as const) body(N, C, `N=${N} C=${C}`);
}

describe("batchnorm_forward_train", () => {
  it("matches the float64 reference", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 100 * N + C);
      const got = forwardTrain("simd", c);
      const want = batchnormForwardTrain(c.x, c.gamma, c.beta, N, C, EPS);
      expectClose(got.mean, want.mean, STATS, `${label} mean`);
      expectClose(got.vari, want.vari, STATS, `${label} vari`);
      expectClose(got.out, want.out, ROWS, `${label} out`);
    });
  });

  it("agrees bit for bit with the scalar twin", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 200 * N + C);
      const a = forwardTrain("simd", c);
      const b = forwardTrain("scalar", c);
      expectIdentical(a.out, b.out, `${label} out`);
      expectIdentical(a.mean, b.mean, `${label} mean`);
      expectIdentical(a.vari, b.vari, `${label} vari`);
    });
  });

  it("N = 1: variance 0, out = beta (xhat 0), all finite", () => {
    for (const C of SIZES) {
      for (const variant of ["simd", "scalar"] as const) {
        const c = makeCase(1, C, 300 + C);
        const got = forwardTrain(variant, c);
        const label = `${variant} C=${C}`;
        expectIdentical(got.vari, new Float64Array(C), `${label} vari`);
        expectIdentical(got.out, c.beta, `${label} out`);
        const g = backward(variant, c, uniform(testRng(C), C));
        for (const arr of [g.dinp, g.dgamma, g.dbeta]) expect(arr.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it("a channel at 1e4 + noise keeps its variance (two-pass, not E[x^2] - E[x]^2)", () => {
    // One-pass float32 would compute E[x^2] ~ 1e8, whose spacing is 8, and lose the unit variance.
    const N = 33;
    const C = 5;
    for (const variant of ["simd", "scalar"] as const) {
      const c = makeCase(N, C, 400);
      for (let n = 0; n < N; n++) c.x[n * C + 2] = Math.fround(1e4 + c.x[n * C + 2]!);
      const got = forwardTrain(variant, c);
      const want = batchnormForwardTrain(c.x, c.gamma, c.beta, N, C, EPS);
      // The deviations x - mean are exact in float32 (Sterbenz), so the variance is as accurate as
      // on O(1) data.
      expectClose(got.vari, want.vari, STATS, `${variant} vari`);
      // The mean is a float32 near 1e4, spacing 2^-10 ~ 1e-3: the refined mean is the nearest
      // one, off by at most half a spacing (rtol 1e-7 allows one spacing: 1e-3 at 1e4).
      expectClose(got.mean, want.mean, { atol: 2e-7, rtol: 1e-7 }, `${variant} mean`);
      // That half-spacing error shifts x - mean, so xhat moves by 5e-4 * invstd (invstd ~ 1) and
      // out = gamma * xhat + beta by gamma (< 1.5) times that.
      const outTol: Tol = { atol: (1.5 * 5e-4) / Math.sqrt(want.vari[2]! + EPS) + 1e-5, rtol: 1e-5 };
      expectClose(got.out, want.out, outTol, `${variant} out`);
    }
  });
});

describe("batchnorm_forward_infer", () => {
  function moving(C: number, seed: number) {
    const rng = testRng(seed);
    return { mm: uniform(rng, C, -0.5, 0.5), mv: uniform(rng, C, 0.5, 2) };
  }

  it("matches the float64 reference", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 500 * N + C);
      const { mm, mv } = moving(C, N + C);
      const got = forwardInfer("simd", c, mm, mv);
      const want = batchnormForwardInfer(c.x, c.gamma, c.beta, mm, mv, N, C, EPS);
      expectClose(got, want, ROWS, label);
    });
  });

  it("agrees bit for bit with the scalar twin", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 600 * N + C);
      const { mm, mv } = moving(C, 2 * N + C);
      expectIdentical(forwardInfer("simd", c, mm, mv), forwardInfer("scalar", c, mm, mv), label);
    });
  });
});

describe("batchnorm_backward", () => {
  it("matches central differences of the reference training forward (loss = sum(out * R))", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 700 * N + C);
      const R = uniform(testRng(800 * N + C), N * C);
      const loss = (x: Float64Array, gamma: Float64Array, beta: Float64Array) => {
        const { out } = batchnormForwardTrain(x, gamma, beta, N, C, EPS);
        let s = 0;
        for (let i = 0; i < out.length; i++) s += out[i]! * R[i]!;
        return s;
      };
      const want = {
        dinp: centralDiff((x) => loss(x, c.gamma, c.beta), Float64Array.from(c.x)),
        dgamma: centralDiff((g) => loss(c.x, g, c.beta), Float64Array.from(c.gamma)),
        dbeta: centralDiff((b) => loss(c.x, c.gamma, b), Float64Array.from(c.beta)),
      };
      const got = backward("simd", c, R);
      expectClose(got.dinp, want.dinp, GRAD, `${label} dinp`);
      expectClose(got.dgamma, want.dgamma, GRAD, `${label} dgamma`);
      expectClose(got.dbeta, want.dbeta, GRAD, `${label} dbeta`);
    });
  });

  it("agrees bit for bit with the scalar twin", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 900 * N + C);
      const R = uniform(testRng(1000 * N + C), N * C);
      const a = backward("simd", c, R);
      const b = backward("scalar", c, R);
      expectIdentical(a.dinp, b.dinp, `${label} dinp`);
      expectIdentical(a.dgamma, b.dgamma, `${label} dgamma`);
      expectIdentical(a.dbeta, b.dbeta, `${label} dbeta`);
    });
  });

  it("dinp = 0 skips the input gradient and still accumulates dgamma, dbeta", () => {
    for (const variant of ["simd", "scalar"] as const) {
      const c = makeCase(17, 5, 1100);
      const R = uniform(testRng(1101), 17 * 5);
      const full = backward(variant, c, R);
      const skip = backward(variant, c, R, false);
      expectIdentical(skip.dgamma, full.dgamma, `${variant} dgamma`);
      expectIdentical(skip.dbeta, full.dbeta, `${variant} dbeta`);
    }
  });
});

describe("batchnorm_backward fused with the activation's backward (deriv)", () => {
  /** A deriv like act_dropout_forward's: relu' times a mask of 0 and 1.25, about half zeros. */
  function makeDeriv(N: number, C: number, seed: number): Float64Array {
    const u = uniform(testRng(seed), N * C, 0, 1);
    return u.map((v) => (v < 0.5 ? 0 : Math.fround(1.25)));
  }

  it("equals batchnorm_backward then act_dropout_backward, bit for bit, and its scalar twin", () => {
    eachSize((N, C, label) => {
      const c = makeCase(N, C, 1300 * N + C);
      const R = uniform(testRng(1400 * N + C), N * C);
      const deriv = makeDeriv(N, C, 1500 * N + C);
      const plain = backward("simd", c, R);
      const h = new Heap(k);
      const dz = h.alloc(N * C);
      k.act_dropout_backward(dz, h.put(plain.dinp), h.put(deriv), N * C);
      const want = h.get(dz, N * C);
      const a = backward("simd", c, R, true, deriv);
      const b = backward("scalar", c, R, true, deriv);
      expectIdentical(a.dinp, want, `${label} dinp vs unfused`);
      expectIdentical(a.dgamma, plain.dgamma, `${label} dgamma vs unfused`);
      expectIdentical(a.dbeta, plain.dbeta, `${label} dbeta vs unfused`);
      expectIdentical(a.dinp, b.dinp, `${label} dinp twin`);
      expectIdentical(a.dgamma, b.dgamma, `${label} dgamma twin`);
      expectIdentical(a.dbeta, b.dbeta, `${label} dbeta twin`);
    });
  });

  it("matches central differences of the reference times deriv (the chain rule through the activation)", () => {
    for (const [N, C] of [[1, 3], [5, 4], [17, 5], [33, 8], [7, 29], [130, 37]] as const) {
      const c = makeCase(N, C, 1600 * N + C);
      const R = uniform(testRng(1700 * N + C), N * C);
      const deriv = makeDeriv(N, C, 1800 * N + C);
      const loss = (x: Float64Array) => {
        const { out } = batchnormForwardTrain(x, c.gamma, c.beta, N, C, EPS);
        let s = 0;
        for (let i = 0; i < out.length; i++) s += out[i]! * R[i]!;
        return s;
      };
      const want = centralDiff(loss, Float64Array.from(c.x)).map((g, i) => g * deriv[i]!);
      // deriv scales the gradient by at most 1.25, and so its error.
      expectClose(backward("simd", c, R, true, deriv).dinp, want, { atol: 1.25 * GRAD.atol, rtol: GRAD.rtol }, `N=${N} C=${C}`);
    }
  });

  it("an infinite dout gives exactly 0 at a dead or dropped unit, as act_dropout_backward does", () => {
    for (const variant of ["simd", "scalar"] as const) {
      const N = 5, C = 9;
      const c = makeCase(N, C, 1900);
      const R = uniform(testRng(1901), N * C);
      R[2 * C + 4] = Infinity;
      const deriv = makeDeriv(N, C, 1902);
      const got = backward(variant, c, R, true, deriv).dinp;
      for (let i = 0; i < N * C; i++) if (deriv[i] === 0) expect(Object.is(got[i], 0), `${variant} ${i}`).toBe(true);
    }
  });
});

describe("batchnorm_update_moving", () => {
  it("matches the reference and its scalar twin", () => {
    for (const C of SIZES) {
      const rng = testRng(1200 + C);
      const mm = uniform(rng, C);
      const mv = uniform(rng, C, 0.5, 2);
      const mean = uniform(rng, C);
      const vari = uniform(rng, C, 0, 3);
      const got = updateMoving("simd", mm, mv, mean, vari);
      // Two float32 products and a sum: a few ulps (2^-24 ~ 6e-8 relative each).
      const tol: Tol = { atol: 2e-8, rtol: 3e-7 };
      expectClose(got.mm, batchnormUpdateMoving(mm, mean, MOMENTUM), tol, `C=${C} mm`);
      expectClose(got.mv, batchnormUpdateMoving(mv, vari, MOMENTUM), tol, `C=${C} mv`);
      const twin = updateMoving("scalar", mm, mv, mean, vari);
      expectIdentical(got.mm, twin.mm, `C=${C} mm twin`);
      expectIdentical(got.mv, twin.mv, `C=${C} mv twin`);
    }
  });
});
