// Model files for the CLI: the one place that knows how a model and the CLI's facts about it reach
// the disk.
//
// `model.mdn` is the library's own file (saveFile / loadFile of mdn-wasm/node), so `MDN.load`
// reads it anywhere (Node, browsers, workers). The file format holds only the library's own fields (its header
// admits no free strings), so what the CLI adds, the CSV column names and how the run went, goes
// beside it in `model.mdn.json`. Without that file the model still works: --x / --y then say which
// columns to use.

import { readFile } from "node:fs/promises";
import { loadFile, type MDN, saveFile } from "../node.js";
import { CliError } from "./errors.js";
import { atomicWrite } from "./io.js";

/** What the CLI records about a training run. */
export interface Facts {
  /** Input and target columns, by name when the training file had a header, else by index. */
  x: string[];
  y: string[];
  data: string;
  rows: { train: number; validation: number };
  epochs: number;
  /** 0-based; -1 when Ctrl-C came before the first epoch ended. */
  bestEpoch: number;
  loss: number | null;
  valLoss: number | null;
  interrupted: boolean;
  seconds: number;
  createdAt: string;
}

/** Names for the target columns in output files: the recorded ones, else y0, y1, ... */
export function targetNames(facts: Facts | null, outputDim: number): string[] {
  return facts?.y ?? Array.from({ length: outputDim }, (_, d) => `y${d}`);
}

export const factsPath = (path: string) => `${path}.json`;

export async function saveModel(path: string, model: MDN, facts: Facts): Promise<void> {
  await saveFile(model, path);
  await atomicWrite(factsPath(path), JSON.stringify(facts, null, 2) + "\n");
}

export async function loadModel(path: string): Promise<{ model: MDN; facts: Facts | null }> {
  let model: MDN;
  try {
    model = await loadFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("E")) throw new CliError(`${path}: cannot read the model file (${code})`);
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
  let facts: Facts | null = null;
  try {
    facts = JSON.parse(await readFile(factsPath(path), "utf8")) as Facts;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new CliError(`${factsPath(path)}: unreadable (${(e as Error).message}); delete it and name the columns with --x / --y`);
  }
  return { model, facts };
}
