// src/mixture/sampling.ts and assembly/sample.ts through the MDN: moments within 4 standard errors of
// mean/covariance, a chi-square test of component counts against the tempered weights, rows that
// never mix, the T -> 0 limits, and bit-reproducibility.

import { describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { linearModel, wasmModule } from "./models.js";
import { temperedWeights } from "../src/mixture/sampling.js";

const TYPES = ["isotropic", "diagonal", "full"] as const;


describe.each(TYPES)("%s covariance", (covariance) => {
  const K = 3, D = 2, S = 20000;
  const x = [[0.4, -0.7], [-1.2, 0.5]];

  it("sample mean and covariance within 4 standard errors of mean() and covariance()", async () => {
    const model = await linearModel(covariance, 2, D, K, 11, 0.8);
    const { samples, shape } = model.sample(x, { n: S, seed: 1 });
    expect(shape).toEqual([2, S, D]);
    const mean = model.mean(x);
    const cov = model.covariance(x);
    for (let r = 0; r < 2; r++) {
      const ys = (i: number, d: number) => samples[(r * S + i) * D + d]!;
      for (let a = 0; a < D; a++) {
        let m = 0;
        for (let i = 0; i < S; i++) m += ys(i, a);
        m /= S;
        const se = Math.sqrt(cov[r * D * D + a * D + a]! / S);
        expect(Math.abs(m - mean[r * D + a]!), `row ${r} mean ${a}`).toBeLessThan(4 * se);
        for (let b = 0; b <= a; b++) {
          // Cov entry estimate around the true mean; its standard error from the fourth moment.
          let c = 0, c2 = 0;
          for (let i = 0; i < S; i++) {
            const p = (ys(i, a) - mean[r * D + a]!) * (ys(i, b) - mean[r * D + b]!);
            c += p;
            c2 += p * p;
          }
          c /= S;
          const seC = Math.sqrt((c2 / S - c * c) / S);
          expect(Math.abs(c - cov[r * D * D + a * D + b]!), `row ${r} cov ${a}${b}`).toBeLessThan(4 * seC);
        }
      }
    }
  });

  it.each([1, 0.5, 2.5])("component counts pass a chi-square test against softmax(log pi / T) at p > 1e-3 (T = %f)", async (T) => {
    const model = await linearModel(covariance, 2, D, K, 12, 0.8);
    const { components } = model.sample(x, { n: S, temperature: T, seed: 2 });
    const pi = model.predict(x).pi;
    for (let r = 0; r < 2; r++) {
      const w = temperedWeights(pi.subarray(r * K, r * K + K), T);
      const count = new Array<number>(K).fill(0);
      let outOfRange = 0;
      for (let i = 0; i < S; i++) {
        const c = components[r * S + i]!;
        if (c >= 0 && c < K) count[c]!++;
        else outOfRange++;
      }
      expect(outOfRange).toBe(0);
      const chi2 = count.reduce((s, o, k) => s + (o - S * w[k]!) ** 2 / (S * w[k]!), 0);
      // K - 1 = 2 degrees of freedom: the survival function is exactly e^(-chi2 / 2).
      expect(Math.exp(-chi2 / 2), `row ${r} counts ${count}`).toBeGreaterThan(1e-3);
    }
  });

  it("rows never mix: each draw sits on its own row's means", async () => {
    // mu = 100 x (every component), sigma tiny: a draw from another row would be ~100 away.
    const model = await MDN.create({ inputDim: 1, outputDim: D, components: K, hidden: [], covariance, sigma: { floor: 1e-3 }, seed: 3 }, { module: wasmModule });
    const [W, b] = model.getWeights();
    const w = new Float32Array(W!.data.length);
    for (let j = 0; j < K * D; j++) w[K + j] = 100;
    const bias = new Float32Array(b!.data.length);
    // Every sigma (or diagonal of L) at e^-20, below the floor; off-diagonals of L stay 0.
    const Sk = (bias.length - K - K * D) / K;
    for (let k = 0; k < K; k++) for (let i = 0; i < D; i++) bias[K + K * D + k * Sk + (covariance === "full" ? (i * (i + 3)) / 2 : covariance === "diagonal" ? i : 0)] = -20;
    model.setWeights([{ data: w }, { data: bias }]);
    const rows = [[0], [1], [-1], [2], [0.5]];
    const { samples } = model.sample(rows, { n: 50, seed: 4 });
    rows.forEach(([v], r) => {
      let worst = 0;
      for (let i = 0; i < 50 * D; i++) worst = Math.max(worst, Math.abs(samples[r * 50 * D + i]! - 100 * v!));
      expect(worst, `row ${r}`).toBeLessThan(0.05);
    });
  });
});

describe("sampling semantics", () => {
  it("T = 0 and sigmaTemperature = 0 give the most likely component's mean exactly; T = 0 alone only that component", async () => {
    const model = await linearModel("full", 2, 2, 4, 13, 0.8);
    const x = [[0.1, 0.2], [-0.9, 1.1], [1.5, -0.3]];
    const p = model.predict(x);
    const a = model.sample(x, { n: 5, temperature: 0, sigmaTemperature: 0, seed: 1 });
    const b = model.sample(x, { n: 200, temperature: 0, seed: 1 });
    for (let r = 0; r < 3; r++) {
      const row = Array.from(p.pi.subarray(r * 4, r * 4 + 4));
      const best = row.indexOf(Math.max(...row));
      for (let i = 0; i < 5; i++) {
        expect(a.components[r * 5 + i]).toBe(best);
        expect(Array.from(a.samples.subarray((r * 5 + i) * 2, (r * 5 + i) * 2 + 2))).toEqual(Array.from(p.mu.subarray((r * 4 + best) * 2, (r * 4 + best) * 2 + 2)));
      }
      for (let i = 0; i < 200; i++) expect(b.components[r * 200 + i]).toBe(best);
    }
  });

  it("is bit-reproducible: a seed repeats, another seed differs, the stream continues and replays from config.seed", async () => {
    const x = [[0.3, 0.3], [1, -1]];
    const m1 = await linearModel("diagonal", 2, 2, 3, 14, 0.8);
    const m2 = await linearModel("diagonal", 2, 2, 3, 14, 0.8);
    const s1 = m1.sample(x, { n: 100, seed: 7 }).samples;
    expect(m1.sample(x, { n: 100, seed: 7 }).samples).toEqual(s1);
    expect(m1.sample(x, { n: 100, seed: 8 }).samples).not.toEqual(s1);
    const a1 = m1.sample(x, { n: 100 }).samples;
    const a2 = m1.sample(x, { n: 100 }).samples;
    expect(a2).not.toEqual(a1);
    expect(m2.sample(x, { n: 100 }).samples).toEqual(a1);
    expect(m2.sample(x, { n: 100 }).samples).toEqual(a2);
    // Sampling does not touch the training generator: fits after sampling match fits without.
    const data = { data: new Float32Array(40).map((_, i) => Math.sin(i)), shape: [20, 2] };
    const h1 = await m1.fit(data, data, { epochs: 2, batchSize: 5 });
    const m3 = await linearModel("diagonal", 2, 2, 3, 14, 0.8);
    const h3 = await m3.fit(data, data, { epochs: 2, batchSize: 5 });
    expect(h1.history.loss).toEqual(h3.history.loss);
  });
});
