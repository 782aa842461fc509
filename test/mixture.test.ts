// assembly/mixture.ts: the isotropic Gaussian mixture head against the float64 reference, SIMD
// against the scalar twin, backward against central differences, and the inputs that break naive
// code (logits near +-100, targets 1e3 from every mean, sigma at the floor).

import { describe, expect, it } from "vitest";
import { type Kernels, SIGMA_EXP, SIGMA_SOFTPLUS } from "../src/kernels.js";
import {
  headWidth,
  type MixtureDims,
  mixtureBackward,
  mixtureForward,
  mixtureLoss,
  mixtureParams,
} from "./reference/mixture.js";
import { centralDiff, expectClose, expectIdentical, Heap, loadKernels, normal, SIZES, testRng, type Tol, uniform } from "./util.js";

const k: Kernels = await loadKernels();
const FLOOR = Math.fround(1e-4);
const SENTINEL = 12345.5;
const ACTS = [
  ["exp", SIGMA_EXP],
  ["softplus", SIGMA_SOFTPLUS],
] as const;

interface Case {
  a: Float64Array; // (N, P)
  y: Float64Array; // (N, D)
  dims: MixtureDims;
}

/**
 * Random head outputs and targets. Targets sit near one of the row's means, so responsibilities
 * are neither all equal nor one-hot; s keeps sigma in [0.37, 1.65] (exp) or [0.31, 1.31] (softplus),
 * away from the floor so central differences see a smooth function.
 */
function randomCase(seed: number, N: number, K: number, D: number, sigmaAct: number): Case {
  const rng = testRng(seed);
  const P = headWidth(K, D);
  const a = new Float64Array(N * P);
  const y = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    a.set(normal(rng, K, 1.5), n * P);
    a.set(normal(rng, K * D), n * P + K);
    a.set(sigmaAct === SIGMA_EXP ? uniform(rng, K, -1, 0.5) : uniform(rng, K, -1, 1), n * P + K + K * D);
    const j = Math.floor(rng() * K);
    const noise = normal(rng, D, 0.7);
    for (let d = 0; d < D; d++) y[n * D + d] = Math.fround(a[n * P + K + j * D + d]! + noise[d]!);
  }
  return { a, y, dims: { N, K, D, floor: FLOOR, sigmaAct } };
}

/** A buffer with 4 sentinel floats after it, to catch tail stores past the end. */
function guarded(heap: Heap, values: ArrayLike<number> | number): number {
  const n = typeof values === "number" ? values : values.length;
  const ptr = heap.alloc(n + 4);
  const view = heap.f32(ptr, n + 4);
  view.fill(SENTINEL);
  if (typeof values !== "number") view.set(values);
  return ptr;
}

function expectGuard(heap: Heap, ptr: number, n: number, label: string): void {
  expectIdentical(heap.get(ptr + 4 * n, 4), [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `${label} guard`);
}

type Variant = "simd" | "scalar" | "fused" | "fusedScalar";

/**
 * nll, gamma and the loss sum, and given da0 the gradient accumulated onto it: from mixture_forward
 * then mixture_backward ("simd"), their scalar twins, or mixture_forward_backward or its twin.
 */
function run(c: Case, variant: Variant, scale = 0, da0?: Float64Array) {
  const { N, K, D, floor, sigmaAct } = c.dims;
  const heap = new Heap(k);
  const a = heap.put(c.a);
  const y = heap.put(c.y);
  const nll = guarded(heap, N);
  const gamma = guarded(heap, N * K);
  const loss = heap.alloc(2);
  const da = da0 ? guarded(heap, da0) : 0;
  if (variant === "fused" || variant === "fusedScalar") {
    (variant === "fused" ? k.mixture_forward_backward : k.mixture_forward_backward_scalar)(loss, nll, gamma, da, a, y, N, K, D, floor, sigmaAct, scale);
  } else {
    (variant === "simd" ? k.mixture_forward : k.mixture_forward_scalar)(loss, nll, gamma, a, y, N, K, D, floor, sigmaAct);
    if (da0) (variant === "simd" ? k.mixture_backward : k.mixture_backward_scalar)(da, gamma, a, y, N, K, D, floor, sigmaAct, scale);
  }
  expectGuard(heap, nll, N, "nll");
  expectGuard(heap, gamma, N * K, "gamma");
  if (da0) expectGuard(heap, da, da0.length, "da");
  return { nll: heap.get(nll, N), gamma: heap.get(gamma, N * K), sum: heap.f64(loss, 1)[0]!, da: da0 ? heap.get(da, da0.length) : new Float64Array(0) };
}

const forward = (c: Case, scalar = false) => run(c, scalar ? "scalar" : "simd");

/** da after mixture_forward then mixture_backward, accumulating onto da0. */
const backward = (c: Case, scale: number, da0: Float64Array, scalar = false) => run(c, scalar ? "scalar" : "simd", scale, da0).da;

function params(c: Case, scalar = false): { pi: Float64Array; mu: Float64Array; sigma: Float64Array } {
  const { N, K, D, floor, sigmaAct } = c.dims;
  const heap = new Heap(k);
  const a = heap.put(c.a);
  const pi = guarded(heap, N * K);
  const mu = guarded(heap, N * K * D);
  const sigma = guarded(heap, N * K);
  (scalar ? k.mixture_params_scalar : k.mixture_params)(pi, mu, sigma, a, N, K, D, floor, sigmaAct);
  expectGuard(heap, pi, N * K, "pi");
  expectGuard(heap, mu, N * K * D, "mu");
  expectGuard(heap, sigma, N * K, "sigma");
  return { pi: heap.get(pi, N * K), mu: heap.get(mu, N * K * D), sigma: heap.get(sigma, N * K) };
}

const add = (x: Float64Array, y: Float64Array, s = 1): Float64Array => x.map((v, i) => v + s * y[i]!);

function rowSums(x: Float64Array, N: number, K: number): Float64Array {
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let j = 0; j < K; j++) s += x[n * K + j]!;
    out[n] = s;
  }
  return out;
}

// Tolerances, float32 kernel vs float64 reference on the random cases. Every intermediate is O(10)
// at most (|log pi| + D/2 log 2 pi + z/2 with z = |y - mu|^2 / sigma^2 <~ 50), and exp/log are
// within 1 ulp, so each result is off by a few float32 ulps of an O(10) quantity: 1e-5 absolute.
// gamma and pi are probabilities (sums of e^(...) <= K): 2e-6. Gradients are products of those with
// (mu - y) / sigma^2 <~ 30 and (D - z): 4e-5 absolute plus 1e-5 relative. Central differences
// (float64, h = 1e-6) of the float64 loss are accurate to ~1e-8, far below these.
const NLL: Tol = { atol: 1e-5, rtol: 1e-6 };
const PROB: Tol = { atol: 2e-6, rtol: 0 };
const GRAD: Tol = { atol: 4e-5, rtol: 1e-5 };

/** N = 6, K = 5, D = 3 unless varied: none a multiple of 4, so every tail path runs. */
function sizeCases(): { label: string; N: number; K: number; D: number }[] {
  const out: { label: string; N: number; K: number; D: number }[] = [];
  for (const s of SIZES) {
    out.push({ label: `N=${s}`, N: s, K: 5, D: 3 });
    out.push({ label: `K=${s}`, N: 6, K: s, D: 3 });
    out.push({ label: `D=${s}`, N: 6, K: 5, D: s });
  }
  // K * D = 340 mu columns: more than one tile (256 columns) holds, so mu goes a group of 15
  // components at a time.
  out.push({ label: "K=20 D=17", N: 6, K: 20, D: 17 });
  return out;
}

describe.each(ACTS)("mixture (sigma %s)", (actName, sigmaAct) => {
  describe.each(sizeCases())("$label", ({ N, K, D }) => {
    const c = randomCase(N * 1000 + K * 100 + D * 10 + sigmaAct, N, K, D, sigmaAct);
    const P = headWidth(K, D);
    const scale = 0.37;

    it("forward matches the float64 reference", () => {
      const want = mixtureForward(c.a, c.y, c.dims);
      const got = forward(c);
      expectClose(got.nll, want.nll, NLL, `${actName} nll`);
      expectClose(got.gamma, want.gamma, PROB, `${actName} gamma`);
      expectClose([got.sum], [want.sum], { atol: N * NLL.atol, rtol: NLL.rtol }, `${actName} sum`);
      // The returned sum is the f64 sum of the stored float32 nll, in row order: exactly.
      expect(got.sum).toBe(got.nll.reduce((s, v) => s + v, 0));
      expectClose(rowSums(got.gamma, N, K), new Float64Array(N).fill(1), PROB, "gamma row sums");
    });

    it("backward accumulates the float64 closed form", () => {
      const da0 = uniform(testRng(3), N * P, -1, 1);
      const got = backward(c, scale, da0);
      expectClose(got, add(da0, mixtureBackward(c.a, c.y, c.dims, scale)), GRAD, `${actName} da`);
    });

    it("params match the float64 reference", () => {
      const want = mixtureParams(c.a, c.dims);
      const got = params(c);
      expectClose(got.pi, want.pi, PROB, "pi");
      expectIdentical(got.mu, want.mu, "mu"); // a copy
      expectClose(got.sigma, want.sigma, { atol: 0, rtol: 6e-7 }, "sigma"); // one exp/softplus
      expectClose(rowSums(got.pi, N, K), new Float64Array(N).fill(1), PROB, "pi row sums");
    });

    it("SIMD is bit-identical to the scalar twin", () => {
      // Lanes hold rows, and each lane performs the scalar twin's operations in the same order.
      const f = forward(c);
      const fs = forward(c, true);
      expectIdentical(f.nll, fs.nll, "nll");
      expectIdentical(f.gamma, fs.gamma, "gamma");
      expect(f.sum).toBe(fs.sum);
      const da0 = uniform(testRng(5), N * P, -1, 1);
      expectIdentical(backward(c, scale, da0), backward(c, scale, da0, true), "da");
      const p = params(c);
      const ps = params(c, true);
      expectIdentical(p.pi, ps.pi, "pi");
      expectIdentical(p.mu, ps.mu, "mu");
      expectIdentical(p.sigma, ps.sigma, "sigma");
    });
  });

  it.each([
    [1, 1, 1],
    [3, 5, 3],
    [4, 8, 2],
    [2, 17, 5],
  ])("backward matches central differences of the float64 loss (N=%i, K=%i, D=%i)", (N, K, D) => {
    const c = randomCase(77 + N + K + D, N, K, D, sigmaAct);
    const scale = 1 / N;
    const fd = centralDiff((x) => mixtureLoss(x, c.y, c.dims, scale), Float64Array.from(c.a));
    // The reference closed form is exact up to the differences' own error (~1e-9 here).
    expectClose(mixtureBackward(c.a, c.y, c.dims, scale), fd, { atol: 1e-7, rtol: 1e-6 }, "reference vs fd");
    const zero = new Float64Array(c.a.length);
    expectClose(backward(c, scale, zero), fd, GRAD, "kernel vs fd");
    expectClose(backward(c, scale, zero, true), fd, GRAD, "scalar kernel vs fd");
  });
});

describe.each(ACTS)("mixture_forward_backward (sigma %s)", (actName, sigmaAct) => {
  // K D = 340 > 256 takes the forward-then-backward fallback; 256 is the widest fused head.
  const shapes = [[1, 1], [4, 2], [5, 3], [8, 2], [3, 17], [16, 16], [20, 17]] as const;
  const cases = [1, 3, 4, 5, 8, 33].flatMap((N) => shapes.map(([K, D]) => ({ N, K, D })));
  it.each(cases)("is bit-identical to mixture_forward then mixture_backward, as is its scalar twin (N=$N, K=$K, D=$D)", ({ N, K, D }) => {
    const c = randomCase(N * 1000 + K * 100 + D * 10 + sigmaAct + 7, N, K, D, sigmaAct);
    const P = headWidth(K, D);
    // The floor holds on component 0 of every third row, and on the last component of row 0.
    for (let n = 0; n < N; n += 3) c.a[n * P + K + K * D] = -30;
    c.a[K + K * D + K - 1] = -200;
    const da0 = uniform(testRng(11), N * P, -1, 1);
    const want = run(c, "simd", 0.37, da0);
    for (const how of ["fused", "fusedScalar"] as const) {
      const got = run(c, how, 0.37, da0);
      const tag = `${actName} ${how}`;
      expectIdentical(got.nll, want.nll, `${tag} nll`);
      expectIdentical(got.gamma, want.gamma, `${tag} gamma`);
      expect(got.sum, `${tag} sum`).toBe(want.sum);
      expectIdentical(got.da, want.da, `${tag} da`);
    }
    // The floor's rows get no gradient on s (da0 is left as it was).
    for (let n = 0; n < N; n += 3) expect(want.da[n * P + K + K * D]).toBe(da0[n * P + K + K * D]);
  });
});

/** A case built row by row from explicit logits, means, s and targets (one row repeated N times). */
function explicitCase(logits: number[], mu: number[], s: number[], y: number[], N: number, sigmaAct: number): Case {
  const K = logits.length;
  const D = y.length;
  const row = [...logits, ...mu, ...s].map(Math.fround);
  const a = new Float64Array(N * row.length);
  const yy = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    a.set(row, n * row.length);
    yy.set(y.map(Math.fround), n * D);
  }
  return { a, y: yy, dims: { N, K, D, floor: FLOOR, sigmaAct } };
}

/** K = 5 separated means: mu_k = (k, -k, k, ...) * 5 + 0.3 d, so no two are equidistant from y. */
function separatedMeans(K: number, D: number): number[] {
  const mu: number[] = [];
  for (let j = 0; j < K; j++) for (let d = 0; d < D; d++) mu.push((d % 2 ? -j : j) * 5 + 0.3 * d);
  return mu;
}

const allFinite = (x: Float64Array): boolean => x.every(Number.isFinite);

describe.each(ACTS)("mixture extremes (sigma %s)", (actName, sigmaAct) => {
  const K = 5;
  const D = 3;
  const N = 3;
  const P = headWidth(K, D);
  const sFloor = -30; // exp(-30) = 9e-14 and softplus(-30) = 9e-14, both below the floor 1e-4
  const scale = 0.5;

  /** Forward and backward (SIMD and scalar) finite and matching the reference to rtol. */
  function check(c: Case, rtol: number, label: string): { nll: Float64Array; da: Float64Array } {
    const want = mixtureForward(c.a, c.y, c.dims);
    const wantDa = mixtureBackward(c.a, c.y, c.dims, scale);
    for (const scalar of [false, true]) {
      const got = forward(c, scalar);
      const da = backward(c, scale, new Float64Array(c.a.length), scalar);
      const tag = `${actName} ${label}${scalar ? " scalar" : ""}`;
      expect(allFinite(got.nll) && allFinite(got.gamma) && allFinite(da), `${tag} finite`).toBe(true);
      expectClose(got.nll, want.nll, { atol: 1e-5, rtol }, `${tag} nll`);
      expectClose(got.gamma, want.gamma, PROB, `${tag} gamma`);
      expectClose(da, wantDa, { atol: 4e-5, rtol }, `${tag} da`);
    }
    return { nll: want.nll, da: backward(c, scale, new Float64Array(c.a.length)) };
  }

  it("logits near +-100", () => {
    // A naive softmax overflows at e^100 (float32 max is e^88.7); log-softmax does not.
    const c = explicitCase([100, -100, 99.5, -99, 100], separatedMeans(K, D), [0, -0.5, 0.2, 0, -0.3], [1, -1, 2], N, sigmaAct);
    check(c, 1e-6, "logits");
    const p = params(c);
    expectClose(p.pi, mixtureParams(c.a, c.dims).pi, PROB, "pi");
  });

  it("targets 1e3 from every mean", () => {
    // z ~ 1e6 * D: linear-space densities are e^-1.5e6 = 0 and their log -Inf. Relative error of
    // float32 |y - mu|^2 is a few ulp, so nll and gradients agree to 1e-6 relative.
    const c = explicitCase([0.5, -1, 2, 0, 1], separatedMeans(K, D), [0, 0.3, -0.2, 0.1, 0.5], [1000, -1000, 1000], N, sigmaAct);
    const { nll } = check(c, 1e-6, "far");
    expect(Math.min(...nll)).toBeGreaterThan(1e5);
  });

  it("sigma at the floor: finite loss, zero gradient on s", () => {
    // Target exactly at a centre (the seed notebook's data) with sigma collapsed: the floor keeps
    // nll finite (about D log 1e-4 below zero), and s gets no gradient where the floor holds.
    const mu = separatedMeans(K, D);
    const c = explicitCase([0, 1, -1, 0.5, 0], mu, [sFloor, sFloor, 0, sFloor, -200], mu.slice(0, D), N, sigmaAct);
    const { nll, da } = check(c, 1e-6, "floor");
    expect(Math.max(...nll)).toBeLessThan(-20);
    // Component 0 takes all the responsibility (gamma_0 = 1, z_0 = 0), so without the floor its
    // gradient would be scale * gamma_0 * D = 1.5; with the floor active it is exactly 0.
    const gamma = forward(c).gamma;
    for (let n = 0; n < N; n++) {
      expect(gamma[n * K]).toBe(1);
      for (const j of [0, 1, 3, 4]) expect(da[n * P + K + K * D + j], `ds ${n},${j}`).toBe(0);
    }
  });

  it("everything at once: logits +-100, targets 1e3 away, sigma at the floor", () => {
    // z = 3e6 / 1e-8 = 3e14: still finite in float32 (max 3.4e38), and so are d mu (~1e11).
    const c = explicitCase([100, -100, 100, -100, 0], separatedMeans(K, D), [sFloor, sFloor, sFloor, sFloor, sFloor], [1000, -1000, 1000], N, sigmaAct);
    const { nll, da } = check(c, 1e-6, "all");
    expect(Math.min(...nll)).toBeGreaterThan(1e13);
    for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) expect(da[n * P + K + K * D + j]).toBe(0);
  });
});
