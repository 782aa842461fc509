// Fit options from issue 18 (better fits): even batches, gradient clipping by global norm and what
// `earlyStopping: true` means. The measurements behind them are in dev/fits/.
import { describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { hashWeights, regression } from "./util.js";

async function batchSizes(n: number, batchSize: number, evenBatches?: boolean): Promise<number[]> {
  const { x, y } = regression(n, 5);
  const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 1 });
  const sizes: number[] = [];
  await m.fit(x, y, { epochs: 1, batchSize, evenBatches, onBatchEnd: (_, logs) => void sizes.push(logs.size) });
  m.dispose();
  return sizes;
}

describe("evenBatches", () => {
  it("splits an epoch into ceil(n / batchSize) batches of nearly equal size; the default keeps Keras' remainder", async () => {
    expect(await batchSizes(409, 128)).toEqual([128, 128, 128, 25]);
    expect(await batchSizes(409, 128, true)).toEqual([102, 102, 102, 103]);
    expect(await batchSizes(10, 4, true)).toEqual([3, 3, 4]);
    expect(await batchSizes(256, 128, true)).toEqual([128, 128]);
    expect(await batchSizes(7, 32, true)).toEqual([7]);
  });

  it("trains on different batches than the default, and each run repeats bit for bit", async () => {
    const { x, y } = regression(50, 6);
    const run = async (evenBatches: boolean) => {
      const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 3 });
      await m.fit(x, y, { epochs: 3, batchSize: 16, evenBatches });
      const h = hashWeights(m.getWeights());
      m.dispose();
      return h;
    };
    const even = await run(true);
    expect(await run(true)).toBe(even);
    expect(await run(false)).not.toBe(even);
  });

  it("rejects a non-boolean with INVALID_CONFIG before training", async () => {
    const { x, y } = regression(20, 7);
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 1 });
    const before = hashWeights(m.getWeights());
    await expect(m.fit(x, y, { evenBatches: "yes" as never })).rejects.toMatchObject({ code: "INVALID_CONFIG", argument: "options.evenBatches" });
    expect(hashWeights(m.getWeights())).toBe(before);
    m.dispose();
  });
});

describe("optimizer.clipNorm (Keras global_clipnorm)", () => {
  const { x, y } = regression(32, 9);
  /** The weight change of one Adam step on all 32 rows. With epsilon 1e4 far above sqrt(v), the step is lrT * 0.1 g / 1e4: proportional to the (clipped) gradient. */
  const oneStep = async (clipNorm?: number): Promise<Float64Array> => {
    // Keras' start, so the fit's first call does not move the means' biases (meanInit "targets").
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], meanInit: "zeros", seed: 4 });
    const before = m.getWeights().flatMap((w) => Array.from(w.data));
    await m.fit(x, y, { epochs: 1, batchSize: 32, optimizer: { learningRate: 1e4, epsilon: 1e4, clipNorm } });
    const after = m.getWeights().flatMap((w) => Array.from(w.data));
    m.dispose();
    return Float64Array.from(after, (v, i) => v - before[i]!);
  };
  const norm = (d: Float64Array) => Math.sqrt(d.reduce((a, v) => a + v * v, 0));

  it("scales the step's gradient to the limit: half the limit, half the step, same direction", async () => {
    const free = await oneStep();
    const a = await oneStep(0.05);
    const b = await oneStep(0.1);
    expect(norm(free)).toBeGreaterThan(20 * norm(b));
    expect(norm(b) / norm(a)).toBeCloseTo(2, 3);
    const cos = b.reduce((s, v, i) => s + v * a[i]!, 0) / (norm(a) * norm(b));
    expect(cos).toBeGreaterThan(1 - 1e-6);
  });

  it("a limit above every gradient's norm changes no bit", async () => {
    const run = async (clipNorm?: number) => {
      const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 4 });
      await m.fit(x, y, { epochs: 3, batchSize: 8, optimizer: { clipNorm } });
      const h = hashWeights(m.getWeights());
      m.dispose();
      return h;
    };
    expect(await run(1e30)).toBe(await run());
  });

  it("rejects a limit that is not a positive number with INVALID_CONFIG", async () => {
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 4 });
    for (const bad of [0, -1, Number.NaN, Infinity, "1"]) {
      await expect(m.fit(x, y, { optimizer: { clipNorm: bad as never } })).rejects.toMatchObject({ code: "INVALID_CONFIG", argument: "options.optimizer.clipNorm" });
    }
    m.dispose();
  });
});

describe("earlyStopping: true", () => {
  const { x, y } = regression(200, 11);
  const run = async (earlyStopping: boolean | object) => {
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [8], normalize: true, seed: 6 });
    const h = await m.fit(x, y, { epochs: 400, batchSize: 16, validationSplit: 0.3, optimizer: { learningRate: 3e-2 }, earlyStopping });
    const out = { epochs: h.epoch.length, stopped: h.stoppedEpoch, best: h.bestEpoch, hash: hashWeights(m.getWeights()) };
    m.dispose();
    return out;
  };

  it("is patience 50 on val_loss with the best weights restored, bit for bit; an object keeps Keras' defaults", async () => {
    const t = await run(true);
    expect(t).toEqual(await run({ monitor: "val_loss", minDelta: 0, patience: 50, restoreBestWeights: true }));
    expect(t.stopped).toBeDefined();
    expect(t.epochs).toBe(t.best! + 51);
    // Keras' EarlyStopping() stops at the first epoch that does not improve and keeps its weights.
    const keras = await run({});
    expect(keras.epochs).toBe(keras.best! + 2);
    expect(keras.epochs).toBeLessThan(t.epochs);
  });
});
