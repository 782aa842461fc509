// A disposed model's wasm instance is reused by the next model (src/engine/kernels.ts releaseKernels):
// the reused instance must behave exactly like a fresh one, and the disposed model must not reach it.
import { describe, expect, it } from "vitest";
import { MDN, seedClusters } from "../src/index.js";
import type { MDNConfig } from "../src/index.js";
import { hashWeights } from "./util.js";

const CONFIG: MDNConfig = {
  inputDim: 2, outputDim: 2, components: 4,
  hidden: [{ units: 16, dropout: 0.2, batchNorm: true }, { units: 16, dropout: 0.2, batchNorm: true }],
  seed: 3,
};
const d = seedClusters(300, 1);
const x = { data: d.x, shape: [300, 2] as [number, number] };
const y = { data: d.y, shape: [300, 2] as [number, number] };
const FIT = { epochs: 6, batchSize: 32, validationSplit: 0.2 };

/** The model's instance (internal), to tell a reused instance from a fresh one. */
const instanceOf = (m: MDN): unknown => (m as unknown as { k: unknown }).k;

async function trained(config: MDNConfig = CONFIG): Promise<{ model: MDN; hash: string; loss: number[] }> {
  const model = await MDN.create(config);
  const h = await model.fit(x, y, FIT);
  return { model, hash: hashWeights(model.getWeights()), loss: h.history.loss };
}

describe("instance reuse after dispose", () => {
  it("a model on a disposed model's instance trains and predicts exactly like one on a fresh instance", async () => {
    // A bigger, differently shaped model dirties the memory first.
    const dirty = await MDN.create({ ...CONFIG, components: 7, hidden: [64, 64], seed: 9 });
    await dirty.fit(x, y, { epochs: 2, batchSize: 16 });
    dirty.predict(x);
    const dirtyInstance = instanceOf(dirty);
    dirty.dispose();
    const reused = await trained();
    expect(instanceOf(reused.model)).toBe(dirtyInstance);
    const fresh = await trained(); // the spare is taken, so this one is new
    expect(instanceOf(fresh.model)).not.toBe(dirtyInstance);
    expect(reused.hash).toBe(fresh.hash);
    expect(reused.loss).toEqual(fresh.loss);
    expect(Array.from(reused.model.predict(x).mu)).toEqual(Array.from(fresh.model.predict(x).mu));
    reused.model.dispose();
    fresh.model.dispose();
  });

  it("a disposed model throws DISPOSED and cannot touch the instance's new owner", async () => {
    const old = await MDN.create(CONFIG);
    old.dispose();
    old.dispose(); // twice is harmless
    const owner = await trained();
    for (const call of [() => old.predict(x), () => old.getWeights(), () => old.save(), () => old.evaluate(x, y), () => old.setWeights(owner.model.getWeights())]) {
      expect(call).toThrow(expect.objectContaining({ code: "DISPOSED" }));
    }
    expect(hashWeights(owner.model.getWeights())).toBe(owner.hash);
    owner.model.dispose();
  });

  it("disposed during fit, the instance is released only when the fit has left it", async () => {
    const m = await MDN.create(CONFIG);
    const inst = instanceOf(m);
    let during: MDN | null = null;
    const run = m.fit(x, y, {
      epochs: 50, batchSize: 32,
      onEpochEnd: async (epoch) => {
        if (epoch !== 1) return;
        m.dispose();
        // Created while the fit still holds the instance: must get a fresh one.
        during = await MDN.create(CONFIG);
      },
    });
    await expect(run).rejects.toMatchObject({ code: "DISPOSED" });
    expect(instanceOf(during!)).not.toBe(inst);
    const after = await MDN.create(CONFIG);
    expect(instanceOf(after)).toBe(inst);
    const ref = await trained();
    const h = await after.fit(x, y, FIT);
    expect(hashWeights(after.getWeights())).toBe(ref.hash);
    expect(h.history.loss).toEqual(ref.loss);
  });
});
