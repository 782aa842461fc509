// Standardisation: learned from the training rows, stored in the file, and invisible to the user:
// predictions and densities come back in original units, the log density with the Jacobian.
import { describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { regression } from "./util.js";

/** Mean NLL of y under the predicted isotropic mixtures, in float64 from predict's outputs. */
function nllFromPrediction(p: ReturnType<MDN["predict"]>, y: Float32Array, K: number, D: number): number {
  const N = p.shapes.pi[0];
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const terms: number[] = [];
    for (let k = 0; k < K; k++) {
      const s = p.sigma[n * K + k]!;
      let sq = 0;
      for (let d = 0; d < D; d++) sq += (y[n * D + d]! - p.mu[(n * K + k) * D + d]!) ** 2;
      terms.push(Math.log(p.pi[n * K + k]!) - D * Math.log(s) - (D / 2) * Math.log(2 * Math.PI) - sq / (2 * s * s));
    }
    const mx = Math.max(...terms);
    sum -= mx + Math.log(terms.reduce((a, t) => a + Math.exp(t - mx), 0));
  }
  return sum / N;
}

describe("normalize", () => {
  it("learns statistics from the training rows only (not the validation rows) and stores them", async () => {
    const { x, y } = regression(100, 3);
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, seed: 1, hidden: [8] });
    expect(m.normalization).toBeNull();
    await m.fit(x, y, { epochs: 1, normalize: true, validationSplit: 0.2 });
    const n = m.normalization!;
    let mean0 = 0;
    for (let i = 0; i < 80; i++) mean0 += x.data[2 * i]!;
    expect(n.xMean[0]).toBe(Math.fround(mean0 / 80));
    // Isotropic: one shared target scale.
    expect(n.yStd[0]).toBe(n.yStd[1]);
    expect((await MDN.load(m.save())).normalization).toEqual(n);
  });

  it("predictions and densities are in original units: evaluate agrees with the mixture predict returns", async () => {
    const { x, y } = regression(128, 4);
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 3, seed: 2, hidden: [16], normalize: true });
    await m.fit(x, y, { epochs: 5, batchSize: 32 });
    const p = m.predict(x);
    // Means live near the targets (around 50 and -20), not near 0.
    let muMean = 0;
    for (let i = 0; i < p.mu.length; i += 2) muMean += p.mu[i]!;
    expect(muMean / (p.mu.length / 2)).toBeGreaterThan(30);
    const nll = m.evaluate(x, y);
    expect(Math.abs(nll - nllFromPrediction(p, y.data, 3, 2))).toBeLessThan(1e-4 * Math.max(1, Math.abs(nll)));
  });

  it("rescaling the data rescales the model: mu and sigma scale, the NLL shifts by D log c", async () => {
    const { x, y } = regression(128, 6);
    const c = 1000;
    const y2 = { data: y.data.map((v) => v * c + 7), shape: y.shape };
    const x2 = { data: x.data.map((v) => v * 0.01 - 3), shape: x.shape };
    const cfg = { inputDim: 2, outputDim: 2, components: 2, seed: 9, hidden: [8], normalize: true };
    const a = await MDN.create(cfg);
    const b = await MDN.create(cfg);
    await a.fit(x, y, { epochs: 3, batchSize: 32 });
    await b.fit(x2, y2, { epochs: 3, batchSize: 32 });
    const pa = a.predict(x);
    const pb = b.predict(x2);
    // Equal up to float32 rounding of the standardised data.
    for (let i = 0; i < pa.sigma.length; i++) expect(pb.sigma[i]! / (c * pa.sigma[i]!)).toBeCloseTo(1, 2);
    for (let i = 0; i < pa.mu.length; i++) expect(Math.abs(pb.mu[i]! - (c * pa.mu[i]! + 7))).toBeLessThan(1e-2 * c);
    expect(b.evaluate(x2, y2) - a.evaluate(x, y)).toBeCloseTo(2 * Math.log(c), 2);
  });

  it("refuses to start standardising a model already trained without it", async () => {
    const { x, y } = regression(64, 1);
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, seed: 1, hidden: [4] });
    await m.fit(x, y, { epochs: 1 });
    const before = m.save();
    await expect(m.fit(x, y, { epochs: 1, normalize: true })).rejects.toMatchObject({ code: "INVALID_CONFIG", argument: "options.normalize" });
    expect(m.save()).toEqual(before);
  });
});
