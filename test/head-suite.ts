// One test suite for the diagonal and full-covariance heads (test/mixture_diag.test.ts,
// test/mixture_full.test.ts): float64 reference, SIMD vs scalar twin, central differences,
// extremes, and the density integrating to 1. The isotropic head keeps its own test/mixture.test.ts.

import { describe, expect, it } from "vitest";
import { type Kernels, type Ptr, SIGMA_EXP, SIGMA_SOFTPLUS } from "../src/kernels.js";
import type { MixtureDims } from "./reference/mixture.js";
import { centralDiff, expectClose, expectIdentical, Heap, normal, SIZES, testRng, type Tol, uniform } from "./util.js";

type Forward = (loss: Ptr, nll: Ptr, gamma: Ptr, a: Ptr, y: Ptr, N: number, K: number, D: number, floor: number, sigmaAct: number) => void;
type Backward = (da: Ptr, gamma: Ptr, a: Ptr, y: Ptr, N: number, K: number, D: number, floor: number, sigmaAct: number, scale: number) => void;
type Params = (pi: Ptr, mu: Ptr, scale: Ptr, a: Ptr, N: number, K: number, D: number, floor: number, sigmaAct: number) => void;

export interface HeadSpec {
  name: string;
  k: Kernels;
  /** Floats of the sigma block per component. */
  Sk: (D: number) => number;
  /** Which entries of a component's sigma block go through the activation (the rest are linear). */
  isScale: (j: number, D: number) => boolean;
  forward: Forward;
  forwardScalar: Forward;
  backward: Backward;
  backwardScalar: Backward;
  params: Params;
  refForward: (a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims) => { nll: Float64Array; gamma: Float64Array; sum: number };
  refBackward: (a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number) => Float64Array;
  refScale: (a: ArrayLike<number>, dims: MixtureDims) => Float64Array;
}

const FLOOR = Math.fround(1e-4);
const ACTS = [["exp", SIGMA_EXP], ["softplus", SIGMA_SOFTPLUS]] as const;
// As in test/mixture.test.ts: float32 kernels against float64, every intermediate O(10).
const NLL: Tol = { atol: 1e-5, rtol: 1e-5 };
const PROB: Tol = { atol: 2e-6, rtol: 0 };
const GRAD: Tol = { atol: 4e-5, rtol: 1e-4 };

export function headSuite(spec: HeadSpec): void {
  const { k } = spec;
  const width = (K: number, D: number) => K + K * D + K * spec.Sk(D);

  /** Random head rows: scale entries keep sigma in about [0.37, 1.65]; off-diagonals in +-0.4 / sqrt(D). */
  function randomCase(seed: number, N: number, K: number, D: number, sigmaAct: number) {
    const rng = testRng(seed);
    const P = width(K, D);
    const Sk = spec.Sk(D);
    const a = new Float64Array(N * P);
    const y = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      a.set(normal(rng, K, 1.5), n * P);
      a.set(normal(rng, K * D), n * P + K);
      for (let kk = 0; kk < K; kk++) {
        for (let j = 0; j < Sk; j++) {
          const v = spec.isScale(j, D) ? (sigmaAct === SIGMA_EXP ? uniform(rng, 1, -1, 0.5)[0]! : uniform(rng, 1, -1, 1)[0]!) : uniform(rng, 1, -0.4, 0.4)[0]! / Math.sqrt(D);
          a[n * P + K + K * D + kk * Sk + j] = v;
        }
      }
      const j = Math.floor(rng() * K);
      const noise = normal(rng, D, 0.7);
      for (let d = 0; d < D; d++) y[n * D + d] = Math.fround(a[n * P + K + j * D + d]! + noise[d]!);
    }
    return { a, y, dims: { N, K, D, floor: FLOOR, sigmaAct } };
  }

  function run(c: ReturnType<typeof randomCase>, scalar: boolean, scale = 0, da0?: Float64Array) {
    const { N, K, D, floor, sigmaAct } = c.dims;
    const heap = new Heap(k);
    const a = heap.put(c.a);
    const y = heap.put(c.y);
    const nll = heap.alloc(N + 4);
    const gamma = heap.alloc(N * K + 4);
    heap.f32(nll + 4 * N, 4).fill(7.5);
    const loss = heap.alloc(2);
    (scalar ? spec.forwardScalar : spec.forward)(loss, nll, gamma, a, y, N, K, D, floor, sigmaAct);
    const sum = heap.f64(loss, 1)[0]!;
    expectIdentical(heap.get(nll + 4 * N, 4), [7.5, 7.5, 7.5, 7.5], "nll guard");
    let da: Float64Array | null = null;
    if (da0) {
      const p = heap.alloc(da0.length + 4);
      heap.f32(p, da0.length + 4).fill(7.5);
      heap.f32(p, da0.length).set(da0);
      (scalar ? spec.backwardScalar : spec.backward)(p, gamma, a, y, N, K, D, floor, sigmaAct, scale);
      expectIdentical(heap.get(p + 4 * da0.length, 4), [7.5, 7.5, 7.5, 7.5], "da guard");
      da = heap.get(p, da0.length);
    }
    return { nll: heap.get(nll, N), gamma: heap.get(gamma, N * K), sum, da };
  }

  const sizeCases: { label: string; N: number; K: number; D: number }[] = [];
  for (const s of SIZES) {
    sizeCases.push({ label: `N=${s}`, N: s, K: 3, D: 3 });
    sizeCases.push({ label: `K=${s}`, N: 6, K: s, D: 2 });
    // D = 33 full: T = 561 per component; keep K small there.
    sizeCases.push({ label: `D=${s}`, N: 5, K: 2, D: s });
  }

  describe.each(ACTS)(`${spec.name} (sigma %s)`, (actName, sigmaAct) => {
    describe.each(sizeCases)("$label", ({ N, K, D }) => {
      const c = randomCase(N * 1000 + K * 100 + D * 10 + sigmaAct, N, K, D, sigmaAct);
      const P = width(K, D);

      it("forward and backward match the float64 reference; SIMD is bit-identical to scalar", () => {
        const want = spec.refForward(c.a, c.y, c.dims);
        const da0 = uniform(testRng(3), N * P, -1, 1);
        const got = run(c, false, 0.37, da0);
        const gotS = run(c, true, 0.37, da0);
        expectClose(got.nll, want.nll, NLL, `${actName} nll`);
        expectClose(got.gamma, want.gamma, PROB, `${actName} gamma`);
        expect(got.sum).toBe(got.nll.reduce((s, v) => s + v, 0));
        const wantDa = spec.refBackward(c.a, c.y, c.dims, 0.37).map((v, i) => v + da0[i]!);
        expectClose(got.da!, wantDa, GRAD, `${actName} da`);
        expectIdentical(got.nll, gotS.nll, "nll simd vs scalar");
        expectIdentical(got.gamma, gotS.gamma, "gamma simd vs scalar");
        expectIdentical(got.da!, gotS.da!, "da simd vs scalar");
      });

      it("params match the float64 reference", () => {
        const heap = new Heap(k);
        const a = heap.put(c.a);
        const pi = heap.alloc(N * K);
        const mu = heap.alloc(N * K * D);
        const S = heap.alloc(N * K * spec.Sk(D));
        spec.params(pi, mu, S, a, N, K, D, FLOOR, sigmaAct);
        const piGot = heap.get(pi, N * K);
        for (let n = 0; n < N; n++) {
          const logits = Array.from(c.a.subarray(n * P, n * P + K));
          const m = Math.max(...logits);
          const z = logits.reduce((t, v) => t + Math.exp(v - m), 0);
          expectClose(piGot.subarray(n * K, n * K + K), logits.map((v) => Math.exp(v - m) / z), PROB, "pi");
          expectIdentical(heap.get(mu + 4 * n * K * D, K * D), c.a.subarray(n * P + K, n * P + K + K * D), "mu");
        }
        expectClose(heap.get(S, N * K * spec.Sk(D)), spec.refScale(c.a, c.dims), { atol: 0, rtol: 6e-7 }, "scale");
      });
    });

    it.each([[1, 1, 1], [3, 3, 2], [4, 2, 3], [2, 5, 4]])("backward matches central differences of the float64 loss (N=%i, K=%i, D=%i)", (N, K, D) => {
      const c = randomCase(77 + N + K + D, N, K, D, sigmaAct);
      const scale = 1 / N;
      const a = Float64Array.from(c.a);
      const fd = centralDiff((x) => scale * spec.refForward(x, c.y, c.dims).sum, a);
      expectClose(spec.refBackward(c.a, c.y, c.dims, scale), fd, { atol: 1e-7, rtol: 1e-6 }, "reference vs fd");
      const zero = new Float64Array(c.a.length);
      expectClose(run(c, false, scale, zero).da!, fd, GRAD, "kernel vs fd");
      expectClose(run(c, true, scale, zero).da!, fd, GRAD, "scalar kernel vs fd");
    });

    it("extremes stay finite and match the reference: logits +-100, targets 1e3 away, sigma at the floor", () => {
      const N = 5, K = 3, D = 3;
      const c = randomCase(99, N, K, D, sigmaAct);
      const P = width(K, D);
      const Sk = spec.Sk(D);
      for (let n = 0; n < N; n++) {
        c.a[n * P] = 100;
        c.a[n * P + 1] = -100;
        c.a[n * P + 2] = 99.5;
        // Every scale entry of component 0 below the floor; targets far in rows 1, 3.
        for (let j = 0; j < Sk; j++) if (spec.isScale(j, D)) c.a[n * P + K + K * D + j] = -30;
        if (n % 2 === 1) for (let d = 0; d < D; d++) c.y[n * D + d] = d % 2 ? -1000 : 1000;
        if (n === 0) for (let d = 0; d < D; d++) c.y[d] = c.a[n * P + K + d]!; // exactly on mean 0
      }
      const want = spec.refForward(c.a, c.y, c.dims);
      const wantDa = spec.refBackward(c.a, c.y, c.dims, 0.5);
      for (const scalar of [false, true]) {
        const got = run(c, scalar, 0.5, new Float64Array(N * P));
        expect([...got.nll, ...got.gamma, ...got.da!].every(Number.isFinite), "finite").toBe(true);
        expectClose(got.nll, want.nll, { atol: 1e-5, rtol: 1e-5 }, "nll");
        expectClose(got.da!, wantDa, { atol: 4e-5, rtol: 1e-4 }, "da");
        // At the floor the scale entries of component 0 get no gradient.
        for (let n = 0; n < N; n++) for (let j = 0; j < Sk; j++) if (spec.isScale(j, D)) expect(got.da![n * P + K + K * D + j]).toBe(0);
      }
      expect(want.nll[0]!).toBeLessThan(-20); // sigma 1e-4 at an exact hit: log density ~ 3 * 9.2
    });

    it.each([1, 2])("the density integrates to 1 on a fine grid (D=%i)", (D) => {
      // One row, K = 3 components with distinct scales (and correlations for the full head);
      // midpoint rule over a box 9 sigma wide around all means.
      const K = 3;
      const c = randomCase(5 + D, 1, K, D, sigmaAct);
      const P = width(K, D);
      const G = D === 1 ? 4000 : 500;
      const lo = -8, hi = 8;
      const h = (hi - lo) / G;
      const rows = G ** D;
      const a = new Float64Array(rows * P);
      const y = new Float64Array(rows * D);
      for (let r = 0; r < rows; r++) {
        a.set(c.a, r * P);
        y[r * D] = lo + ((r % G) + 0.5) * h;
        if (D === 2) y[r * D + 1] = lo + (Math.floor(r / G) + 0.5) * h;
      }
      const heap = new Heap(k);
      const nll = heap.alloc(rows);
      const gamma = heap.alloc(rows * K);
      spec.forward(heap.alloc(2), nll, gamma, heap.put(a), heap.put(y), rows, K, D, FLOOR, sigmaAct);
      const mass = heap.get(nll, rows).reduce((t, v) => t + Math.exp(-v), 0) * h ** D;
      expect(Math.abs(mass - 1)).toBeLessThan(1e-3);
    });
  });
}
