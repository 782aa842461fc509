// The seed model trained here (Node or Chromium) has bit-identical weights to the one trained in
// Node by test/global-setup.ts in the same run: same seed, same data, same wasm.
import { describe, expect, inject, it } from "vitest";
import { hashSeedData, runSeedTask } from "./seed-model.js";
import { IN_NODE } from "./util.js";

describe(`cross-engine determinism (${IN_NODE ? "node" : "chromium"} vs node)`, () => {
  const want = inject("nodeSeedHashes");

  it("seedClusters generates the same float32 data", () => {
    expect(hashSeedData(0)).toBe(want.data);
  });

  it("the seed model trained for the seed notebook's 128 epochs has the same weights' hash", async () => {
    const run = await runSeedTask(0);
    expect(run.history.epoch.length).toBe(want.epochs);
    expect(run.weightsHash).toBe(want.weights);
  });
});
