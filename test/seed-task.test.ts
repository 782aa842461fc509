// The seed notebook's task end to end: its data, architecture and hyper-parameters, 128 epochs.
// The notebook printed ARI 0.842; the Bayes-optimal classifier of these clusters is near 0.95.
// With meanInit "zeros" (a Keras MDN's start) this reproduces the notebook: median ARI 0.84 over
// seeds 0-7; the default data-dependent start of the means (src/init.ts) reaches about 0.95.
import { describe, expect, it } from "vitest";
import { adjustedRandScore, MDN, normalizedMutualInfoScore, seedClusters } from "../src/index.js";

export async function runSeedTask(seed: number) {
  const d = seedClusters(1024, seed);
  const n = 512;
  const model = await MDN.create({
    inputDim: 2, outputDim: 2, components: 4,
    hidden: [
      { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
      { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
    ],
    seed,
  });
  const history = await model.fit(
    { data: d.x.subarray(0, 2 * n), shape: [n, 2] },
    { data: d.y.subarray(0, 2 * n), shape: [n, 2] },
    {
      epochs: 128, batchSize: 128, shuffle: true, validationSplit: 0.2,
      optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32 },
    },
  );
  const p = model.predict({ data: d.x.subarray(2 * n), shape: [1024 - n, 2] });
  const zPred = new Int32Array(1024 - n);
  for (let r = 0; r < zPred.length; r++) {
    let best = 0;
    for (let k = 1; k < 4; k++) if (p.pi[r * 4 + k]! > p.pi[r * 4 + best]!) best = k;
    zPred[r] = best;
  }
  const zTest = d.z.subarray(n);
  return { ari: adjustedRandScore(zTest, zPred), nmi: normalizedMutualInfoScore(zTest, zPred), history };
}

describe("the seed notebook's task", () => {
  it("reaches a mean test ARI of at least 0.90 over 3 seeds", async () => {
    const results = [];
    for (const seed of [0, 1, 2]) results.push(await runSeedTask(seed));
    const mean = results.reduce((a, r) => a + r.ari, 0) / results.length;
    console.log("seed task ARI", results.map((r) => r.ari.toFixed(4)), "NMI", results.map((r) => r.nmi.toFixed(4)), "epochs", results.map((r) => r.history.epoch.length));
    for (const r of results) expect(r.history.history.loss.every(Number.isFinite)).toBe(true);
    expect(mean).toBeGreaterThanOrEqual(0.9);
  });
});
