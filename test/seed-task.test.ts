// The seed notebook's task end to end: its data, architecture and hyper-parameters, 128 epochs.
// The notebook printed ARI 0.842; the Bayes-optimal classifier of these clusters is near 0.95.
// With meanInit "zeros" (a Keras MDN's start) this is close to the notebook: median ARI 0.83 over
// seeds 0-7; the default data-dependent start of the means (src/engine/init.ts) reaches about 0.95.
import { describe, expect, it } from "vitest";
import { runSeedTask } from "./seed-model.js";

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
