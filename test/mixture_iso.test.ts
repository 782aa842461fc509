// assembly/mixture_iso.ts: the isotropic head (suite in test/head-suite.ts), and the inputs that
// break naive code, built by hand: logits near +-100, targets 1e3 from every mean, sigma at the
// floor, all at once.
import { describe, expect, it } from "vitest";
import { ACTS, FLOOR, type HeadCase, headSuite, runHead, runParams } from "./head-suite.js";
import { mixtureBackward, mixtureForward, mixturePiMu, mixtureSigma } from "./reference/mixture.js";
import { expectClose, loadKernels } from "./util.js";

const k = await loadKernels();
headSuite({ covariance: "isotropic", k, isScale: () => true, refForward: mixtureForward, refBackward: mixtureBackward, refScale: mixtureSigma });

/** A case built row by row from explicit logits, means, s and targets (one row repeated N times). */
function explicitCase(logits: number[], mu: number[], s: number[], y: number[], N: number, sigmaAct: number): HeadCase {
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

/** K separated means: mu_k = (k, -k, k, ...) * 5 + 0.3 d, so no two are equidistant from y. */
function separatedMeans(K: number, D: number): number[] {
  const mu: number[] = [];
  for (let j = 0; j < K; j++) for (let d = 0; d < D; d++) mu.push((d % 2 ? -j : j) * 5 + 0.3 * d);
  return mu;
}

const allFinite = (x: Float64Array): boolean => x.every(Number.isFinite);

describe.each(ACTS)("isotropic extremes (sigma %s)", (actName, sigmaAct) => {
  const K = 5, D = 3, N = 3;
  const P = K + K * D + K;
  const sFloor = -30; // exp(-30) = 9e-14 and softplus(-30) = 9e-14, both below the floor 1e-4
  const scale = 0.5;

  /** The fused step (SIMD and scalar) finite and matching the reference to rtol. */
  function check(c: HeadCase, rtol: number, label: string) {
    const want = mixtureForward(c.a, c.y, c.dims);
    const wantDa = mixtureBackward(c.a, c.y, c.dims, scale);
    const [simd, scalar] = [false, true].map((twin) => runHead(k, "isotropic", c, twin, scale, new Float64Array(c.a.length)));
    for (const [got, tag] of [[simd!, `${actName} ${label}`], [scalar!, `${actName} ${label} scalar`]] as const) {
      expect(allFinite(got.nll) && allFinite(got.gamma) && allFinite(got.da), `${tag} finite`).toBe(true);
      expectClose(got.nll, want.nll, { atol: 1e-5, rtol }, `${tag} nll`);
      expectClose(got.gamma, want.gamma, { atol: 2e-6, rtol: 0 }, `${tag} gamma`);
      expectClose(got.da, wantDa, { atol: 4e-5, rtol }, `${tag} da`);
    }
    return { nll: want.nll, got: simd! };
  }

  it("logits near +-100", () => {
    // A naive softmax overflows at e^100 (float32 max is e^88.7); log-softmax does not.
    const c = explicitCase([100, -100, 99.5, -99, 100], separatedMeans(K, D), [0, -0.5, 0.2, 0, -0.3], [1, -1, 2], N, sigmaAct);
    check(c, 1e-6, "logits");
    expectClose(runParams(k, "isotropic", c, false).pi, mixturePiMu(c.a, c.dims, 1).pi, { atol: 2e-6, rtol: 0 }, "pi");
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
    const { nll, got } = check(c, 1e-6, "floor");
    expect(Math.max(...nll)).toBeLessThan(-20);
    // Component 0 takes all the responsibility (gamma_0 = 1, z_0 = 0), so without the floor its
    // gradient would be scale * gamma_0 * D = 1.5; with the floor active it is exactly 0.
    for (let n = 0; n < N; n++) {
      expect(got.gamma[n * K]).toBe(1);
      for (const j of [0, 1, 3, 4]) expect(got.da[n * P + K + K * D + j], `ds ${n},${j}`).toBe(0);
    }
  });

  it("everything at once: logits +-100, targets 1e3 away, sigma at the floor", () => {
    // z = 3e6 / 1e-8 = 3e14: still finite in float32 (max 3.4e38), and so are d mu (~1e11).
    const c = explicitCase([100, -100, 100, -100, 0], separatedMeans(K, D), [sFloor, sFloor, sFloor, sFloor, sFloor], [1000, -1000, 1000], N, sigmaAct);
    const { nll, got } = check(c, 1e-6, "all");
    expect(Math.min(...nll)).toBeGreaterThan(1e13);
    for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) expect(got.da[n * P + K + K * D + j]).toBe(0);
  });
});
