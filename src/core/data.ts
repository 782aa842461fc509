// Input coercion and validation. Users pass `number[][]` or `{ data, shape: [n, d] }`; the library
// copies what it needs once into the arena. Everything here runs before any kernel, so a rejected
// call leaves the model untouched.

import { describe, MdnError } from "./errors.js";

/** A row-major matrix: `data[r * shape[1] + c]`. */
export interface Matrix {
  data: Float32Array | Float64Array;
  shape: readonly [number, number];
}

/** Rows as arrays, a typed array with its shape, or (where one column is expected) one value per row. */
export type MatrixLike = number[][] | Matrix | { data: ArrayLike<number>; shape: readonly number[] } | number[] | Float32Array | Float64Array;

/** A validated matrix: finite float32 values the library owns or only reads. */
export interface Checked {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/**
 * Check `value` is a finite, non-empty n x `cols` matrix (cols undefined: any width) and return it
 * row-major. `number[][]` is copied into a Float32Array; typed input is only read, never kept.
 */
export function toMatrix(value: unknown, argument: string, cols?: number): Checked {
  // One value per row (Keras accepts shape (n,) for one feature): a number[] or a typed array
  // without a shape, only where exactly one column is expected, so nothing is ever guessed.
  if (cols === 1 && (value instanceof Float32Array || value instanceof Float64Array)) {
    return fromTyped({ data: value, shape: [value.length, 1] }, argument, cols, true);
  }
  if (cols === 1 && isNumberList(value)) {
    const data = new Float64Array(value.length);
    value.forEach((v, i) => {
      if (typeof v !== "number") throw new MdnError("INVALID_ARGUMENT", `${argument}[${i}]`, "a number", describe(v));
      data[i] = v;
    });
    return fromTyped({ data, shape: [value.length, 1] }, argument, cols, true);
  }
  if (Array.isArray(value)) return fromRows(value, argument, cols);
  if (typeof value === "object" && value !== null && "data" in value && "shape" in value) {
    return fromTyped(value as { data: unknown; shape: unknown }, argument, cols);
  }
  throw new MdnError("INVALID_ARGUMENT", argument, "number[][] or { data: Float32Array | Float64Array, shape: [n, d] }", describe(value));
}

function fromRows(rows: unknown[], argument: string, cols?: number): Checked {
  if (rows.length === 0) throw new MdnError("EMPTY_DATA", argument, "at least one row", "0 rows");
  const first = rows[0];
  if (!Array.isArray(first)) {
    throw new MdnError("INVALID_ARGUMENT", `${argument}[0]`, "a row (number[])", describe(first));
  }
  const d = first.length;
  if (d === 0) throw new MdnError("EMPTY_DATA", `${argument}[0]`, "at least one column", "0 columns");
  if (cols !== undefined && d !== cols) {
    throw new MdnError("SHAPE_MISMATCH", argument, `${cols} columns`, `${d} columns`);
  }
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) throw new MdnError("INVALID_ARGUMENT", `${argument}[${r}]`, "a row (number[])", describe(row));
    if (row.length !== d) {
      throw new MdnError("RAGGED_ROWS", `${argument}[${r}]`, `${d} values like row 0`, `${row.length} values`);
    }
    for (let c = 0; c < d; c++) {
      const v = row[c];
      if (typeof v !== "number") throw new MdnError("INVALID_ARGUMENT", `${argument}[${r}][${c}]`, "a number", describe(v));
      if (!Number.isFinite(v)) throw new MdnError("NON_FINITE", `${argument}[${r}][${c}]`, "a finite number", describe(v));
      const f = Math.fround(v);
      if (!Number.isFinite(f)) throw new MdnError("NON_FINITE", `${argument}[${r}][${c}]`, "a value within float32 range", describe(v));
      out[r * d + c] = f;
    }
  }
  return { data: out, rows: rows.length, cols: d };
}

/** A non-empty array whose first element is a number (the rest are checked as values later). */
function isNumberList(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.length > 0 && !Array.isArray(v[0]);
}

function fromTyped(m: { data: unknown; shape: unknown }, argument: string, cols?: number, column = false): Checked {
  const { data, shape } = m;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new MdnError("INVALID_ARGUMENT", `${argument}.data`, "a Float32Array or Float64Array", describe(data));
  }
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new MdnError("SHAPE_MISMATCH", `${argument}.shape`, "[rows, cols] of non-negative integers", JSON.stringify(shape) ?? describe(shape));
  }
  const [n, d] = shape as [number, number];
  if (n === 0) throw new MdnError("EMPTY_DATA", argument, "at least one row", "0 rows");
  if (d === 0) throw new MdnError("EMPTY_DATA", argument, "at least one column", "0 columns");
  if (data.length !== n * d) {
    throw new MdnError("SHAPE_MISMATCH", `${argument}.data`, `${n * d} values for shape [${n}, ${d}]`, `${data.length} values`);
  }
  if (cols !== undefined && d !== cols) throw new MdnError("SHAPE_MISMATCH", argument, `${cols} columns`, `${d} columns`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // float64 values beyond float32 range would become Infinity in the arena.
    if (!Number.isFinite(v) || !Number.isFinite(Math.fround(v))) {
      const at = column ? `${argument}[${i}]` : `${argument}[${Math.floor(i / d)}][${i % d}]`;
      throw new MdnError("NON_FINITE", at, "a finite float32 value", describe(v));
    }
  }
  return { data, rows: n, cols: d };
}

/** x and y must describe the same rows. */
export function checkPair(x: Checked, y: Checked, xName: string, yName: string): void {
  if (x.rows !== y.rows) {
    throw new MdnError("ROW_COUNT_MISMATCH", yName, `${x.rows} rows like ${xName}`, `${y.rows} rows`);
  }
}

/** Rows [start, end) of a checked matrix, as a view (no copy). */
export function sliceRows(m: Checked, start: number, end: number): Checked {
  return { data: m.data.subarray(start * m.cols, end * m.cols), rows: end - start, cols: m.cols };
}
