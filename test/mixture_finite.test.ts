// Every public result of the mixture head is finite for finite inputs, or the call rejects with a
// typed MdnError naming the row of x (issue 14 point 5): one test per failure the issue found, for
// each covariance type. The kernels' side (sigma ceiling, log N_k's bound) is tested in
// test/head-suite.ts.
import { describe, expect, it } from "vitest";
import { MdnError } from "../src/core/errors.js";
import { SIGMA_CEILING } from "../src/engine/head.js";
import { MDN, seedClusters } from "../src/index.js";
import type { MatrixLike } from "../src/core/data.js";

const TYPES = ["isotropic", "diagonal", "full"] as const;
type Covariance = (typeof TYPES)[number];

const allFinite = (a: ArrayLike<number>): boolean => Array.prototype.every.call(a, Number.isFinite) as boolean;

/** Every inference result on x (and y) finite, and sigma (or L) within the ceiling. */
function expectFiniteEverywhere(model: MDN, x: MatrixLike, y?: MatrixLike): void {
  const p = model.predict(x);
  expect(allFinite(p.pi) && allFinite(p.mu), "predict pi, mu").toBe(true);
  expect(allFinite(p.sigma), "predict sigma").toBe(true);
  expect(Math.max(...Array.from(p.sigma, Math.abs)), "sigma within the ceiling").toBeLessThanOrEqual(SIGMA_CEILING);
  expect(allFinite(model.mean(x)), "mean").toBe(true);
  expect(allFinite(model.covariance(x)), "covariance").toBe(true);
  expect(allFinite(model.sample(x, { n: 3, seed: 1 }).samples), "sample").toBe(true);
  if (y) {
    expect(allFinite(model.logProb(x, y)), "logProb").toBe(true);
    expect(Number.isFinite(model.evaluate(x, y)), "evaluate").toBe(true);
    expect(allFinite(model.responsibilities(x, y)), "responsibilities").toBe(true);
  }
}

/** call throws MdnError NON_FINITE naming `argument`. */
function expectRejects(call: () => unknown, argument: string, label: string): void {
  let err: unknown = null;
  try {
    call();
  } catch (e) {
    err = e;
  }
  expect(err, label).toBeInstanceOf(MdnError);
  expect((err as MdnError).code, label).toBe("NON_FINITE");
  expect((err as MdnError).argument, label).toBe(argument);
}

function clusters(n: number, scaleX = 1) {
  const d = seedClusters(n, 0);
  return { x: { data: Float32Array.from(d.x, (v) => v * scaleX), shape: [n, 2] }, y: { data: d.y, shape: [n, 2] } };
}

const create = (covariance: Covariance, seed: number) => MDN.create({ inputDim: 2, outputDim: 2, components: 4, hidden: [32, 32], covariance, seed });

describe.each(TYPES)("%s head: finite results", (covariance) => {
  it("after training with learning rate 1.0 (sigma used to overflow to Infinity)", async () => {
    const { x, y } = clusters(256);
    const model = await create(covariance, 1);
    await model.fit(x, y, { epochs: 12, batchSize: 64, optimizer: { learningRate: 1.0 } });
    expectFiniteEverywhere(model, x, y);
  });

  it("after training on inputs of 1e6 without normalize", async () => {
    const { x, y } = clusters(256, 1e6);
    const model = await create(covariance, 2);
    await model.fit(x, y, { epochs: 4, batchSize: 64 });
    expectFiniteEverywhere(model, x, y);
  });

  it("extrapolating to x = 1e3 after a normal fit", async () => {
    const { x, y } = clusters(256);
    const model = await create(covariance, 3);
    await model.fit(x, y, { epochs: 4, batchSize: 64 });
    expectFiniteEverywhere(model, [[1e3, 1e3], [-1e3, 1e3], [1e3, -1e3]], [[0, 0], [1, 1], [-1, 2]]);
  });

  it("for targets 1e19 and 3e38 from the means (logProb, evaluate, responsibilities used to be NaN)", async () => {
    const { x, y } = clusters(256);
    const model = await create(covariance, 4);
    await model.fit(x, y, { epochs: 2, batchSize: 64 });
    const xt = [[0.1, 0.2], [0.3, 0.4], [-0.5, 0.5]];
    expectFiniteEverywhere(model, xt, [[1e19, -1e19], [3e38, -3e38], [-1e19, 0]]);
  });

  it("for inputs of 1e20 and more: finite, or a typed error naming the row of x", async () => {
    const { x, y } = clusters(256);
    const model = await create(covariance, 5);
    await model.fit(x, y, { epochs: 2, batchSize: 64 });
    // 1e20: the network's outputs are finite (sigma was exp(huge) = Infinity before the ceiling).
    expectFiniteEverywhere(model, [[1e20, 1e20], [-1e20, 1e20]], [[0, 0], [1, 1]]);
    // With the first layer's weights 100 times larger, x = 1e37 overflows it: no result exists,
    // and every call names x's row.
    const w = model.getWeights();
    w[0]!.data.forEach((v, i, data) => (data[i] = 100 * v));
    model.setWeights(w);
    const xt = [[0.1, 0.2], [1e37, 1e37]];
    const yt = [[0, 0], [1, 1]];
    const calls: Array<[string, () => unknown]> = [
      ["predict", () => model.predict(xt)],
      ["mean", () => model.mean(xt)],
      ["covariance", () => model.covariance(xt)],
      ["sample", () => model.sample(xt, { seed: 1 })],
      ["modes", () => model.modes(xt)],
      ["logProb", () => model.logProb(xt, yt)],
      ["evaluate", () => model.evaluate(xt, yt)],
      ["responsibilities", () => model.responsibilities(xt, yt)],
    ];
    for (const [name, call] of calls) expectRejects(call, "x[1]", name);
  });

  it("with normalize: a mixture that overflows float32 in the targets' units is a typed error naming x", async () => {
    // Targets of order 1e36: y's standard deviation is about 1e36, so a standardised sigma of
    // e^10 becomes 2e40 in original units, beyond float32.
    const n = 64;
    const xs = new Float32Array(n * 2).map((_, i) => Math.sin(i));
    const ys = new Float32Array(n * 2).map((_, i) => 1e36 * Math.cos(i));
    const model = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [], covariance, normalize: true, seed: 6 });
    await model.fit({ data: xs, shape: [n, 2] }, { data: ys, shape: [n, 2] }, { epochs: 1, batchSize: 64 });
    const w = model.getWeights();
    const kernel = w.find((t) => t.name === "mixture/kernel")!;
    const bias = w.find((t) => t.name === "mixture/bias")!;
    const P = bias.data.length;
    // Every sigma-block entry's pre-activation is x0' + x1' (standardised inputs): near the
    // training rows (and on the probe batch, so setWeights takes these weights) a spread of about
    // e^2 * 1e36, finite; at x = 50 (about 70 standard deviations out) the ceiling times 1e36.
    for (let j = 2 + 2 * 2; j < P; j++) {
      kernel.data[j] = 1;
      kernel.data[P + j] = 1;
      bias.data[j] = 0;
    }
    model.setWeights(w);
    expect(model.predict([[0.1, 0.2]]).sigma.every(Number.isFinite)).toBe(true);
    expectRejects(() => model.predict([[0.1, 0.2], [50, 50]]), "x[1]", "predict");
    expectRejects(() => model.covariance([[0.1, 0.2], [50, 50]]), "x[1]", "covariance");
  });
});
