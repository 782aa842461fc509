// Runs in Node before each project: trains the seed model here and provides its weights' hash, so
// the cross-engine test (in Chromium too) compares against a value computed in this very run; and
// saves a model file here for the cross-engine file test to load.
import type { TestProject } from "vitest/node";
import { hashSeedData, modelFileCase, runSeedTask } from "./seed-model.js";

declare module "vitest" {
  export interface ProvidedContext {
    nodeSeedHashes: { data: string; weights: string; epochs: number };
    /** A checkpoint file saved in Node, and the hash of its predictions when loaded in Node. */
    nodeModelFile: { bytes: number[]; loadedHash: string };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const run = await runSeedTask(0);
  project.provide("nodeSeedHashes", { data: hashSeedData(0), weights: run.weightsHash, epochs: run.history.epoch.length });
  const file = await modelFileCase();
  project.provide("nodeModelFile", { bytes: Array.from(file.bytes), loadedHash: file.loadedHash });
}
