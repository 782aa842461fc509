// Bad input gets a typed MdnError naming the argument, what was expected and what arrived, before
// any kernel runs; a rejected call leaves the model exactly as it was.
import { describe, expect, it } from "vitest";
import { MDN, MdnError, seedClusters } from "../src/index.js";
import type { MDNConfig } from "../src/index.js";
import { hashWeights } from "./util.js";

const base: MDNConfig = { inputDim: 2, outputDim: 2, components: 3, hidden: [{ units: 8, dropout: 0.1, batchNorm: true }], seed: 3 };

function expectMdnError(fn: () => unknown, code: string, argument: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MdnError);
    const err = e as MdnError;
    expect(err.code).toBe(code);
    expect(err.argument).toBe(argument);
    expect(err.message).toContain(argument);
    expect(err.message).toContain(err.expected);
    expect(err.message).toContain(err.received);
    return;
  }
  throw new Error(`expected MdnError ${code} for ${argument}, nothing was thrown`);
}

async function expectRejects(p: Promise<unknown>, code: string, argument: string): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(MdnError);
  await p.catch((e: MdnError) => {
    expect(e.code).toBe(code);
    expect(e.argument).toBe(argument);
  });
}

describe("config validation", () => {
  const bad: Array<[string, Partial<Record<string, unknown>>, string, string]> = [
    ["components < 1", { components: 0 }, "INVALID_CONFIG", "config.components"],
    ["fractional components", { components: 2.5 }, "INVALID_CONFIG", "config.components"],
    ["inputDim missing", { inputDim: undefined }, "INVALID_CONFIG", "config.inputDim"],
    ["unknown activation", { hidden: [{ units: 4, activation: "swish" }] }, "INVALID_CONFIG", "config.hidden[0].activation"],
    ["zero units", { hidden: [{ units: 0 }] }, "INVALID_CONFIG", "config.hidden[0].units"],
    ["dropout 1", { hidden: [{ units: 4, dropout: 1 }] }, "INVALID_CONFIG", "config.hidden[0].dropout"],
    ["negative dropout", { hidden: [{ units: 4, dropout: -0.1 }] }, "INVALID_CONFIG", "config.hidden[0].dropout"],
    ["sigma floor 0", { sigma: { floor: 0 } }, "INVALID_CONFIG", "config.sigma.floor"],
    ["sigma activation", { sigma: { activation: "relu" } }, "INVALID_CONFIG", "config.sigma.activation"],
    ["negative l2", { l2: -1 }, "INVALID_CONFIG", "config.l2"],
    ["bad covariance", { covariance: "banana" }, "INVALID_CONFIG", "config.covariance"],
    ["negative seed", { seed: -1 }, "INVALID_CONFIG", "config.seed"],
    ["unknown meanInit", { meanInit: "random" }, "INVALID_CONFIG", "config.meanInit"],
    ["unknown key", { epochs: 3 }, "INVALID_CONFIG", "config.epochs"],
  ];
  for (const [what, patch, code, arg] of bad) {
    it(`rejects ${what}`, async () => {
      await expectRejects(MDN.create({ ...base, ...patch } as MDNConfig), code, arg);
    });
  }
  it("fills in and reports defaults, including a drawn seed", async () => {
    const m = await MDN.create({ inputDim: 1, outputDim: 1, components: 2 });
    expect(m.config.hidden.map((h) => h.units)).toEqual([32, 32]);
    expect(m.config.sigma).toEqual({ activation: "exp", floor: 1e-4 });
    expect(Number.isSafeInteger(m.config.seed)).toBe(true);
    const bn = await MDN.create({ ...base });
    expect(bn.config.hidden[0]!.batchNorm).toEqual({ momentum: 0.99, epsilon: 1e-3 });
  });
});

describe("data and fit-option validation", () => {
  const d = seedClusters(64, 1);
  const x = { data: d.x, shape: [64, 2] as [number, number] };
  const y = { data: d.y, shape: [64, 2] as [number, number] };

  const badData: Array<[string, unknown, unknown, string, string]> = [
    ["ragged rows", [[1, 2], [3]], [[0, 0], [0, 0]], "RAGGED_ROWS", "x[1]"],
    ["NaN", [[1, NaN]], [[0, 0]], "NON_FINITE", "x[0][1]"],
    ["Infinity in y", [[1, 2]], [[0, Infinity]], "NON_FINITE", "y[0][1]"],
    ["float64 beyond float32", { data: new Float64Array([1e39, 0]), shape: [1, 2] }, [[0, 0]], "NON_FINITE", "x[0][0]"],
    ["empty x", [], [], "EMPTY_DATA", "x"],
    ["wrong width", [[1, 2, 3]], [[0, 0]], "SHAPE_MISMATCH", "x"],
    ["row mismatch", [[1, 2], [3, 4]], [[0, 0]], "ROW_COUNT_MISMATCH", "y"],
    ["data/shape mismatch", { data: new Float32Array(5), shape: [3, 2] }, [[0, 0]], "SHAPE_MISMATCH", "x.data"],
    ["Int32Array data", { data: new Int32Array(4), shape: [2, 2] }, [[0, 0]], "INVALID_ARGUMENT", "x.data"],
    ["a string", "1,2", [[0, 0]], "INVALID_ARGUMENT", "x"],
    ["text in a row", [[1, "2"]], [[0, 0]], "INVALID_ARGUMENT", "x[0][1]"],
  ];

  for (const [what, bx, by, code, arg] of badData) {
    it(`fit rejects ${what} and leaves the model as it was`, async () => {
      const m = await MDN.create(base);
      const before = hashWeights(m.getWeights());
      await expectRejects(m.fit(bx as never, by as never, { epochs: 1 }), code, arg);
      expect(hashWeights(m.getWeights())).toBe(before);
    });
  }

  const badOptions: Array<[string, Record<string, unknown>, string]> = [
    ["batchSize 0", { batchSize: 0 }, "options.batchSize"],
    ["negative epochs", { epochs: -1 }, "options.epochs"],
    ["negative learning rate", { optimizer: { learningRate: -1e-3 } }, "options.optimizer.learningRate"],
    ["beta1 of 1", { optimizer: { beta1: 1 } }, "options.optimizer.beta1"],
    ["unknown optimizer", { optimizer: { name: "sgd" } }, "options.optimizer.name"],
    ["validationSplit 1", { validationSplit: 1 }, "options.validationSplit"],
    ["val_loss without validation", { earlyStopping: { monitor: "val_loss" } }, "options.earlyStopping.monitor"],
    ["negative patience", { validationSplit: 0.2, earlyStopping: { patience: -2 } }, "options.earlyStopping.patience"],
    ["validationData of the wrong width", { validationData: [[[1, 2, 3]], [[0, 0]]] }, "options.validationData[0]"],
  ];
  for (const [what, opts, arg] of badOptions) {
    it(`fit rejects ${what}`, async () => {
      const m = await MDN.create(base);
      const before = hashWeights(m.getWeights());
      const p = m.fit(x, y, opts as never);
      await expect(p).rejects.toBeInstanceOf(MdnError);
      await p.catch((e: MdnError) => expect(e.argument).toBe(arg));
      expect(hashWeights(m.getWeights())).toBe(before);
    });
  }

  it("a rejected fit changes nothing: the next fit matches a fresh model's bit for bit", async () => {
    const a = await MDN.create(base);
    await expect(a.fit([[1, NaN]], [[0, 0]])).rejects.toBeInstanceOf(MdnError);
    await expect(a.fit(x, y, { batchSize: -4 })).rejects.toBeInstanceOf(MdnError);
    await a.fit(x, y, { epochs: 2, batchSize: 16 });
    const b = await MDN.create(base);
    await b.fit(x, y, { epochs: 2, batchSize: 16 });
    expect(hashWeights(a.getWeights())).toBe(hashWeights(b.getWeights()));
  });

  it("predict and evaluate validate too", async () => {
    const m = await MDN.create(base);
    expectMdnError(() => m.predict([[1, 2, 3]]), "SHAPE_MISMATCH", "x");
    expectMdnError(() => m.predict([[1, Number.NaN]]), "NON_FINITE", "x[0][1]");
    expectMdnError(() => m.evaluate([[1, 2]], [[1, 2], [3, 4]]), "ROW_COUNT_MISMATCH", "y");
    expectMdnError(() => m.predict([[1, 2]], { batchSize: 0 }), "INVALID_CONFIG", "options.batchSize");
  });

  it("a second fit while one runs is refused with BUSY", async () => {
    const m = await MDN.create(base);
    const first = m.fit(x, y, { epochs: 3 });
    await expectRejects(m.fit(x, y), "BUSY", "fit");
    await first;
  });
});

describe("one value per row", () => {
  it("a flat number[] or typed array is a column where one column is expected, as Keras takes shape (n,)", async () => {
    const m = await MDN.create({ inputDim: 1, outputDim: 1, components: 2, hidden: [4], seed: 1 });
    const x = [0.1, 0.5, 0.9, 0.3];
    const a = m.predict(x);
    const b = m.predict(x.map((v) => [v]));
    const c = m.predict(new Float64Array(x));
    expect(Array.from(a.mu)).toEqual(Array.from(b.mu));
    expect(Array.from(c.mu)).toEqual(Array.from(b.mu));
    expect(Number.isFinite(m.evaluate(x, new Float32Array([1, 2, 3, 4])))).toBe(true);
    expectMdnError(() => m.predict([0.1, Number.NaN]), "NON_FINITE", "x[1]");
    expectMdnError(() => m.predict([0.1, "2"] as unknown as number[]), "INVALID_ARGUMENT", "x[1]");
    // Two features: a flat list would be a guess, so it is refused.
    const m2 = await MDN.create({ inputDim: 2, outputDim: 1, components: 2, hidden: [4], seed: 1 });
    expectMdnError(() => m2.predict([0.1, 0.2]), "INVALID_ARGUMENT", "x[0]");
    expectMdnError(() => m2.predict(new Float32Array(4)), "INVALID_ARGUMENT", "x");
  });
});
