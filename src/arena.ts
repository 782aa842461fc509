// One memory plan per model (STYLE 6):
//
//   heap_base | params (T) | grads (T) | adam m (T) | adam v (T) | moving stats (S) | rng (4 u32)
//             | train scratch: activations (A) | their gradients (A) | batch staging | data
//             | inference scratch
//
// Parameters, gradients and Adam moments share one layout, so the optimizer is one flat loop.
// Activations and their gradients also share a layout: the gradient of the buffer at p lives at
// p + actBytes. Every tensor starts on a 16-byte boundary. Memory only grows; views over it are
// made on use by the callers.

import { MdnError } from "./errors.js";
import type { Kernels, Ptr } from "./kernels.js";

/** wasm32 addresses 4 GiB: 65536 pages of 64 KiB, the most any plan may reach. */
export const MAX_MEMORY_BYTES = 2 ** 32;

/** Floats rounded up to whole 16-byte lanes, in bytes. */
export function bytesFor(floats: number): number {
  return Math.ceil(floats / 4) * 16;
}

/** Hands out 16-byte aligned regions from a base; a plan, not memory. */
export class Planner {
  constructor(public top: number) {}
  take(floats: number): Ptr {
    const p = this.top;
    this.top += bytesFor(floats);
    return p;
  }
}

/**
 * Grow the module's memory so that byte `end` is addressable, or throw MdnError TOO_LARGE naming
 * `argument`, the memory needed and the limit (wasm32's 4 GiB, or what the engine would grant).
 * Callers plan everything first and grow once, before they change anything.
 */
export function ensureMemory(k: Kernels, end: number, argument: string): void {
  const have = k.memory.buffer.byteLength;
  if (end <= have) return;
  if (end > MAX_MEMORY_BYTES) {
    throw new MdnError("TOO_LARGE", argument, `at most ${formatBytes(MAX_MEMORY_BYTES)} of WebAssembly memory (the wasm32 limit)`, `${formatBytes(end)} needed`);
  }
  try {
    k.memory.grow(Math.ceil((end - have) / 65536));
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new MdnError("TOO_LARGE", argument, `WebAssembly memory the engine grants (it refused to grow ${formatBytes(have)} to the size needed)`, `${formatBytes(end)} needed`);
  }
}

/** "1.5 GiB (1610612736 bytes)": sizes in errors, exact and readable. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]} (${n} bytes)`;
}

/** Copy a float array into memory at ptr (the view is made here and dropped). */
export function writeF32(k: Kernels, ptr: Ptr, data: ArrayLike<number>, offset = 0, count = data.length): void {
  const view = new Float32Array(k.memory.buffer, ptr, count);
  if (offset === 0 && count === data.length && (data instanceof Float32Array || data instanceof Float64Array)) {
    view.set(data);
  } else if (data instanceof Float32Array || data instanceof Float64Array) {
    view.set(data.subarray(offset, offset + count));
  } else {
    for (let i = 0; i < count; i++) view[i] = data[offset + i]!;
  }
}

/** A copy the caller owns of `count` floats at ptr. */
export function readF32(k: Kernels, ptr: Ptr, count: number): Float32Array {
  return new Float32Array(k.memory.buffer, ptr, count).slice();
}
