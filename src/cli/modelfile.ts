/// <reference types="node" />
// Model files for the CLI: the one place that knows how a model and the CLI's facts about it
// (which CSV columns were inputs and targets, how training went) reach the disk.
//
// INTERIM: the library's own save/load (issue 7, branch feat/files) has not landed yet, so this
// writes JSON with the resolved config and every weight (float32, base64) through the public
// getWeights / setWeights. When `model.save()` / `MDN.load()` land, only this file changes.

import { readFile } from "node:fs/promises";
import { MDN, type ResolvedConfig } from "../index.js";
import { CliError } from "./errors.js";
import { atomicWrite } from "./io.js";

/** What the CLI records beside the weights. */
export interface Facts {
  /** Input and target columns, by name when the training file had a header, else by index. */
  x: string[];
  y: string[];
  data: string;
  rows: { train: number; validation: number };
  epochs: number;
  bestEpoch: number;
  loss: number;
  valLoss: number | null;
  interrupted: boolean;
  seconds: number;
  createdAt: string;
}

const FORMAT = "mdn-wasm-cli/interim-1";

export async function saveModel(path: string, model: MDN, facts: Facts): Promise<void> {
  const weights = model.getWeights().map((w) => ({
    name: w.name,
    shape: w.shape,
    data: Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).toString("base64"),
  }));
  const doc = { format: FORMAT, config: model.config, facts, weights };
  await atomicWrite(path, JSON.stringify(doc));
}

export async function loadModel(path: string): Promise<{ model: MDN; facts: Facts }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CliError(`${path}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: { format?: unknown; config: ResolvedConfig; facts: Facts; weights: Array<{ name: string; shape: number[]; data: string }> };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CliError(`${path}: not a model file written by mdn-wasm train`);
  }
  if (doc.format !== FORMAT) throw new CliError(`${path}: not a model file written by mdn-wasm train`);
  const c = doc.config;
  const model = await MDN.create({ ...c, hidden: c.hidden.map((h) => ({ ...h, batchNorm: h.batchNorm ?? false })) });
  model.setWeights(
    doc.weights.map((w) => {
      const b = Buffer.from(w.data, "base64");
      return { name: w.name, shape: w.shape, data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
    }),
  );
  return { model, facts: doc.facts };
}
