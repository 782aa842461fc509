// setWeights' checks: the list matches the model's tensors in count, names and shapes (a name or
// shape left out is not checked) and every value is a finite float32 number, each failure a typed
// error naming the weight, before anything is written.

import { describe, MdnError } from "../core/errors.js";
import type { Tensor } from "../engine/arena.js";

export type WeightsLike = ReadonlyArray<{ name?: string; shape?: readonly number[]; data: ArrayLike<number> }>;

export function checkWeights(weights: WeightsLike, ts: readonly Tensor[]): void {
  if (!Array.isArray(weights) || weights.length !== ts.length) {
    throw new MdnError("SHAPE_MISMATCH", "weights", `${ts.length} tensors`, describe(weights));
  }
  weights.forEach((w: unknown, i) => {
    const t = ts[i]!;
    const at = `weights[${i}]`;
    if (typeof w !== "object" || w === null) throw new MdnError("INVALID_ARGUMENT", at, `a weight ${t.name}`, describe(w));
    const { name, shape, data } = w as { name?: unknown; shape?: unknown; data?: unknown };
    if (name !== undefined && name !== t.name) throw new MdnError("SHAPE_MISMATCH", `${at}.name`, JSON.stringify(t.name), describe(name));
    if (shape !== undefined && !(Array.isArray(shape) && shape.length === t.shape.length && shape.every((d, j) => d === t.shape[j]))) {
      throw new MdnError("SHAPE_MISMATCH", `${at}.shape`, `[${t.shape}] for ${t.name}`, Array.isArray(shape) ? `[${shape.map((d) => describe(d))}]` : describe(shape));
    }
    if (!isNumberList(data)) throw new MdnError("INVALID_ARGUMENT", `${at}.data`, "an array or typed array of numbers", describe(data));
    if (data.length !== t.size) throw new MdnError("SHAPE_MISMATCH", `${at}.data`, `${t.size} values for ${t.name} [${t.shape}]`, describe(data));
    for (let j = 0; j < t.size; j++) {
      const v = data[j];
      if (typeof v !== "number") throw new MdnError("INVALID_ARGUMENT", `${at}.data[${j}]`, "a number", describe(v));
      if (!Number.isFinite(Math.fround(v))) throw new MdnError("NON_FINITE", `${at}.data[${j}]`, "a finite float32 value", describe(v));
    }
  });
}

/** An array or a typed array of numbers (not of BigInts, not a DataView). */
function isNumberList(v: unknown): v is ArrayLike<unknown> {
  if (Array.isArray(v)) return true;
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}
