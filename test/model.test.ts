// The public model: summary, predict, fit options with Keras semantics, determinism, cancellation.
import { describe, expect, it } from "vitest";
import { MDN, MdnError, seedClusters } from "../src/index.js";
import type { MDNConfig } from "../src/index.js";
import { hashWeights } from "./util.js";

const SEED_CONFIG: MDNConfig = {
  inputDim: 2, outputDim: 2, components: 4,
  hidden: [
    { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
    { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
  ],
  seed: 0,
};

function seedData(n = 512, seed = 0) {
  const d = seedClusters(n, seed);
  return { x: { data: d.x, shape: [n, 2] as [number, number] }, y: { data: d.y, shape: [n, 2] as [number, number] }, z: d.z };
}

describe("MDN", () => {
  it("summary counts the seed architecture's parameters like Keras", async () => {
    const m = await MDN.create(SEED_CONFIG);
    const s = m.summary();
    expect(s).toContain("Total params: 1,936");
    expect(s).toContain("Trainable params: 1,808");
    expect(s).toContain("Non-trainable params: 128");
    expect(m.countParams()).toEqual({ total: 1936, trainable: 1808, nonTrainable: 128 });
    expect(s).toMatch(/dense_1 .*\(None, 32\)\s+96/);
    expect(s).toMatch(/batch_normalization_2 .*128/);
  });

  it("predict returns owned copies with stated shapes, pi rows summing to 1 and sigma above the floor", async () => {
    const m = await MDN.create({ ...SEED_CONFIG, sigma: { floor: 0.05 } });
    const { x } = seedData(37);
    const p = m.predict(x);
    expect(p.shapes).toEqual({ pi: [37, 4], mu: [37, 4, 2], sigma: [37, 4] });
    expect(p.pi.length).toBe(37 * 4);
    expect(p.mu.length).toBe(37 * 8);
    for (let r = 0; r < 37; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += p.pi[r * 4 + k]!;
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
    for (const v of p.sigma) expect(v).toBeGreaterThanOrEqual(Math.fround(0.05));
    p.pi.fill(-1);
    const again = m.predict(x);
    expect(again.pi[0]).not.toBe(-1);
    // Chunked inference gives the same numbers as one pass.
    const chunked = m.predict(x, { batchSize: 5 });
    expect(Array.from(chunked.mu)).toEqual(Array.from(again.mu));
    // number[][] input gives the same result as typed input.
    const rows = Array.from({ length: 37 }, (_, r) => [x.data[2 * r]!, x.data[2 * r + 1]!]);
    expect(Array.from(m.predict(rows).sigma)).toEqual(Array.from(again.sigma));
  });

  it("the same seed gives bit-identical weights and predictions; another seed does not", async () => {
    const { x, y } = seedData(256);
    const run = async (seed: number) => {
      const m = await MDN.create({ ...SEED_CONFIG, seed });
      await m.fit(x, y, { epochs: 3, batchSize: 64, validationSplit: 0.2 });
      return { h: hashWeights(m.getWeights()), p: m.predict(x).mu };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a.h).toBe(b.h);
    expect(Array.from(a.p)).toEqual(Array.from(b.p));
    expect(c.h).not.toBe(a.h);
  });

  it("validationSplit holds out the last rows before shuffling, as Keras does", async () => {
    const { x, y } = seedData(512);
    const a = await MDN.create(SEED_CONFIG);
    const ha = await a.fit(x, y, { epochs: 2, batchSize: 128, validationSplit: 0.2 });
    // Keras: split_at = floor(512 * 0.8) = 409 training rows, 103 validation rows.
    const b = await MDN.create(SEED_CONFIG);
    const at = 409;
    const hb = await b.fit(
      { data: x.data.subarray(0, at * 2), shape: [at, 2] },
      { data: y.data.subarray(0, at * 2), shape: [at, 2] },
      { epochs: 2, batchSize: 128, validationData: [{ data: x.data.subarray(at * 2), shape: [103, 2] }, { data: y.data.subarray(at * 2), shape: [103, 2] }] },
    );
    expect(ha.history.val_loss).toEqual(hb.history.val_loss);
    expect(hashWeights(a.getWeights())).toBe(hashWeights(b.getWeights()));
    expect(ha.epoch).toEqual([0, 1]);
  });

  it("early stopping follows Keras: patience counts epochs without a minDelta improvement; best weights restored", async () => {
    const { x, y } = seedData(256);
    const m = await MDN.create(SEED_CONFIG);
    let afterFirst = "";
    const h = await m.fit(x, y, {
      epochs: 50, batchSize: 64, validationSplit: 0.25,
      // No epoch can improve on the first by 1e9, so training stops after `patience` more epochs.
      earlyStopping: { monitor: "val_loss", minDelta: 1e9, patience: 2, restoreBestWeights: true },
      onEpochEnd: (epoch) => {
        if (epoch === 0) afterFirst = hashWeights(m.getWeights());
      },
    });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(h.stoppedEpoch).toBe(2);
    expect(h.bestEpoch).toBe(0);
    expect(hashWeights(m.getWeights())).toBe(afterFirst);
  });

  it("stopTraining set in a callback ends fit after that epoch", async () => {
    const { x, y } = seedData(128);
    const m = await MDN.create(SEED_CONFIG);
    const h = await m.fit(x, y, { epochs: 10, onEpochEnd: (e) => { if (e === 3) m.stopTraining = true; } });
    expect(h.epoch).toEqual([0, 1, 2, 3]);
  });

  it("an aborted fit rejects with the signal's reason and leaves a usable model", async () => {
    const { x, y } = seedData(256);
    const m = await MDN.create(SEED_CONFIG);
    const ac = new AbortController();
    const reason = new Error("user cancelled");
    const p = m.fit(x, y, { epochs: 100, batchSize: 32, onEpochEnd: (e) => { if (e === 2) ac.abort(reason); }, signal: ac.signal });
    await expect(p).rejects.toBe(reason);
    const pred = m.predict(x);
    expect(pred.mu.every(Number.isFinite)).toBe(true);
    const h = await m.fit(x, y, { epochs: 2 });
    expect(h.history.loss.every(Number.isFinite)).toBe(true);
    // Aborting before the start rejects at once and trains nothing.
    const before = hashWeights(m.getWeights());
    await expect(m.fit(x, y, { epochs: 2, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(hashWeights(m.getWeights())).toBe(before);
  });

  it("predict inside onEpochEnd does not disturb training", async () => {
    const { x, y } = seedData(256);
    const a = await MDN.create(SEED_CONFIG);
    const b = await MDN.create(SEED_CONFIG);
    await a.fit(x, y, { epochs: 3, validationSplit: 0.2 });
    let calls = 0;
    await b.fit(x, y, { epochs: 3, validationSplit: 0.2, onEpochEnd: () => { b.predict(x); b.evaluate(x, y); calls++; } });
    expect(calls).toBe(3);
    expect(hashWeights(b.getWeights())).toBe(hashWeights(a.getWeights()));
  });

  it("evaluate is the mean NLL and decreases with training", async () => {
    const { x, y } = seedData(512);
    const m = await MDN.create(SEED_CONFIG);
    const before = m.evaluate(x, y);
    await m.fit(x, y, { epochs: 20, batchSize: 128 });
    const after = m.evaluate(x, y);
    expect(Number.isFinite(before)).toBe(true);
    expect(after).toBeLessThan(before - 0.5);
    // Chunking does not change the mean.
    expect(m.evaluate(x, y, { batchSize: 7 })).toBeCloseTo(after, 5);
  });

  it("a disposed model refuses every call with DISPOSED", async () => {
    const m = await MDN.create(SEED_CONFIG);
    m.dispose();
    expect(() => m.predict([[0, 0]])).toThrow(expect.objectContaining({ code: "DISPOSED" }));
    await expect(m.fit([[0, 0]], [[0, 0]])).rejects.toMatchObject({ code: "DISPOSED" });
  });

  it("setWeights round-trips getWeights and rejects wrong shapes without changing anything", async () => {
    const a = await MDN.create({ ...SEED_CONFIG, seed: 1 });
    const b = await MDN.create({ ...SEED_CONFIG, seed: 2 });
    b.setWeights(a.getWeights());
    expect(hashWeights(b.getWeights())).toBe(hashWeights(a.getWeights()));
    const w = a.getWeights();
    const before = hashWeights(b.getWeights());
    w[3] = { ...w[3]!, data: new Float32Array(3) };
    expect(() => b.setWeights(w)).toThrow(MdnError);
    expect(hashWeights(b.getWeights())).toBe(before);
  });

  it("onBatchEnd sees every batch with its size; the epoch loss is their size-weighted mean", async () => {
    const { x, y } = seedData(100);
    const m = await MDN.create(SEED_CONFIG);
    const seen: Array<{ batch: number; size: number; loss: number }> = [];
    const h = await m.fit(x, y, { epochs: 1, batchSize: 32, onBatchEnd: (_b, logs) => { seen.push(logs); } });
    expect(seen.map((s) => s.size)).toEqual([32, 32, 32, 4]);
    expect(seen.map((s) => s.batch)).toEqual([0, 1, 2, 3]);
    const mean = seen.reduce((a, s) => a + s.loss * s.size, 0) / 100;
    expect(h.history.loss[0]).toBeCloseTo(mean, 10);
  });

  it("l2 shrinks the kernels and is included in the reported loss, as Keras does", async () => {
    const { x, y } = seedData(256);
    const norm = (m: MDN) => m.getWeights().filter((w) => w.name.endsWith("kernel")).reduce((a, w) => a + w.data.reduce((b, v) => b + v * v, 0), 0);
    // meanInit "zeros": the weights at the first batch are exactly the initial ones measured here.
    const plain = await MDN.create({ ...SEED_CONFIG, meanInit: "zeros" });
    const reg = await MDN.create({ ...SEED_CONFIG, meanInit: "zeros", l2: 0.05 });
    // Same seed: identical initial weights, so the first batch's reported losses differ by exactly the penalty.
    const before = norm(reg);
    const losses: number[][] = [[], []];
    await plain.fit(x, y, { epochs: 30, batchSize: 256, onBatchEnd: (_b, l) => { losses[0]!.push(l.loss); } });
    await reg.fit(x, y, { epochs: 30, batchSize: 256, onBatchEnd: (_b, l) => { losses[1]!.push(l.loss); } });
    expect(losses[1]![0]! - losses[0]![0]!).toBeCloseTo(0.05 * before, 3);
    expect(norm(reg)).toBeLessThan(norm(plain));
  });
});
