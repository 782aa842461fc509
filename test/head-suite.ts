// One test suite for every covariance type of the mixture driver (test/mixture_iso.test.ts,
// test/mixture_diag.test.ts, test/mixture_full.test.ts): the float64 reference, SIMD against the
// scalar twin, the fused step against the forward, central differences, extremes, the floor's zero
// gradient, the work region the host plans (src/engine/head.ts workFloats) and the density integrating
// to 1.

import { describe, expect, it } from "vitest";
import { type Covariance, HEAD_FLOOR, HEAD_SCALE, headOf, LOG_DENSITY_MIN, SIGMA_CEILING } from "../src/engine/head.js";
import { type TestKernels, type Ptr, SIGMA_EXP, SIGMA_SOFTPLUS } from "../src/engine/kernels.js";
import { type MixtureDims, mixturePiMu } from "./reference/mixture.js";
import { centralDiff, expectClose, expectIdentical, Heap, normal, SIZES, testRng, type Tol, uniform } from "./util.js";

export interface HeadSpec {
  covariance: Covariance;
  k: TestKernels;
  /** Which entries of a component's sigma block go through the activation (the rest are linear). */
  isScale: (j: number, D: number) => boolean;
  refForward: (a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims) => { nll: Float64Array; gamma: Float64Array; sum: number };
  refBackward: (a: ArrayLike<number>, y: ArrayLike<number>, dims: MixtureDims, scale: number) => Float64Array;
  refScale: (a: ArrayLike<number>, dims: MixtureDims) => Float64Array;
}

export interface HeadCase {
  a: Float64Array; // (N, P)
  y: Float64Array; // (N, D)
  dims: MixtureDims;
}

export const FLOOR = Math.fround(1e-4);
export const ACTS = [["exp", SIGMA_EXP], ["softplus", SIGMA_SOFTPLUS]] as const;
const SENTINEL = 12345.5;
// Tolerances, float32 kernels against float64 on the random cases. Every intermediate is O(10) at
// most (|log pi| + D/2 log 2 pi + z/2 with z <~ 50), and exp/log are within 1 ulp, so each result
// is off by a few float32 ulps of an O(10) quantity: 1e-5. gamma and pi are probabilities (sums of
// e^(...) <= K): 2e-6. Gradients are products of those with (mu - y) / sigma^2 <~ 30 and (D - z):
// 4e-5 absolute plus 1e-4 relative. Central differences (float64, h = 1e-6) of the float64 loss
// are accurate to ~1e-8, far below these.
const NLL: Tol = { atol: 1e-5, rtol: 1e-5 };
const PROB: Tol = { atol: 2e-6, rtol: 0 };
const GRAD: Tol = { atol: 4e-5, rtol: 1e-4 };

const T_OF = { isotropic: "iso", diagonal: "diag", full: "full" } as const;

/** The type's kernels: the SIMD ones or their scalar twins. */
function kernelsOf(k: TestKernels, covariance: Covariance, scalar: boolean) {
  const t = T_OF[covariance];
  const sfx = scalar ? ("_scalar" as const) : ("" as const);
  return { forward: k[`mixture_${t}_forward${sfx}`], params: k[`mixture_${t}_params${sfx}`] };
}

/** A buffer with 4 sentinel floats after it, to catch stores past the end. */
function guarded(heap: Heap, values: ArrayLike<number> | number): Ptr {
  const n = typeof values === "number" ? values : values.length;
  const ptr = heap.alloc(n + 4);
  const view = heap.f32(ptr, n + 4);
  view.fill(SENTINEL);
  if (typeof values !== "number") view.set(values);
  return ptr;
}

function expectGuard(heap: Heap, ptr: Ptr, n: number, label: string): void {
  expectIdentical(heap.get(ptr + 4 * n, 4), [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `${label} guard`);
}

/** The head's settings block (src/engine/head.ts HEAD_FLOOR, HEAD_SCALE). */
function settings(heap: Heap, floor: number, scale: number): Ptr {
  const hs = heap.alloc(4);
  const v = heap.f32(hs, 4);
  v[HEAD_FLOOR / 4] = floor;
  v[HEAD_SCALE / 4] = scale;
  return hs;
}

/**
 * nll, gamma and the loss sum from the forward, or with da0 from the fused step, whose gradient is
 * accumulated onto da0; scalar picks the twins. Every output and the work region are guarded.
 */
export function runHead(k: TestKernels, covariance: Covariance, c: HeadCase, scalar: boolean, scale = 0, da0?: ArrayLike<number>) {
  const { N, K, D, floor, sigmaAct } = c.dims;
  const kern = kernelsOf(k, covariance, scalar);
  const heap = new Heap(k);
  const a = heap.put(c.a);
  const y = heap.put(c.y);
  const nll = guarded(heap, N);
  const gamma = guarded(heap, N * K);
  const loss = heap.alloc(2);
  const hs = settings(heap, floor, scale);
  const W = headOf(covariance).workFloats(K, D);
  const work = guarded(heap, W);
  const da = da0 ? guarded(heap, da0) : 0;
  kern.forward(loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work);
  expectGuard(heap, nll, N, "nll");
  expectGuard(heap, gamma, N * K, "gamma");
  expectGuard(heap, work, W, "work");
  if (da0) expectGuard(heap, da, da0.length, "da");
  return { nll: heap.get(nll, N), gamma: heap.get(gamma, N * K), sum: heap.f64(loss, 1)[0]!, da: da0 ? heap.get(da, da0.length) : new Float64Array(0) };
}

/** pi (N, K), mu (N, K, D) and the activated sigma blocks (N, K, Sk) from params or its twin. */
export function runParams(k: TestKernels, covariance: Covariance, c: HeadCase, scalar: boolean) {
  const { N, K, D, floor, sigmaAct } = c.dims;
  const Sk = headOf(covariance).blockSize(D);
  const heap = new Heap(k);
  const a = heap.put(c.a);
  const pi = guarded(heap, N * K);
  const mu = guarded(heap, N * K * D);
  const sigma = guarded(heap, N * K * Sk);
  const W = headOf(covariance).workFloats(K, D);
  const work = guarded(heap, W);
  kernelsOf(k, covariance, scalar).params(pi, mu, sigma, a, N, K, D, sigmaAct, settings(heap, floor, 0), work);
  expectGuard(heap, pi, N * K, "pi");
  expectGuard(heap, mu, N * K * D, "mu");
  expectGuard(heap, sigma, N * K * Sk, "sigma");
  expectGuard(heap, work, W, "work");
  return { pi: heap.get(pi, N * K), mu: heap.get(mu, N * K * D), sigma: heap.get(sigma, N * K * Sk) };
}

function rowSums(x: Float64Array, N: number, K: number): Float64Array {
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) out[n] = out[n]! + x[n * K + j]!;
  return out;
}

export function headSuite(spec: HeadSpec): void {
  const { k, covariance } = spec;
  const head = headOf(covariance);
  const width = (K: number, D: number) => K + K * D + K * head.blockSize(D);
  const run = (c: HeadCase, scalar: boolean, scale = 0, da0?: ArrayLike<number>) => runHead(k, covariance, c, scalar, scale, da0);

  /**
   * Random head rows: targets near one of the row's means, so responsibilities are neither all
   * equal nor one-hot; scale entries keep sigma in about [0.37, 1.65], away from the floor so that
   * central differences see a smooth function; off-diagonals in +-0.4 / sqrt(D).
   */
  function randomCase(seed: number, N: number, K: number, D: number, sigmaAct: number): HeadCase {
    const rng = testRng(seed);
    const P = width(K, D);
    const Sk = head.blockSize(D);
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

  const sizeCases: { label: string; N: number; K: number; D: number }[] = [];
  for (const s of SIZES) {
    sizeCases.push({ label: `N=${s}`, N: s, K: 3, D: 3 });
    sizeCases.push({ label: `K=${s}`, N: 6, K: s, D: 2 });
    // D = 33 full: T = 561 per component; keep K small there.
    sizeCases.push({ label: `D=${s}`, N: 5, K: 2, D: s });
  }
  // A wide head: 340 mu columns, more than the 256 of the old isotropic tiles.
  sizeCases.push({ label: "K=20 D=17", N: 6, K: 20, D: 17 });

  describe.each(ACTS)(`${covariance} head (sigma %s)`, (actName, sigmaAct) => {
    describe.each(sizeCases)("$label", ({ N, K, D }) => {
      const c = randomCase(N * 1000 + K * 100 + D * 10 + sigmaAct, N, K, D, sigmaAct);
      const P = width(K, D);

      it("forward and the fused step match the float64 reference; SIMD, scalar twin and forward alone agree bit for bit", () => {
        const want = spec.refForward(c.a, c.y, c.dims);
        const da0 = uniform(testRng(3), N * P, -1, 1);
        const f = run(c, false);
        expectClose(f.nll, want.nll, NLL, `${actName} nll`);
        expectClose(f.gamma, want.gamma, PROB, `${actName} gamma`);
        expectClose(rowSums(f.gamma, N, K), new Float64Array(N).fill(1), PROB, "gamma row sums");
        // The loss is the f64 sum of the stored float32 nll, in row order: exactly.
        expect(f.sum).toBe(f.nll.reduce((s, v) => s + v, 0));
        const wantDa = spec.refBackward(c.a, c.y, c.dims, 0.37).map((v, i) => v + da0[i]!);
        const step = run(c, false, 0.37, da0);
        expectClose(step.da, wantDa, GRAD, `${actName} da`);
        for (const [got, tag] of [[run(c, true), "scalar forward"], [step, "step"], [run(c, true, 0.37, da0), "scalar step"]] as const) {
          expectIdentical(got.nll, f.nll, `${tag} nll`);
          expectIdentical(got.gamma, f.gamma, `${tag} gamma`);
          expect(got.sum, `${tag} sum`).toBe(f.sum);
          if (got.da.length) expectIdentical(got.da, step.da, `${tag} da`);
        }
      });

      it("params match the float64 reference; SIMD is bit-identical to scalar", () => {
        const got = runParams(k, covariance, c, false);
        const want = mixturePiMu(c.a, c.dims, head.blockSize(D));
        expectClose(got.pi, want.pi, PROB, "pi");
        expectClose(rowSums(got.pi, N, K), new Float64Array(N).fill(1), PROB, "pi row sums");
        expectIdentical(got.mu, want.mu, "mu"); // a copy
        expectClose(got.sigma, spec.refScale(c.a, c.dims), { atol: 0, rtol: 6e-7 }, "sigma"); // one exp/softplus
        const twin = runParams(k, covariance, c, true);
        expectIdentical(got.pi, twin.pi, "pi twin");
        expectIdentical(got.mu, twin.mu, "mu twin");
        expectIdentical(got.sigma, twin.sigma, "sigma twin");
      });
    });

    it.each([[1, 1, 1], [3, 3, 2], [4, 2, 3], [2, 5, 4], [4, 8, 2], [2, 17, 5]])("the step's gradient matches central differences of the float64 loss (N=%i, K=%i, D=%i)", (N, K, D) => {
      const c = randomCase(77 + N + K + D, N, K, D, sigmaAct);
      const scale = 1 / N;
      const a = Float64Array.from(c.a);
      const fd = centralDiff((x) => scale * spec.refForward(x, c.y, c.dims).sum, a);
      // The reference closed form is exact up to the differences' own error (~1e-9 here).
      expectClose(spec.refBackward(c.a, c.y, c.dims, scale), fd, { atol: 1e-7, rtol: 1e-6 }, "reference vs fd");
      const zero = new Float64Array(c.a.length);
      expectClose(run(c, false, scale, zero).da, fd, GRAD, "kernel vs fd");
      expectClose(run(c, true, scale, zero).da, fd, GRAD, "scalar kernel vs fd");
    });

    it.each([1, 3, 4, 5, 8, 33])("where the floor holds the scale entries get no gradient (N=%i)", (N) => {
      const K = 4, D = 3;
      const c = randomCase(N * 31 + sigmaAct, N, K, D, sigmaAct);
      const P = width(K, D);
      const Sk = head.blockSize(D);
      // The floor holds on component 0 of every third row, and on the last component of row 0.
      const floored = (n: number, kk: number, j: number) => spec.isScale(j, D) && ((n % 3 === 0 && kk === 0) || (n === 0 && kk === K - 1));
      for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) for (let j = 0; j < Sk; j++) if (floored(n, kk, j)) c.a[n * P + K + K * D + kk * Sk + j] = kk === 0 ? -30 : -200;
      const da0 = uniform(testRng(11), N * P, -1, 1);
      for (const scalar of [false, true]) {
        const da = run(c, scalar, 0.37, da0).da;
        for (let n = 0; n < N; n++) {
          for (let kk = 0; kk < K; kk++) {
            for (let j = 0; j < Sk; j++) {
              const i = n * P + K + K * D + kk * Sk + j;
              if (floored(n, kk, j)) expect(da[i], `row ${n} component ${kk} entry ${j}`).toBe(Math.fround(da0[i]!));
            }
          }
        }
      }
    });

    it("extremes stay finite and match the reference: logits +-100, targets 1e3 away, sigma at the floor", () => {
      const N = 5, K = 3, D = 3;
      const c = randomCase(99, N, K, D, sigmaAct);
      const P = width(K, D);
      const Sk = head.blockSize(D);
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
        expect([...got.nll, ...got.gamma, ...got.da].every(Number.isFinite), "finite").toBe(true);
        expectClose(got.nll, want.nll, { atol: 1e-5, rtol: 1e-5 }, "nll");
        expectClose(got.da, wantDa, { atol: 4e-5, rtol: 1e-4 }, "da");
        // At the floor the scale entries of component 0 get no gradient.
        for (let n = 0; n < N; n++) for (let j = 0; j < Sk; j++) if (spec.isScale(j, D)) expect(got.da[n * P + K + K * D + j]).toBe(0);
      }
      expect(want.nll[0]!).toBeLessThan(-20); // sigma 1e-4 at an exact hit: log density ~ 3 * 9.2
    });

    it.each([1, 4, 5])("sigma above the ceiling is the ceiling, with no gradient, and L's off-diagonal stays within it (N=%i)", (N) => {
      const K = 3, D = 3;
      const c = randomCase(400 + N + sigmaAct, N, K, D, sigmaAct);
      const P = width(K, D);
      const Sk = head.blockSize(D);
      // Component 0: every scale entry far above the ceiling (exp(100) overflows float32) and
      // every linear entry beyond +-ceiling; component 1: just above the ceiling (exp(42) = 1.7e18).
      const huge = sigmaAct === SIGMA_EXP ? 100 : 3e38;
      const above = sigmaAct === SIGMA_EXP ? 42 : 2e18;
      const bounded = (kk: number, j: number) => kk === 0 || (kk === 1 && spec.isScale(j, D));
      for (let n = 0; n < N; n++) {
        for (let j = 0; j < Sk; j++) {
          c.a[n * P + K + K * D + j] = spec.isScale(j, D) ? huge : j % 2 ? -3e38 : 2e18;
          if (spec.isScale(j, D)) c.a[n * P + K + K * D + Sk + j] = above;
        }
      }
      const p = runParams(k, covariance, c, false);
      for (let n = 0; n < N; n++) {
        for (let kk = 0; kk < 2; kk++) {
          for (let j = 0; j < Sk; j++) {
            const v = p.sigma[(n * K + kk) * Sk + j]!;
            if (bounded(kk, j)) expect(Math.abs(v), `row ${n} component ${kk} entry ${j}`).toBe(SIGMA_CEILING);
          }
        }
      }
      expectIdentical(runParams(k, covariance, c, true).sigma, p.sigma, "sigma twin");
      expectClose(p.sigma, spec.refScale(c.a, c.dims), { atol: 0, rtol: 6e-7 }, "sigma vs reference");
      const want = spec.refForward(c.a, c.y, c.dims);
      const da0 = uniform(testRng(7), N * P, -1, 1);
      const wantDa = spec.refBackward(c.a, c.y, c.dims, 0.5).map((v, i) => v + da0[i]!);
      for (const scalar of [false, true]) {
        const got = run(c, scalar, 0.5, da0);
        expect([...got.nll, ...got.gamma, ...got.da].every(Number.isFinite), "finite").toBe(true);
        expectClose(got.nll, want.nll, NLL, "nll");
        expectClose(got.da, wantDa, GRAD, "da");
        for (let n = 0; n < N; n++) {
          for (let kk = 0; kk < 2; kk++) {
            for (let j = 0; j < Sk; j++) {
              const i = n * P + K + K * D + kk * Sk + j;
              if (bounded(kk, j)) expect(got.da[i], `gradient of row ${n} component ${kk} entry ${j}`).toBe(Math.fround(da0[i]!));
            }
          }
        }
      }
    });

    it.each([1e19, 3e38])("targets %s from the means: reported log N_k takes its bound and everything stays finite", (far) => {
      const N = 6, K = 3, D = 3;
      const c = randomCase(500 + sigmaAct, N, K, D, sigmaAct);
      const P = width(K, D);
      const Sk = head.blockSize(D);
      for (let n = 0; n < N; n++) {
        // Rows 0-2: far from every mean (all components at the bound); rows 3-5: at component 0's
        // mean but far from the others'. Component 1 at the floor, and (full) with L_10 = 0, so
        // the solve meets 0 * Inf.
        for (let d = 0; d < D; d++) c.y[n * D + d] = n < 3 ? (d % 2 ? -far : far) : c.a[n * P + K + d]!;
        for (let d = 0; d < D; d++) c.a[n * P + K + D + d] = n < 3 ? 0 : (d % 2 ? far : -far);
        for (let d = 0; d < D; d++) c.a[n * P + K + 2 * D + d] = n < 3 ? 1 : -far;
        for (let j = 0; j < Sk; j++) c.a[n * P + K + K * D + Sk + j] = spec.isScale(j, D) ? -30 : 0;
      }
      const want = spec.refForward(c.a, c.y, c.dims);
      for (const scalar of [false, true]) {
        const got = run(c, scalar);
        expect([...got.nll, ...got.gamma].every(Number.isFinite), "finite").toBe(true);
        expectClose(got.nll, want.nll, { atol: 1e-5, rtol: 1e-6 }, "nll");
        expectClose(got.gamma, want.gamma, PROB, "gamma");
        // Rows 0-2 at the bound everywhere: nll = -(LOG_DENSITY_MIN + log pi_k) rounds to
        // -LOG_DENSITY_MIN in float32, and the components are equally responsible.
        for (let n = 0; n < 3; n++) {
          expect(got.nll[n]).toBe(Math.fround(-LOG_DENSITY_MIN));
          for (let kk = 0; kk < K; kk++) expect(got.gamma[n * K + kk]).toBe(Math.fround(1 / 3));
        }
        // The training step leaves log N_k unbounded, so that fit's guard sees a batch float32
        // cannot represent (test/train.test.ts drives runs there).
      }
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
      const got = run({ a, y, dims: { ...c.dims, N: rows } }, false);
      const mass = got.nll.reduce((t, v) => t + Math.exp(-v), 0) * h ** D;
      expect(Math.abs(mass - 1)).toBeLessThan(1e-3);
    });
  });
}
