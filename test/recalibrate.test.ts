// model.recalibrate (src/mixture/recalibrate.ts): a sigma scale and a mixing-weight temperature fitted by
// maximum likelihood on held-out rows and folded into the head's weights.
import { describe, expect, it } from "vitest";
import { MDN, type Weight } from "../src/index.js";
import { hashWeights, normal, testRng } from "./util.js";

/** y = sin(2x) + (0.1 + 0.2 |x|) e on x ~ U(-2, 2); D copies of y with independent noise. */
function data(seed: number, n: number, D = 1) {
  const r = testRng(seed);
  const x = new Float32Array(n), y = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    x[i] = 4 * r() - 2;
    const e = normal(r, D);
    for (let d = 0; d < D; d++) y[i * D + d] = Math.sin(2 * x[i]!) + (0.1 + 0.2 * Math.abs(x[i]!)) * (e[d]! + (d > 0 ? 0.8 * e[0]! : 0));
  }
  return { x: { data: x, shape: [n, 1] as [number, number] }, y: { data: y, shape: [n, D] as [number, number] } };
}

async function trained(covariance: "isotropic" | "diagonal" | "full" = "isotropic", D = 1, sigma: "exp" | "softplus" = "exp") {
  const m = await MDN.create({ inputDim: 1, outputDim: D, components: 2, hidden: [16], covariance, sigma: { activation: sigma }, seed: 3 });
  const t = data(1, 400, D);
  await m.fit(t.x, t.y, { epochs: 30, batchSize: 32, optimizer: { learningRate: 1e-2 } });
  return m;
}

/** The head's bias with f applied to entries [from, to). */
function editBias(m: MDN, from: number, to: number, f: (v: number) => number): Weight[] {
  return m.getWeights().map((w) => (w.name !== "mixture/bias" ? w : { ...w, data: w.data.map((v, i) => (i >= from && i < to ? f(v) : v)) }));
}

const cal = data(2, 1000), cal2 = data(2, 1000, 2);

describe("recalibrate", () => {
  it("undoes a known error: sigmas halved give a scale twice the model's own; logits tripled a temperature three times its own", async () => {
    const K = 2;
    const base = await trained();
    const own = (await trained()).recalibrate(cal.x, cal.y);
    // Halve every sigma: log(1/2) on the sigma biases (the last K entries for isotropic, D = 1).
    const halved = await trained();
    halved.setWeights(editBias(halved, K + K, K + K + K, (v) => v + Math.log(0.5)));
    const h = halved.recalibrate(cal.x, cal.y, { temperature: false });
    expect(h.scale / own.scale).toBeGreaterThan(1.8);
    const free = base.recalibrate(cal.x, cal.y, { temperature: false });
    expect(h.scale / free.scale).toBeCloseTo(2, 3);
    expect(h.nll.after).toBeLessThan(h.nll.before - 0.1);
    expect(h.temperature).toBe(1);
    // The folded model's own NLL on those rows (float32 kernels) is the fitted one.
    expect(halved.evaluate(cal.x, cal.y)).toBeCloseTo(h.nll.after, 4);
    // Triple the logits: kernel and bias columns [0, K).
    const sharp = await trained();
    const w = editBias(sharp, 0, K, (v) => 3 * v).map((t) => (t.name !== "mixture/kernel" ? t : { ...t, data: t.data.map((v, i) => (i % (K + K + K) < K ? 3 * v : v)) }));
    sharp.setWeights(w);
    const s = sharp.recalibrate(cal.x, cal.y);
    expect(s.temperature / own.temperature).toBeCloseTo(3, 2);
    expect(s.scale / own.scale).toBeCloseTo(1, 3);
    for (const m of [base, halved, sharp]) m.dispose();
  });

  it("multiplies every Cholesky factor by the scale and sharpens pi by the temperature (full covariance), and the file keeps it", async () => {
    const m = await trained("full", 2);
    const x = data(9, 5).x;
    const before = m.predict(x);
    const r = m.recalibrate(cal2.x, cal2.y);
    expect(r.nll.after).toBeLessThanOrEqual(r.nll.before);
    const after = m.predict(x);
    after.sigma.forEach((v, i) => expect(v).toBeCloseTo(before.sigma[i]! * r.scale, 5));
    for (let n = 0; n < 5; n++) {
      const w = [0, 1].map((k) => before.pi[n * 2 + k]! ** (1 / r.temperature));
      [0, 1].forEach((k) => expect(after.pi[n * 2 + k]!).toBeCloseTo(w[k]! / (w[0]! + w[1]!), 5));
    }
    const loaded = await MDN.load(m.save());
    expect(hashWeights([{ data: loaded.predict(x).sigma }])).toBe(hashWeights([{ data: after.sigma }]));
    for (const t of [m, loaded]) t.dispose();
  });

  it("refuses softplus sigmas and bad input with MdnError before changing anything", async () => {
    const sp = await trained("isotropic", 1, "softplus");
    const h0 = hashWeights(sp.getWeights());
    expect(() => sp.recalibrate(cal.x, cal.y)).toThrow(expect.objectContaining({ code: "INVALID_CONFIG", argument: "config.sigma.activation" }));
    expect(hashWeights(sp.getWeights())).toBe(h0);
    const m = await trained();
    const h1 = hashWeights(m.getWeights());
    expect(() => m.recalibrate(cal.x, data(2, 999).y)).toThrow(expect.objectContaining({ code: "ROW_COUNT_MISMATCH" }));
    expect(() => m.recalibrate(cal.x, cal.y, { temperature: 1 as never })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", argument: "options.temperature" }));
    expect(hashWeights(m.getWeights())).toBe(h1);
    for (const t of [sp, m]) t.dispose();
  });
});
