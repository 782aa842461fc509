// Model files for the CLI: the one place that knows how a model and the CLI's facts about it reach
// the disk.
//
// `model.mdn` is exactly `model.save()`'s bytes, so `MDN.load` reads it anywhere (Node, browsers,
// workers). The file format holds only the library's own fields (its header admits no free
// strings), so what the CLI adds, the CSV column names and how the run went, goes beside it in
// `model.mdn.json`. Without that file the model still works: --x / --y then say which columns to
// use.
//
// The two files are tied twice over. Writers replace both under one lock (output.ts), so two
// runs writing the same --out leave one run's pair. And the facts record the SHA-256 of the model
// file they describe, checked at every load: a pair that was split anyway (a crash between the two
// renames, a model file copied without its facts, a reader that raced a writer) is never used
// silently.

import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { MDN, ModelFormatError } from "../node.js";
import { plural } from "./args.js";
import { CliError, isOutOfMemory } from "./errors.js";
import { replaceTogether } from "./output.js";

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
  /** The model file these facts belong to (absent in files from before it was recorded). */
  model?: { bytes: number; sha256: string };
}

/** Names for the target columns in output files: the recorded ones, else y0, y1, ... */
export function targetNames(facts: Facts | null, outputDim: number): string[] {
  return facts?.y ?? Array.from({ length: outputDim }, (_, d) => `y${d}`);
}

export const factsPath = (path: string) => `${path}.json`;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export async function saveModel(path: string, model: MDN, facts: Facts): Promise<void> {
  const bytes = model.save();
  const withModel: Facts = { ...facts, model: { bytes: bytes.length, sha256: sha256(bytes) } };
  await replaceTogether([
    { path, data: bytes },
    { path: factsPath(path), data: JSON.stringify(withModel, null, 2) + "\n" },
  ]);
}

/** wasm32 addresses 4 GiB: no model file can be larger. */
const MAX_MODEL_BYTES = 2 ** 32;

async function readModelBytes(path: string): Promise<Uint8Array> {
  let f;
  try {
    f = await open(path, "r");
  } catch (e) {
    throw new CliError(`${path}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = await f.stat();
    const size = st.size;
    if (!st.isFile()) throw new CliError(`${path}: not a model file (not a regular file)`);
    if (size > MAX_MODEL_BYTES) throw new CliError(`${path}: ${size} bytes is larger than any model can be (4 GiB of WebAssembly memory); not a model file`);
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size;) {
      const { bytesRead } = await f.read(bytes, at, size - at, at);
      if (bytesRead === 0) return bytes.subarray(0, at);
      at += bytesRead;
    }
    return bytes;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    await f.close();
  }
}

/** A failed check of a facts file: which field, what it should be. */
class BadFacts extends Error { }

function checkFacts(raw: unknown, model: MDN): Facts {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const need = (ok: boolean, field: string, expected: string) => {
    if (!ok) throw new BadFacts(`${field}: expected ${expected}`);
  };
  const count = (v: unknown, lo = 0) => typeof v === "number" && Number.isSafeInteger(v) && v >= lo;
  const numOrNull = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v));
  const names = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((s) => typeof s === "string");
  need(isObj(raw), "the file", "a JSON object");
  const f = raw as Record<string, unknown>;
  need(names(f.x, model.inputDim), "x", `a list of ${plural(model.inputDim, "input column name")}`);
  need(names(f.y, model.outputDim), "y", `a list of ${plural(model.outputDim, "target column name")}`);
  need(typeof f.data === "string", "data", "the training file's name");
  need(isObj(f.rows) && count(f.rows.train) && count(f.rows.validation), "rows", "{ train, validation } row counts");
  need(count(f.epochs), "epochs", "a count");
  need(count(f.bestEpoch, -1), "bestEpoch", "an epoch number");
  need(numOrNull(f.loss), "loss", "a number or null");
  need(numOrNull(f.valLoss), "valLoss", "a number or null");
  need(typeof f.interrupted === "boolean", "interrupted", "true or false");
  need(typeof f.seconds === "number" && Number.isFinite(f.seconds), "seconds", "a number");
  need(typeof f.createdAt === "string", "createdAt", "a date");
  if (f.model !== undefined) {
    const m = f.model;
    need(isObj(m) && count(m.bytes) && typeof m.sha256 === "string" && /^[0-9a-f]{64}$/.test(m.sha256), "model", "{ bytes, sha256 } of the model file");
  }
  return f as unknown as Facts;
}

async function loadOnce(path: string): Promise<{ model: MDN; facts: Facts | null; split: boolean }> {
  const bytes = await readModelBytes(path);
  let model: MDN;
  try {
    model = await MDN.load(bytes);
  } catch (e) {
    if (e instanceof ModelFormatError) throw new CliError(`${path}: ${e.message}`);
    if (isOutOfMemory(e)) throw new CliError(`${path}: the model does not fit in memory (${e.message})`);
    throw e;
  }
  let text: string;
  try {
    text = await readFile(factsPath(path), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { model, facts: null, split: false };
    model.dispose();
    throw new CliError(`${factsPath(path)}: cannot read the facts file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const fix = "delete it and name the columns with --x / --y";
  let facts: Facts;
  try {
    facts = checkFacts(JSON.parse(text), model);
  } catch (e) {
    model.dispose();
    const why = e instanceof BadFacts ? e.message : `not JSON: ${(e as Error).message}`;
    throw new CliError(`${factsPath(path)}: not a facts file for ${path} (${why}); ${fix}`);
  }
  const split = facts.model !== undefined && (facts.model.bytes !== bytes.length || facts.model.sha256 !== sha256(bytes));
  return { model, facts, split };
}

export async function loadModel(path: string): Promise<{ model: MDN; facts: Facts | null }> {
  // A mismatch can be a writer replacing the pair between our two reads: look again before failing.
  for (let attempt = 0; ; attempt++) {
    const { model, facts, split } = await loadOnce(path);
    if (!split) return { model, facts };
    model.dispose();
    if (attempt === 3) {
      throw new CliError(`${factsPath(path)}: describes another model file than ${path} (the SHA-256 it records differs); retrain, or delete it and name the columns with --x / --y`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
