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

import type { Kernels, Ptr } from "./kernels.js";

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

/** Grow the module's memory so that byte `end` is addressable. */
export function ensureMemory(k: Kernels, end: number): void {
  const have = k.memory.buffer.byteLength;
  if (end > have) k.memory.grow(Math.ceil((end - have) / 65536));
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
