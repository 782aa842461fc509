// Small MDNs for the API tests: no hidden layer, so the head output is exactly x W + b.
import { readFileSync } from "node:fs";
import { MDN } from "../src/index.js";
import { testRng, uniform } from "./util.js";

export const wasmModule = await WebAssembly.compile(readFileSync(new URL("../build/mdn.wasm", import.meta.url)));

/** Head weights uniform in (-limit, limit) from a test generator seeded with `seed`. */
export async function linearModel(covariance: "isotropic" | "diagonal" | "full", I: number, D: number, K: number, seed: number, limit = 0.5): Promise<MDN> {
  const model = await MDN.create({ inputDim: I, outputDim: D, components: K, hidden: [], covariance, seed }, { module: wasmModule });
  const rng = testRng(seed);
  model.setWeights(model.getWeights().map((w) => ({ ...w, data: uniform(rng, w.data.length, -limit, limit) })));
  return model;
}
