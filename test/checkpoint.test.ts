// Checkpoints: training E epochs, checkpointing, reloading into a fresh model and training on to 2E
// gives bit-identical weights to training 2E straight (shuffling, dropout, batch norm, Adam,
// standardisation, validation and early stopping with restoreBestWeights all in play).
import { describe, expect, it } from "vitest";
import { type FitOptions, type History, MDN, MdnError, type MDNConfig } from "../src/index.js";
import { hashWeights, regression } from "./util.js";

const CONFIG: MDNConfig = {
  inputDim: 2, outputDim: 2, components: 3, seed: 11, normalize: true,
  hidden: [{ units: 12, dropout: 0.2, batchNorm: true }, { units: 6, activation: "tanh", batchNorm: true }],
};
const E = 3;
const data = regression(160, 5);
const OPTIONS: FitOptions = {
  batchSize: 24, validationSplit: 0.2, optimizer: { name: "adam", learningRate: 3e-3, decay: 1e-3 },
  earlyStopping: { monitor: "val_loss", patience: 100, minDelta: 0.01, restoreBestWeights: true },
};

describe("checkpoints", () => {
  it("a checkpoint taken in onEpochEnd and resumed in a fresh model matches the straight run", async () => {
    const straight = await MDN.create(CONFIG);
    let ckpt: Uint8Array | null = null;
    const h = await straight.fit(data.x, data.y, {
      ...OPTIONS, epochs: 2 * E,
      onEpochEnd: (epoch) => {
        if (epoch === E - 1) ckpt = straight.saveCheckpoint();
      },
    });
    const resumed = await MDN.loadCheckpoint(ckpt!);
    const h2 = await resumed.fit(data.x, data.y, { ...OPTIONS, epochs: 2 * E, initialEpoch: E });
    expect(hashWeights(resumed.getWeights())).toBe(hashWeights(straight.getWeights()));
    expect(h2.epoch).toEqual([3, 4, 5]);
    expect(h2.history.loss).toEqual(h.history.loss.slice(E));
    expect(h2.history.val_loss).toEqual(h.history.val_loss!.slice(E));
    expect(h2.bestEpoch).toBe(h.bestEpoch);
    // The run restored its best epoch's weights, so the comparison covers the stored best weights.
    expect(h.bestEpoch).toBeLessThan(2 * E);
    // And the resumed model's own checkpoint is the straight model's, byte for byte.
    expect(resumed.saveCheckpoint()).toEqual(straight.saveCheckpoint());
  });

  it("fit E, checkpoint, load, fit to 2E equals fit 2E (no early stopping)", async () => {
    const opts: FitOptions = { batchSize: 24, validationSplit: 0.2 };
    const straight = await MDN.create(CONFIG);
    await straight.fit(data.x, data.y, { ...opts, epochs: 2 * E });
    const first = await MDN.create(CONFIG);
    const h1 = await first.fit(data.x, data.y, { ...opts, epochs: E });
    const resumed = await MDN.loadCheckpoint(first.saveCheckpoint());
    const h2: History = await resumed.fit(data.x, data.y, { ...opts, epochs: 2 * E, initialEpoch: E });
    expect(h1.epoch).toEqual([0, 1, 2]);
    expect(h2.epoch).toEqual([3, 4, 5]);
    expect(hashWeights(resumed.getWeights())).toBe(hashWeights(straight.getWeights()));
    // Continuing in the same model (no file) is the same thing.
    await first.fit(data.x, data.y, { ...opts, epochs: 2 * E, initialEpoch: E });
    expect(hashWeights(first.getWeights())).toBe(hashWeights(straight.getWeights()));
  });

  it("a model file (no optimizer state) does not resume exactly; a checkpoint does", async () => {
    const opts: FitOptions = { batchSize: 24, epochs: E };
    const a = await MDN.create(CONFIG);
    await a.fit(data.x, data.y, opts);
    const fromModel = await MDN.load(a.save());
    const fromCkpt = await MDN.loadCheckpoint(a.saveCheckpoint());
    await a.fit(data.x, data.y, { ...opts, epochs: 2 * E, initialEpoch: E });
    await fromModel.fit(data.x, data.y, { ...opts, epochs: 2 * E, initialEpoch: E });
    await fromCkpt.fit(data.x, data.y, { ...opts, epochs: 2 * E, initialEpoch: E });
    expect(hashWeights(fromCkpt.getWeights())).toBe(hashWeights(a.getWeights()));
    expect(hashWeights(fromModel.getWeights())).not.toBe(hashWeights(a.getWeights()));
  });

  it("refuses a checkpoint in the middle of an epoch, and an initialEpoch not below epochs", async () => {
    const m = await MDN.create(CONFIG);
    let err: unknown = null;
    await m.fit(data.x, data.y, {
      epochs: 1, batchSize: 64,
      onBatchEnd: () => {
        try {
          m.saveCheckpoint();
        } catch (e) {
          err = e;
        }
      },
    });
    expect(err).toBeInstanceOf(MdnError);
    expect((err as MdnError).code).toBe("BUSY");
    await expect(m.fit(data.x, data.y, { epochs: 2, initialEpoch: 2 })).rejects.toMatchObject({ code: "INVALID_CONFIG", argument: "options.initialEpoch" });
  });
});
