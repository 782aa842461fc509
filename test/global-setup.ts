// Runs in Node before each project: trains the seed model here and provides its weights' hash, so
// the cross-engine test (in Chromium too) compares against a value computed in this very run.
import type { TestProject } from "vitest/node";
import { hashSeedData, runSeedTask } from "./seed-model.js";

declare module "vitest" {
  export interface ProvidedContext {
    nodeSeedHashes: { data: string; weights: string; epochs: number };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const run = await runSeedTask(0);
  project.provide("nodeSeedHashes", { data: hashSeedData(0), weights: run.weightsHash, epochs: run.history.epoch.length });
}
