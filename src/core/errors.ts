// Typed errors. Every rejection of user input is an MdnError with a stable `code`, the argument it
// concerns, what was expected and what arrived; it is raised in TypeScript before any kernel runs.
// A model file that fails the loader's checks is a ModelFormatError, whose code names the damage.

import type { History, NonFiniteReport } from "./history.js";

export type MdnErrorCode =
  | "INVALID_ARGUMENT" // wrong type or kind of value
  | "INVALID_CONFIG" // a model or fit option out of range or unknown
  | "SHAPE_MISMATCH" // a matrix whose shape does not fit the model or the other argument
  | "RAGGED_ROWS" // number[][] rows of different lengths
  | "NON_FINITE" // NaN or +-Infinity in data
  | "EMPTY_DATA" // zero rows or zero columns
  | "ROW_COUNT_MISMATCH" // x and y with different numbers of rows
  | "DISPOSED" // a call on a disposed model
  | "BUSY" // a call while fit is running on the same model
  | "TOO_LARGE" // a model, fit or result that needs more memory than the library's limits (or the engine grants)
  | "NON_FINITE_STEP"; // fit with onNonFinite "throw" met a batch with a non-finite loss, gradient or update

export type { NonFiniteCause, NonFiniteReport } from "./history.js";

export class MdnError extends Error {
  override readonly name = "MdnError";
  constructor(
    readonly code: MdnErrorCode,
    /** The argument at fault, e.g. `x`, `config.components`, `options.batchSize`. */
    readonly argument: string,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`${argument}: expected ${expected}, got ${received}`);
  }
}

/** fit with `onNonFinite: "throw"`: the model holds the last good weights, as with "stop". */
export class NonFiniteError extends MdnError {
  constructor(
    readonly report: NonFiniteReport,
    /** The epochs completed before the bad batch. */
    readonly history: History,
  ) {
    super("NON_FINITE_STEP", "fit", "a finite loss, gradients and update", `a non-finite ${report.cause} at epoch ${report.epoch}, batch ${report.batch}`);
  }
  get epoch(): number {
    return this.report.epoch;
  }
  get batch(): number {
    return this.report.batch;
  }
}

/**
 * Why a model file was rejected. Each kind of damage has its own code; the loader checks them in
 * this order, before it allocates anything for the model.
 */
export type ModelFormatErrorCode =
  | "NOT_BYTES" // the argument is not a Uint8Array or ArrayBuffer
  | "TRUNCATED" // shorter than its sections say (or than the fixed preamble)
  | "BAD_MAGIC" // does not start with the mdn-wasm magic number
  | "UNSUPPORTED_VERSION" // a format version this build does not read (0, or from the future)
  | "HEADER_TOO_LARGE" // header length over the limit
  | "BAD_UTF8" // the header is not valid UTF-8
  | "HEADER_TOO_DEEP" // objects or arrays nested deeper than the schema allows
  | "BAD_JSON" // the header is not JSON
  | "FORBIDDEN_KEY" // a `__proto__`, `constructor` or `prototype` key anywhere in the header
  | "UNKNOWN_KEY" // a key the schema does not have
  | "BAD_HEADER" // a missing field or one of the wrong type
  | "BAD_CONFIG" // the stored config is not a valid, fully resolved config
  | "TOO_LARGE" // the model would not fit in WebAssembly memory
  | "TENSOR_NAME" // the tensor table does not list the tensors the config implies, in order
  | "SHAPE_MISMATCH" // a tensor's shape differs from the one its config implies
  | "BAD_OFFSET" // a tensor offset that is not a non-negative integer
  | "BAD_BYTE_LENGTH" // a byte length that is not 4 x the tensor's element count
  | "SIZE_OVERFLOW" // offset + length beyond exact integer arithmetic
  | "OUT_OF_BOUNDS" // a tensor reaching past the data section
  | "OVERLAP" // a tensor starting inside the previous one
  | "GAP" // unused bytes between tensors
  | "TRAILING_BYTES" // bytes after the checksum
  | "BAD_CHECKSUM" // CRC-32 mismatch
  | "NON_FINITE_WEIGHT" // NaN or Infinity in a tensor
  | "BAD_NORMALIZATION" // a standard deviation that is not positive (or isotropic scales that differ)
  | "BAD_GENERATOR" // a generator state that is not four u32 words, not all zero
  | "BAD_TRAINING_STATE" // checkpoint fields out of range
  | "BAD_BATCH_NORM" // a batch-norm moving variance that is negative
  | "CANNOT_PREDICT" // the model's outputs on the probe batch are not finite (or a scale is not positive)
  | "CANNOT_TRAIN" // a checkpoint whose training state cannot take one step on the probe batch
  | "NOT_A_CHECKPOINT"; // loadCheckpoint given a plain model file

/** A model file the loader refused. Not an MdnError: the bytes, not an argument, are at fault. */
export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";
  constructor(
    readonly code: ModelFormatErrorCode,
    /** What was wrong, for people. */
    readonly detail: string,
    /** Byte offset in the file where the problem was found, when there is one. */
    readonly offset?: number,
  ) {
    super(`model file rejected (${code}): ${detail}${offset === undefined ? "" : ` at byte ${offset}`}`);
  }
}

/** A short, safe description of any value for an error message. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === "function") return "a function";
  return "an object";
}

/**
 * The name in `known` that `name` most likely misspells (edit distance after ignoring case, "_"
 * and "-", so `learning_rate` finds `learningRate`), or undefined when none is close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const a = plain(name);
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(a.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(a, plain(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
