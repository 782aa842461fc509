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
