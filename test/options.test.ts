// Options arguments: every public method refuses a non-object options argument (null included)
// and unknown keys with a typed MdnError, naming the likeliest intended key; nothing changes.
import { describe, expect, it } from "vitest";
import { MDN, MdnError, seedClusters } from "../src/index.js";
import type { MDNConfig } from "../src/index.js";
import { hashWeights, regression } from "./util.js";

const config: MDNConfig = { inputDim: 2, outputDim: 1, components: 2, hidden: [{ units: 4, batchNorm: true }], seed: 1 };
const { x, y: y2 } = regression(32, 1);
const y = Float32Array.from({ length: 32 }, (_, i) => y2.data[2 * i]!);

/** The MdnError a call throws (sync or async), or a failure naming what happened instead. */
async function errorOf(call: () => unknown): Promise<MdnError> {
  try {
    await call();
  } catch (e) {
    if (e instanceof MdnError) return e;
    throw new Error(`expected an MdnError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  throw new Error("expected an MdnError, nothing was thrown");
}

/** Every public call that takes an options argument, as (name, call with that argument). */
function calls(m: MDN, bytes: Uint8Array): Array<[string, (o: unknown) => unknown]> {
  return [
    ["create", (o) => MDN.create(config, o as never)],
    ["load", (o) => MDN.load(bytes, o as never)],
    ["loadCheckpoint", (o) => MDN.loadCheckpoint(bytes, o as never)],
    ["fit", (o) => m.fit(x, y, o as never)],
    ["predict", (o) => m.predict(x, o as never)],
    ["evaluate", (o) => m.evaluate(x, y, o as never)],
    ["logProb", (o) => m.logProb(x, y, o as never)],
    ["responsibilities", (o) => m.responsibilities(x, y, o as never)],
    ["labels", (o) => m.labels(x, y, o as never)],
    ["mean", (o) => m.mean(x, o as never)],
    ["covariance", (o) => m.covariance(x, o as never)],
    ["modes", (o) => m.modes(x, o as never)],
    ["sample", (o) => m.sample(x, o as never)],
    ["calibration", (o) => m.calibration(x, y, o as never)],
  ];
}

describe("options arguments", () => {
  it("null, a number, a string or an array as options is INVALID_ARGUMENT naming options, never a TypeError", async () => {
    const m = await MDN.create(config);
    await m.fit(x, y, { epochs: 1 });
    const bytes = m.saveCheckpoint();
    const before = hashWeights(m.getWeights());
    for (const [name, call] of calls(m, bytes)) {
      for (const bad of [null, 5, "fast", [1]]) {
        const e = await errorOf(() => call(bad));
        expect(`${name}(${JSON.stringify(bad)}): ${e.code} ${e.argument}`).toBe(`${name}(${JSON.stringify(bad)}): INVALID_ARGUMENT options`);
      }
    }
    expect(hashWeights(m.getWeights())).toBe(before);
  });

  it("an unknown key anywhere is INVALID_CONFIG naming it and the key it most likely misspells", async () => {
    const m = await MDN.create(config);
    const before = hashWeights(m.getWeights());
    const cases: Array<[string, () => unknown, string, string | null]> = [
      ["fit epoch", () => m.fit(x, y, { epoch: 5 } as never), "options.epoch", "epochs"],
      ["fit batch_size", () => m.fit(x, y, { batch_size: 8 } as never), "options.batch_size", "batchSize"],
      ["optimizer learning_rate", () => m.fit(x, y, { optimizer: { learning_rate: 0.1 } } as never), "options.optimizer.learning_rate", "learningRate"],
      ["optimizer lr", () => m.fit(x, y, { optimizer: { name: "adam", lr: 0.1 } } as never), "options.optimizer.lr", null],
      ["earlyStopping patients", () => m.fit(x, y, { validationSplit: 0.25, earlyStopping: { patients: 3 } } as never), "options.earlyStopping.patients", "patience"],
      ["callbacks onEpochEnds", () => m.fit(x, y, { callbacks: { onEpochEnds: () => { } } } as never), "options.callbacks.onEpochEnds", "onEpochEnd"],
      ["predict batch_size", () => m.predict(x, { batch_size: 4 } as never), "options.batch_size", "batchSize"],
      ["evaluate batchsize", () => m.evaluate(x, y, { batchsize: 4 } as never), "options.batchsize", "batchSize"],
      ["sample temprature", () => m.sample(x, { temprature: 0.5 } as never), "options.temprature", "temperature"],
      ["sample draws", () => m.sample(x, { draws: 5 } as never), "options.draws", null],
      ["modes maxIters", () => m.modes(x, { maxIters: 5 } as never), "options.maxIters", "maxIter"],
      ["calibration level", () => m.calibration(x, y, { level: [0.5] } as never), "options.level", "levels"],
      ["create modul", () => MDN.create(config, { modul: null } as never), "options.modul", "module"],
      ["config layer activaton", () => MDN.create({ ...config, hidden: [{ units: 4, activaton: "tanh" }] } as never), "config.hidden[0].activaton", "activation"],
      ["config sigma flor", () => MDN.create({ ...config, sigma: { flor: 1e-3 } } as never), "config.sigma.flor", "floor"],
      ["config batchNorm momentun", () => MDN.create({ ...config, hidden: [{ units: 4, batchNorm: { momentun: 0.9 } }] } as never), "config.hidden[0].batchNorm.momentun", "momentum"],
      ["config components typo", () => MDN.create({ ...config, componets: 3 } as never), "config.componets", "components"],
    ];
    for (const [what, call, argument, guess] of cases) {
      const e = await errorOf(call);
      expect(`${what}: ${e.code} ${e.argument}`).toBe(`${what}: INVALID_CONFIG ${argument}`);
      if (guess) expect(e.message, what).toContain(`did you mean "${guess}"?`);
      else expect(e.message, what).not.toContain("did you mean");
    }
    expect(hashWeights(m.getWeights())).toBe(before);
    // A valid call with every fit option still trains.
    const h = await m.fit(x, y, {
      epochs: 2, batchSize: 8, shuffle: true, validationSplit: 0.25, optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 },
      earlyStopping: { monitor: "val_loss", minDelta: 0, patience: 2, restoreBestWeights: false }, callbacks: { onEpochEnd: () => { }, onBatchEnd: () => { } },
      verbose: 0, yieldEvery: "auto", initialEpoch: 0, onNonFinite: "stop", normalize: false,
    });
    expect(h.epoch).toEqual([0, 1]);
  });

  it("seedClusters refuses a bad size or seed with an MdnError (not a RangeError from a typed array)", async () => {
    for (const [n, seed, argument] of [[-1, 0, "n"], [1.5, 0, "n"], [2 ** 40, 0, "n"], [4, -1, "seed"], [4, "x", "seed"]] as const) {
      const e = await errorOf(() => seedClusters(n as number, seed as number));
      expect(`${n}, ${seed}: ${e.argument}`).toBe(`${n}, ${seed}: ${argument}`);
    }
    expect(seedClusters(4, 0).x.length).toBe(8);
  });
});
