// src/mixture/density.ts through the MDN: logProb and responsibilities against the float64 references,
// predict's shapes and summary per covariance type, modes against a brute-force grid search,
// calibration on data drawn from a known mixture, and typed validation.

import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/core/config.js";
import { calibrationOf, type Mixture, mixtureCovariance, mixtureMean, rowModes, logDensity } from "../src/mixture/density.js";
import { MdnError } from "../src/core/errors.js";
import { MDN } from "../src/index.js";
import { linearModel, wasmModule } from "./models.js";
import { SIGMA_EXP } from "../src/engine/kernels.js";
import { denseForward } from "./reference/dense.js";
import { mixtureForward } from "./reference/mixture.js";
import { diagForward } from "./reference/mixture_diag.js";
import { fullForward, triIndex } from "./reference/mixture_full.js";
import { expectClose, hashWeights, normal, testRng } from "./util.js";

const TYPES = ["isotropic", "diagonal", "full"] as const;


describe.each(TYPES)("%s covariance", (covariance) => {
  const I = 2, D = 2, K = 3, N = 9;

  it("logProb and responsibilities match the float64 reference (1e-5 relative)", async () => {
    const model = await linearModel(covariance, I, D, K, 3);
    const rng = testRng(4);
    const x = normal(rng, N * I);
    const y = normal(rng, N * D);
    const [W, b] = model.getWeights();
    const a = denseForward(x, W!.data, b!.data, N, I, W!.shape[1]!);
    const dims = { N, K, D, floor: resolveConfig({ inputDim: 1, outputDim: 1, components: 1 }).sigma.floor, sigmaAct: SIGMA_EXP };
    const ref = covariance === "isotropic" ? mixtureForward(a, y, dims) : covariance === "diagonal" ? diagForward(a, y, dims) : fullForward(a, y, dims);
    const X = { data: x, shape: [N, I] };
    const Y = { data: y, shape: [N, D] };
    expectClose(model.logProb(X, Y), ref.nll.map((v) => -v), { atol: 1e-5, rtol: 1e-5 }, "logProb");
    const g = model.responsibilities(X, Y);
    expectClose(g, ref.gamma, { atol: 2e-6, rtol: 0 }, "gamma");
    const labels = model.labels(X, Y);
    for (let n = 0; n < N; n++) {
      const row = Array.from(ref.gamma.subarray(n * K, n * K + K));
      expect(labels[n]).toBe(row.indexOf(Math.max(...row)));
    }
    // The host's float64 density on predict's parameters agrees with the kernels.
    expect(model.evaluate(X, Y)).toBeCloseTo(-model.logProb(X, Y).reduce((s, v) => s + v, 0) / N, 5);
  });

  it("predict shapes, summary counts and mean/covariance by total variance", async () => {
    const model = await linearModel(covariance, I, 3, K, 5);
    const p = model.predict([[0.3, -0.2], [1, 2]]);
    const want = { isotropic: [2, K], diagonal: [2, K, 3], full: [2, K, 3, 3] }[covariance];
    expect(p.shapes.sigma).toEqual(want);
    expect(p.sigma.length).toBe(want.reduce((s, v) => s * v, 1));
    if (covariance === "full") for (let m = 0; m < 2 * K; m++) for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect(p.sigma[(m * 3 + i) * 3 + j]).toBe(0);
    const Sk = { isotropic: 1, diagonal: 3, full: 6 }[covariance];
    const headParams = (I + 1) * (K + K * 3 + K * Sk);
    expect(model.countParams().total).toBe(headParams);
    const table = model.summary();
    expect(table).toContain(`(None, ${K * Sk})`);
    expect(table).toContain(`Total params: ${headParams.toLocaleString("en-US")}`);
    // Mean and covariance from the predicted parameters, by hand.
    const mean = model.mean([[1, 2]]);
    const cov = model.covariance([[1, 2]]);
    const Sig = (k: number, i: number, j: number): number => {
      const o = K + k; // row 1
      if (covariance === "isotropic") return i === j ? p.sigma[o]! ** 2 : 0;
      if (covariance === "diagonal") return i === j ? p.sigma[o * 3 + i]! ** 2 : 0;
      let s = 0;
      for (let t = 0; t < 3; t++) s += p.sigma[(o * 3 + i) * 3 + t]! * p.sigma[(o * 3 + j) * 3 + t]!;
      return s;
    };
    for (let i = 0; i < 3; i++) {
      let m = 0;
      for (let k = 0; k < K; k++) m += p.pi[K + k]! * p.mu[(K + k) * 3 + i]!;
      expect(mean[i]).toBeCloseTo(m, 6);
    }
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let c = 0;
        for (let k = 0; k < K; k++) c += p.pi[K + k]! * (Sig(k, i, j) + p.mu[(K + k) * 3 + i]! * p.mu[(K + k) * 3 + j]!);
        expect(cov[i * 3 + j]).toBeCloseTo(c - mean[i]! * mean[j]!, 5);
      }
    }
  });
});

/** A hand-made mixture of one row: pi (K), mu (K, D), packed L (K, T). */
function mixture(pi: number[], mu: number[], L: number[], D: number): Mixture {
  return { N: 1, K: pi.length, D, pi: Float64Array.from(pi), mu: Float64Array.from(mu), L: Float64Array.from(L) };
}

describe("modes", () => {
  it("1-D: every grid maximum is found, and nothing else", () => {
    // Two close components that merge into one mode, a separate one, and a wide one.
    const m = mixture([0.3, 0.2, 0.35, 0.15], [-2, -1.6, 1.5, 4], [0.5, 0.5, 0.4, 1.5], 1);
    const modes = rowModes(m, 0);
    const h = 1e-3;
    const grid: number[] = [];
    const f = (y: number) => logDensity(m, 0, [y]);
    for (let y = -6 + h; y < 9; y += h) if (f(y) > f(y - h) && f(y) > f(y + h)) grid.push(y);
    expect(modes.shape[0]).toBe(grid.length);
    const found = Array.from(modes.points).sort((a, b) => a - b);
    grid.forEach((g, i) => expect(Math.abs(found[i]! - g)).toBeLessThanOrEqual(h));
    for (let i = 1; i < modes.density.length; i++) expect(modes.density[i]!).toBeLessThanOrEqual(modes.density[i - 1]!);
    expect(modes.density[0]).toBeCloseTo(Math.exp(f(modes.points[0]!)), 12);
  });

  it("2-D with full covariances: every grid maximum is found, and nothing else", () => {
    const rng = testRng(21);
    for (let trial = 0; trial < 3; trial++) {
      const K = 4;
      const pi = Array.from({ length: K }, () => 0.2 + rng());
      const s = pi.reduce((a, b) => a + b, 0);
      const mu = Array.from({ length: K * 2 }, () => -2 + 4 * rng());
      const L: number[] = [];
      for (let k = 0; k < K; k++) L.push(0.3 + 0.5 * rng(), -0.4 + 0.8 * rng(), 0.3 + 0.5 * rng());
      const m = mixture(pi.map((p) => p / s), mu, L, 2);
      const modes = rowModes(m, 0);
      const h = 0.025;
      const G = Math.round(10 / h);
      const val = new Float64Array((G + 1) * (G + 1));
      for (let i = 0; i <= G; i++) for (let j = 0; j <= G; j++) val[i * (G + 1) + j] = logDensity(m, 0, [-5 + i * h, -5 + j * h]);
      const peaks: [number, number][] = [];
      for (let i = 1; i < G; i++) {
        for (let j = 1; j < G; j++) {
          const v = val[i * (G + 1) + j]!;
          let top = true;
          for (let di = -1; di <= 1 && top; di++) for (let dj = -1; dj <= 1; dj++) if ((di || dj) && val[(i + di) * (G + 1) + j + dj]! >= v) top = false;
          if (top) peaks.push([-5 + i * h, -5 + j * h]);
        }
      }
      expect(modes.shape[0], `trial ${trial}`).toBe(peaks.length);
      for (const [a, b] of peaks) {
        const close = [...Array(modes.shape[0]).keys()].some((r) => Math.abs(modes.points[2 * r]! - a) <= h && Math.abs(modes.points[2 * r + 1]! - b) <= h);
        expect(close, `trial ${trial}: grid peak (${a}, ${b})`).toBe(true);
      }
    }
  });

  it("the model's modes are the modes of its predicted mixture", async () => {
    const model = await linearModel("full", 1, 2, 3, 8);
    const rows = model.modes([[0.2], [-1]]);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.shape[0]).toBeGreaterThanOrEqual(1);
      expect(r.points.length).toBe(r.shape[0] * 2);
    }
  });
});

describe("calibration", () => {
  it("PIT of draws from the mixture itself is uniform; coverage within 4 standard errors", () => {
    const rng = testRng(5);
    const N = 4000;
    const K = 3;
    const m: Mixture = { N, K, D: 1, pi: new Float64Array(N * K), mu: new Float64Array(N * K), L: new Float64Array(N * K) };
    const y = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      const w = [rng() + 0.1, rng() + 0.1, rng() + 0.1];
      const s = w[0]! + w[1]! + w[2]!;
      for (let k = 0; k < K; k++) {
        m.pi[n * K + k] = w[k]! / s;
        m.mu[n * K + k] = 3 * rng() - 1.5;
        m.L[n * K + k] = 0.2 + rng();
      }
      let u = rng();
      let k = 0;
      while (k < K - 1 && u >= m.pi[n * K + k]!) u -= m.pi[n * K + k++]!;
      y[n] = m.mu[n * K + k]! + m.L[n * K + k]! * normal(rng, 1)[0]!;
    }
    const c = calibrationOf(m, y, [0.5, 0.8, 0.95]);
    for (const { level, observed } of c.coverage) expect(Math.abs(observed - level)).toBeLessThan(4 * Math.sqrt((level * (1 - level)) / N));
    // Kolmogorov-Smirnov distance of the PIT from U(0, 1): 1.63 / sqrt(N) is the 1% critical value.
    const sorted = Array.from(c.pit).sort((a, b) => a - b);
    const ks = Math.max(...sorted.map((p, i) => Math.max(Math.abs(p - i / N), Math.abs(p - (i + 1) / N))));
    expect(ks).toBeLessThan(1.63 / Math.sqrt(N));
    // A mixture that is too narrow is caught: halve every sigma and coverage drops.
    const narrow = { ...m, L: m.L.map((v) => v / 2) };
    expect(calibrationOf(narrow, y, [0.8]).coverage[0]!.observed).toBeLessThan(0.7);
  });
});

describe("validation", () => {
  it("bad input gets a typed MdnError before any kernel runs, and the model is unchanged", async () => {
    const model = await linearModel("full", 2, 2, 3, 9);
    const before = hashWeights(model.getWeights());
    const x = [[0, 1]];
    const cases: Array<[() => unknown, string, string]> = [
      [() => model.logProb(x, [[1, 2, 3]]), "SHAPE_MISMATCH", "y"],
      [() => model.responsibilities(x, [[1, 2], [3, 4]]), "ROW_COUNT_MISMATCH", "y"],
      [() => model.mean([[NaN, 1]]), "NON_FINITE", "x[0][0]"],
      [() => model.sample(x, { n: 0 }), "INVALID_CONFIG", "options.n"],
      [() => model.sample(x, { temperature: -1 }), "INVALID_CONFIG", "options.temperature"],
      [() => model.sample(x, { sigmaTemperature: Infinity }), "INVALID_CONFIG", "options.sigmaTemperature"],
      [() => model.sample(x, { seed: 1.5 }), "INVALID_CONFIG", "options.seed"],
      [() => model.modes(x, { mergeTol: 0 }), "INVALID_CONFIG", "options.mergeTol"],
      [() => model.calibration(x, [[1, 2]]), "SHAPE_MISMATCH", "y"],
    ];
    for (const [f, code, argument] of cases) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, argument).toBeInstanceOf(MdnError);
      expect((err as MdnError).code, argument).toBe(code);
      expect((err as MdnError).argument).toBe(argument);
    }
    await expect(MDN.create({ inputDim: 1, outputDim: 1, components: 1, covariance: "spherical" as never })).rejects.toMatchObject({ code: "INVALID_CONFIG", argument: "config.covariance" });
    expect(hashWeights(model.getWeights())).toBe(before);
    // Host float64 moments agree with the mixture helpers used by the model.
    expect(mixtureMean(mixture([1], [0.5, 0.25], [1, 0, 1], 2))).toEqual(Float64Array.from([0.5, 0.25]));
    expect(mixtureCovariance(mixture([1], [0, 0], [2, 1, 3], 2))).toEqual(Float64Array.from([4, 2, 2, 10]));
    expect(triIndex(2, 1)).toBe(4);
  });
});
