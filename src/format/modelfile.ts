// The model file: one self-describing byte string that loads the same in Node and browsers.
//
//   offset  size  field
//   0       8     magic 0x89 "MDN" CR LF 0x1A LF (PNG's trick: 8-bit, newline and EOF damage shows)
//   8       4     u32 format version (FORMAT_VERSION)
//   12      4     u32 header length H (at most MAX_HEADER_BYTES)
//   16      H     header: JSON, UTF-8 (schema below)
//   16+H    T     tensors: little-endian float32, at the offsets of the header's tensor table
//                 (relative to byte 16+H), contiguous, in table order
//   16+H+T  4     u32 CRC-32 (IEEE 802.3, as zip and PNG) of every byte before it
//
// Integers are little-endian. The header holds only numbers, booleans, null, and strings from
// closed sets (enum values, tensor names the config implies): nothing in a file can name code, a
// module, a URL or a path, and loading never evaluates anything.
//
// Why CRC-32: the checksum is there to catch damage (truncated downloads, flipped bits), not
// forgery; an adversary can recompute any unkeyed checksum, which is why every structural check
// stands on its own. CRC-32 detects every burst error up to 32 bits and every odd number of bit
// flips, which FNV-1a does not guarantee, and it is what zip and PNG use. Its 2^-32 miss rate for
// random damage is ample for files of this size.
//
// The loader checks everything before it allocates anything for the model, in this order: magic,
// version, header size, UTF-8, nesting depth, JSON, forbidden and unknown keys, field types, config,
// memory need, tensor table (names and shapes derived from the config, byte lengths, offsets with
// overflow-safe arithmetic, bounds, overlap, gaps), exact total length, checksum, then the values
// (finite weights, usable normalisation, non-negative moving variances, generator and training
// state). MDN.load then builds the model and runs it on the probe batch (src/engine/probe.ts): a file
// that loads predicts finite numbers there, and a checkpoint can take a training step.

import { formatBytes } from "../engine/arena.js";
import { MAX_ADAM_STEPS, MAX_EPOCHS, type ResolvedConfig, resolveConfig } from "../core/config.js";
import { MdnError, ModelFormatError, type ModelFormatErrorCode } from "../core/errors.js";
import { MAX_MODEL_BYTES, modelBytes, planTensors } from "../engine/network.js";
import { headOf } from "../engine/head.js";
import { normalizationProblem } from "../engine/normalize.js";

export const MAGIC = new Uint8Array([0x89, 0x4d, 0x44, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FORMAT_VERSION = 1;
/** A config of 20,000 layers fits in 1 MiB; real headers are a few kilobytes. */
export const MAX_HEADER_BYTES = 1 << 20;
/** The schema nests four deep (header > config > hidden > layer > batchNorm); a little slack. */
const MAX_DEPTH = 8;
const PREAMBLE = 16;
const CHECKSUM = 4;

export type FileKind = "model" | "checkpoint";

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Bytes from the start of the data section. */
  offset: number;
  byteLength: number;
}

export interface TrainingInfo {
  /** True while the weights are as initialisation left them (data-dependent init still to run). */
  fresh: boolean;
  /** Epochs and Adam steps over the model's life (informational). */
  epochs: number;
  steps: number;
  /** Last training and validation loss, when known. */
  loss: number | null;
  valLoss: number | null;
}

export interface CheckpointInfo {
  /** The epoch a resumed fit starts at (Keras initialEpoch). */
  epoch: number;
  /** Adam's step count t (its bias correction needs it). */
  adamSteps: number;
  earlyStopping: { monitor: "val_loss" | "loss"; best: number | null; wait: number; bestEpoch: number | null } | null;
  /** Whether the best-epoch weights (restoreBestWeights) are stored. */
  bestWeights: boolean;
  /** Rows of the stored shuffled order `train/order` (0: none stored). */
  orderRows: number;
}

export interface FileHeader {
  kind: FileKind;
  config: ResolvedConfig;
  /** "standardize" when normalisation statistics are stored, else null. */
  normalization: "standardize" | null;
  /** The xoshiro128** state: four u32 words. */
  generator: number[];
  training: TrainingInfo;
  checkpoint: CheckpointInfo | null;
  tensors: TensorEntry[];
}

/** A tensor to write: its bytes may come in several parts (e.g. one per network tensor). */
export interface TensorSource {
  name: string;
  shape: number[];
  parts: Uint8Array[];
}

export interface DecodedFile {
  header: FileHeader;
  /** The tensors' bytes by name (views into the caller's bytes). */
  tensor(name: string): Uint8Array;
}

const fail = (code: ModelFormatErrorCode, detail: string, offset?: number): never => {
  throw new ModelFormatError(code, detail, offset);
};

// ---------------------------------------------------------------- CRC-32

let crcTable: Uint32Array | undefined;

/** CRC-32 (reflected polynomial 0xEDB88320), byte-at-a-time table. */
export function crc32(bytes: Uint8Array, end = bytes.length): number {
  const t = (crcTable ??= (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })());
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------- the tensors a header implies

/** Names and shapes, in file order, that a header's config and flags call for. */
export function expectedTensors(h: Pick<FileHeader, "config" | "normalization" | "checkpoint">): Array<{ name: string; shape: number[] }> {
  const net = planTensors(h.config).tensors;
  const out = net.map((t) => ({ name: t.name, shape: t.shape }));
  const { inputDim: I, outputDim: D } = h.config;
  if (h.normalization) {
    out.push({ name: "normalization/x_mean", shape: [I] }, { name: "normalization/x_std", shape: [I] });
    out.push({ name: "normalization/y_mean", shape: [D] }, { name: "normalization/y_std", shape: [D] });
  }
  if (h.checkpoint) {
    const trainable = net.reduce((a, t) => a + (t.trainable ? t.size : 0), 0);
    const all = net.reduce((a, t) => a + t.size, 0);
    out.push({ name: "optimizer/m", shape: [trainable] }, { name: "optimizer/v", shape: [trainable] });
    if (h.checkpoint.bestWeights) out.push({ name: "best/weights", shape: [all] });
    if (h.checkpoint.orderRows > 0) out.push({ name: "train/order", shape: [h.checkpoint.orderRows] });
  }
  return out;
}

// ---------------------------------------------------------------- writing

/** Serialise; the same header and tensor bytes always give the same file. */
export function encodeFile(header: Omit<FileHeader, "tensors">, sources: TensorSource[]): Uint8Array {
  let offset = 0;
  const tensors = sources.map((s) => {
    const byteLength = s.parts.reduce((a, p) => a + p.byteLength, 0);
    const entry = { name: s.name, shape: s.shape, offset, byteLength };
    offset += byteLength;
    return entry;
  });
  // Key order is fixed here, so the JSON text (and the file) is a function of the values only.
  const h: FileHeader = {
    kind: header.kind,
    config: header.config,
    normalization: header.normalization,
    generator: header.generator,
    training: header.training,
    checkpoint: header.checkpoint,
    tensors,
  };
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(PREAMBLE + json.length + offset + CHECKSUM);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, PREAMBLE);
  let at = PREAMBLE + json.length;
  for (const s of sources) {
    for (const p of s.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
  }
  view.setUint32(at, crc32(out, at), true);
  return out;
}

// ---------------------------------------------------------------- reading

let utf8: TextDecoder | undefined;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Deepest nesting of objects and arrays in JSON text (strings skipped); stops past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function isObject(v: Json | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `v` as an object with exactly these keys (all required). */
function fields(v: Json | undefined, where: string, keys: readonly string[]): Obj {
  if (!isObject(v)) return fail("BAD_HEADER", `${where} must be an object`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail("UNKNOWN_KEY", `${where} has an unknown key ${JSON.stringify(k.slice(0, 40))}`);
  for (const k of keys) if (!Object.hasOwn(v, k)) fail("BAD_HEADER", `${where}.${k} is missing`);
  return v;
}

function count(v: Json | undefined, where: string, code: ModelFormatErrorCode = "BAD_HEADER"): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) return fail(code, `${where} must be a non-negative integer`);
  return v;
}

function finiteOrNull(v: Json | undefined, where: string): number | null {
  if (v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v)) return fail("BAD_HEADER", `${where} must be a finite number or null`);
  return v;
}

function bool(v: Json | undefined, where: string): boolean {
  if (typeof v !== "boolean") return fail("BAD_HEADER", `${where} must be a boolean`);
  return v;
}

/** Structural equality of JSON values with identical key sets; reports the first difference. */
function jsonDiff(a: Json | undefined, b: Json | undefined, where: string): { code: ModelFormatErrorCode; at: string } | null {
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) return { code: "UNKNOWN_KEY", at: `${where}.${k.slice(0, 40)}` };
    for (const k of Object.keys(b)) {
      const d = jsonDiff(a[k], b[k], `${where}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { code: "BAD_CONFIG", at: where };
    for (let i = 0; i < a.length; i++) {
      const d = jsonDiff(a[i], b[i], `${where}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : { code: "BAD_CONFIG", at: where };
}

/** The config must be exactly what resolveConfig makes of it: valid, complete, nothing extra. */
function readConfig(v: Json | undefined): ResolvedConfig {
  if (!isObject(v)) return fail("BAD_HEADER", "config must be an object");
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(v);
  } catch (e) {
    if (e instanceof MdnError && e.received === "an unknown option") return fail("UNKNOWN_KEY", `${e.argument.slice(0, 80)} is not a config field`);
    return fail("BAD_CONFIG", `config rejected: ${(e as Error).message}`);
  }
  const d = jsonDiff(v, resolved as unknown as Json, "config");
  if (d) fail(d.code, d.code === "UNKNOWN_KEY" ? `${d.at} is not a config field` : `${d.at} is missing or not in resolved form`);
  return resolved;
}

function readTraining(v: Json | undefined): TrainingInfo {
  const t = fields(v, "training", ["fresh", "epochs", "steps", "loss", "valLoss"]);
  return {
    fresh: bool(t.fresh, "training.fresh"),
    epochs: count(t.epochs, "training.epochs"),
    steps: count(t.steps, "training.steps"),
    loss: finiteOrNull(t.loss, "training.loss"),
    valLoss: finiteOrNull(t.valLoss, "training.valLoss"),
  };
}

function readCheckpoint(v: Json | undefined): CheckpointInfo | null {
  if (v === null) return null;
  const c = fields(v, "checkpoint", ["epoch", "adamSteps", "earlyStopping", "bestWeights", "orderRows"]);
  let earlyStopping: CheckpointInfo["earlyStopping"] = null;
  if (c.earlyStopping !== null) {
    const e = fields(c.earlyStopping, "checkpoint.earlyStopping", ["monitor", "best", "wait", "bestEpoch"]);
    if (e.monitor !== "val_loss" && e.monitor !== "loss") fail("BAD_HEADER", 'checkpoint.earlyStopping.monitor must be "val_loss" or "loss"');
    earlyStopping = {
      monitor: e.monitor as "val_loss" | "loss",
      best: finiteOrNull(e.best, "checkpoint.earlyStopping.best"),
      wait: count(e.wait, "checkpoint.earlyStopping.wait"),
      bestEpoch: e.bestEpoch === null ? null : count(e.bestEpoch, "checkpoint.earlyStopping.bestEpoch"),
    };
  }
  const epoch = count(c.epoch, "checkpoint.epoch");
  // A checkpoint must be able to go on: fit counts epochs below MAX_EPOCHS and Adam's steps up to
  // MAX_ADAM_STEPS (its step counter is an i32 in the kernel).
  if (epoch >= MAX_EPOCHS) fail("BAD_TRAINING_STATE", `checkpoint.epoch ${epoch} leaves no epoch to train (fit trains fewer than ${MAX_EPOCHS})`);
  const adamSteps = count(c.adamSteps, "checkpoint.adamSteps");
  if (adamSteps >= MAX_ADAM_STEPS) fail("BAD_TRAINING_STATE", `checkpoint.adamSteps ${adamSteps} leaves no Adam step to take (at most ${MAX_ADAM_STEPS})`);
  return {
    epoch,
    adamSteps,
    earlyStopping,
    bestWeights: bool(c.bestWeights, "checkpoint.bestWeights"),
    orderRows: count(c.orderRows, "checkpoint.orderRows"),
  };
}

function readTensorEntry(v: Json | undefined, i: number): TensorEntry {
  const where = `tensors[${i}]`;
  const t = fields(v, where, ["name", "shape", "offset", "byteLength"]);
  if (typeof t.name !== "string") fail("BAD_HEADER", `${where}.name must be a string`);
  if (!Array.isArray(t.shape) || t.shape.length > 4) fail("BAD_HEADER", `${where}.shape must be an array of at most 4 sizes`);
  const shape = (t.shape as Json[]).map((d, j) => count(d, `${where}.shape[${j}]`, "SHAPE_MISMATCH"));
  const offset = count(t.offset, `${where}.offset`, "BAD_OFFSET");
  const byteLength = count(t.byteLength, `${where}.byteLength`, "BAD_BYTE_LENGTH");
  if (!Number.isSafeInteger(offset + byteLength)) fail("SIZE_OVERFLOW", `${where}: offset + byteLength exceeds 2^53`);
  return { name: t.name as string, shape, offset, byteLength };
}

/** The first forbidden key anywhere in a parsed value (depth is already bounded), or null. */
function forbiddenKey(v: Json): string | null {
  if (Array.isArray(v)) {
    for (const e of v) {
      const f = forbiddenKey(e);
      if (f !== null) return f;
    }
  } else if (isObject(v)) {
    // JSON.parse makes `__proto__` an own data property (it never sets the prototype), so it is seen here.
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) return k;
      const f = forbiddenKey(v[k]!);
      if (f !== null) return f;
    }
  }
  return null;
}

/** Parse the header text: depth, JSON, forbidden keys. */
function parseJson(text: string): Json {
  if (nestingDepth(text, MAX_DEPTH) > MAX_DEPTH) fail("HEADER_TOO_DEEP", `header nests deeper than ${MAX_DEPTH}`);
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    return fail("BAD_JSON", "header is not valid JSON", PREAMBLE);
  }
  const forbidden = forbiddenKey(parsed);
  if (forbidden !== null) fail("FORBIDDEN_KEY", `header has a ${JSON.stringify(forbidden)} key`);
  return parsed;
}

/** Validate a file completely; returns its header and views of its tensors. Allocates no model. */
export function decodeFile(input: unknown): DecodedFile {
  let bytes: Uint8Array;
  if (input instanceof Uint8Array) bytes = input;
  else if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
  else return fail("NOT_BYTES", "expected a Uint8Array or ArrayBuffer");
  const len = bytes.length;
  if (len < PREAMBLE + CHECKSUM) fail("TRUNCATED", `${len} bytes is shorter than the ${PREAMBLE + CHECKSUM}-byte frame`, len);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) fail("BAD_MAGIC", "not an mdn-wasm model file", i);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) fail("UNSUPPORTED_VERSION", `format version ${version}; this build reads version ${FORMAT_VERSION}`, 8);
  const H = view.getUint32(12, true);
  if (H > MAX_HEADER_BYTES) fail("HEADER_TOO_LARGE", `header of ${H} bytes exceeds ${MAX_HEADER_BYTES}`, 12);
  if (PREAMBLE + H + CHECKSUM > len) fail("TRUNCATED", `the ${H}-byte header runs past the end`, len);
  let text: string;
  try {
    utf8 ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    text = utf8.decode(bytes.subarray(PREAMBLE, PREAMBLE + H));
  } catch {
    return fail("BAD_UTF8", "header is not valid UTF-8", PREAMBLE);
  }
  const root = fields(parseJson(text), "header", ["kind", "config", "normalization", "generator", "training", "checkpoint", "tensors"]);

  if (root.kind !== "model" && root.kind !== "checkpoint") fail("BAD_HEADER", 'kind must be "model" or "checkpoint"');
  const config = readConfig(root.config);
  if (root.normalization !== null && root.normalization !== "standardize") fail("BAD_HEADER", 'normalization must be "standardize" or null');
  if (!Array.isArray(root.generator) || root.generator.length !== 4) fail("BAD_GENERATOR", "generator must be four u32 words");
  const generator = (root.generator as Json[]).map((w) => {
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 0xffffffff) fail("BAD_GENERATOR", "generator words must be integers in [0, 2^32)");
    return w as number;
  });
  if (generator.every((w) => w === 0)) fail("BAD_GENERATOR", "an all-zero xoshiro128** state never leaves zero");
  const training = readTraining(root.training);
  const checkpoint = readCheckpoint(root.checkpoint);
  if ((root.kind === "checkpoint") !== (checkpoint !== null)) fail("BAD_HEADER", "a checkpoint file needs a checkpoint record, and only it");
  if (!Array.isArray(root.tensors)) fail("BAD_HEADER", "tensors must be an array");
  const header: FileHeader = {
    kind: root.kind as FileKind,
    config,
    normalization: root.normalization as FileHeader["normalization"],
    generator,
    training,
    checkpoint,
    tensors: [],
  };

  // The config alone fixes how much memory the model needs: the limit MDN.create applies too.
  const need = modelBytes(config);
  if (need > MAX_MODEL_BYTES) fail("TOO_LARGE", `the model needs ${formatBytes(need)} of memory, over the limit of ${formatBytes(MAX_MODEL_BYTES)}`);

  const want = expectedTensors(header);
  const table = root.tensors as Json[];
  if (table.length !== want.length) fail("TENSOR_NAME", `${table.length} tensors listed where the config implies ${want.length}`);
  const tensors = table.map(readTensorEntry);
  const dataStart = PREAMBLE + H;
  const available = len - dataStart - CHECKSUM;
  let total = 0;
  tensors.forEach((t, i) => {
    const w = want[i]!;
    if (t.name !== w.name) fail("TENSOR_NAME", `tensors[${i}] is ${JSON.stringify(t.name.slice(0, 60))} where the config implies ${JSON.stringify(w.name)}`);
    if (t.shape.length !== w.shape.length || t.shape.some((d, j) => d !== w.shape[j])) {
      fail("SHAPE_MISMATCH", `${w.name} has shape [${t.shape}] where the config implies [${w.shape}]`);
    }
    const elements = w.shape.reduce((a, b) => a * b, 1);
    if (t.byteLength !== 4 * elements) fail("BAD_BYTE_LENGTH", `${w.name}: ${t.byteLength} bytes for ${elements} float32 values`);
    total += t.byteLength;
  });
  if (available < total) fail("TRUNCATED", `${available} bytes of tensor data where the table needs ${total}`, len);
  if (available > total) fail("TRAILING_BYTES", `${available - total} bytes beyond the tensors and checksum`, dataStart + total + CHECKSUM);
  let end = 0;
  tensors.forEach((t, i) => {
    if (t.offset + t.byteLength > total) fail("OUT_OF_BOUNDS", `tensors[${i}] (${t.name}) ends at ${t.offset + t.byteLength}, past the ${total}-byte data section`);
    if (t.offset < end) fail("OVERLAP", `tensors[${i}] (${t.name}) starts at ${t.offset}, inside the previous tensor`);
    if (t.offset > end) fail("GAP", `tensors[${i}] (${t.name}) starts at ${t.offset}, leaving ${t.offset - end} unused bytes`);
    end = t.offset + t.byteLength;
  });
  const crcAt = dataStart + total;
  if (view.getUint32(crcAt, true) !== crc32(bytes, crcAt)) fail("BAD_CHECKSUM", "CRC-32 does not match the contents", crcAt);
  header.tensors = tensors;

  const byName = new Map(tensors.map((t) => [t.name, t]));
  const tensor = (name: string): Uint8Array => {
    const t = byName.get(name)!;
    return bytes.subarray(dataStart + t.offset, dataStart + t.offset + t.byteLength);
  };
  for (const t of tensors) {
    for (let p = dataStart + t.offset; p < dataStart + t.offset + t.byteLength; p += 4) {
      // A float32 is NaN or infinite exactly when its exponent bits are all ones.
      if ((view.getUint32(p, true) & 0x7f800000) === 0x7f800000) fail("NON_FINITE_WEIGHT", `${t.name}[${(p - dataStart - t.offset) / 4}] is not finite`, p);
    }
  }
  const d: DecodedFile = { header, tensor };
  if (header.normalization) {
    const problem = normalizationProblem(
      { xMean: readTensor(d, "normalization/x_mean"), xStd: readTensor(d, "normalization/x_std"), yMean: readTensor(d, "normalization/y_mean"), yStd: readTensor(d, "normalization/y_std") },
      headOf(config.covariance).sharedYScale,
    );
    if (problem) fail("BAD_NORMALIZATION", problem);
  }
  for (const t of tensors) {
    if (!t.name.endsWith("/moving_variance")) continue;
    const v = readTensor(d, t.name);
    const i = v.findIndex((x) => x < 0);
    // A moving average of batch variances is never negative.
    if (i >= 0) fail("BAD_BATCH_NORM", `${t.name}[${i}] is ${v[i]}, a negative variance`);
  }
  if (checkpoint) checkTrainingState(d, checkpoint);
  return d;
}

/** Checkpoint fields that must agree with each other and with the stored tensors. */
function checkTrainingState(d: DecodedFile, c: CheckpointInfo): void {
  const e = c.earlyStopping;
  if (e && e.wait > c.epoch) fail("BAD_TRAINING_STATE", `early-stopping wait ${e.wait} exceeds the ${c.epoch} epochs trained`);
  if (e && e.bestEpoch !== null && e.bestEpoch >= c.epoch) fail("BAD_TRAINING_STATE", `best epoch ${e.bestEpoch} is not before epoch ${c.epoch}`);
  if (c.bestWeights && (e === null || e.bestEpoch === null)) fail("BAD_TRAINING_STATE", "best weights stored without a best epoch");
  if (c.orderRows > 0) {
    // The order must be a permutation of 0 .. rows - 1.
    const o = readTensor(d, "train/order");
    const seen = new Uint8Array(o.length);
    for (let i = 0; i < o.length; i++) {
      const r = o[i]!;
      if (!Number.isInteger(r) || r < 0 || r >= o.length || seen[r]) fail("BAD_TRAINING_STATE", `train/order[${i}] = ${r} breaks the permutation of ${o.length} rows`);
      seen[r] = 1;
    }
  }
  const v = d.tensor("optimizer/v");
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  for (let i = 0; i < v.byteLength; i += 4) {
    if (view.getFloat32(i, true) < 0) fail("BAD_TRAINING_STATE", `optimizer/v[${i / 4}] is negative (a second moment)`);
  }
}

/** The float32 values of a decoded tensor, as a copy. */
export function readTensor(d: DecodedFile, name: string): Float32Array {
  const b = d.tensor(name);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** The validated header of a model or checkpoint file (for tools such as `info`); builds no model. */
export function inspectModel(bytes: Uint8Array | ArrayBuffer): FileHeader {
  return decodeFile(bytes).header;
}
