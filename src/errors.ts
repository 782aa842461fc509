// Typed errors. Every rejection of user input is an MdnError with a stable `code`, the argument it
// concerns, what was expected and what arrived; it is raised in TypeScript before any kernel runs.

export type MdnErrorCode =
  | "INVALID_ARGUMENT" // wrong type or kind of value
  | "INVALID_CONFIG" // a model or fit option out of range or unknown
  | "SHAPE_MISMATCH" // a matrix whose shape does not fit the model or the other argument
  | "RAGGED_ROWS" // number[][] rows of different lengths
  | "NON_FINITE" // NaN or +-Infinity in data
  | "EMPTY_DATA" // zero rows or zero columns
  | "ROW_COUNT_MISMATCH" // x and y with different numbers of rows
  | "DISPOSED" // a call on a disposed model
  | "BUSY"; // a call while fit is running on the same model

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
