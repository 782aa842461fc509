// Shared test helpers: load the kernels, a bump heap over their memory, a seeded data generator,
// tolerance checks that name the first bad index, and central differences.

import { instantiate } from "@assemblyscript/loader";
import type { Ptr, TestKernels } from "../src/engine/kernels.js";

/** Sizes below, at and past the SIMD width (STYLE 10). */
export const SIZES = [1, 3, 4, 5, 8, 17, 33];

const modules = new Map<string, WebAssembly.Module>();

/** True in Node; false in the browser project, where the same test files run in Chromium. */
export const IN_NODE = typeof process === "object" && typeof process.versions?.node === "string";

const HERE = import.meta.url;

/** Where a file under build/ is: a file: URL in Node, the test server's URL in a browser. */
export function buildUrl(file: string): URL {
  // Not `new URL(literal, import.meta.url)`: Vite would turn that into a glob of build/ assets.
  return new URL(`../build/${file}`, HERE);
}

/**
 * The bytes of a file under build/ (or an absolute path in Node): read from disk in Node, fetched
 * from the test server in a browser. node:fs is imported only on the Node path.
 */
export async function buildFile(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const url = buildUrl(file);
  if (IN_NODE) {
    // A computed specifier keeps the browser project's dev server from trying to resolve node:fs.
    const fsModule = "node:fs/promises";
    const { readFile } = (await import(/* @vite-ignore */ fsModule)) as typeof import("node:fs/promises");
    return new Uint8Array(await readFile(file.includes("/") ? file : url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching build/${file}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * A fresh instance of the optimised test build (the shipped kernels plus their _scalar twins), or
 * `debug` for the asserting build of the same exports.
 */
export async function loadKernels(build: "release" | "debug" = "release"): Promise<TestKernels> {
  // MDN_WASM points at another build (a kernel under development compiled on its own).
  const file = (IN_NODE ? process.env.MDN_WASM : undefined) ?? (build === "release" ? "mdn.full.wasm" : "mdn.debug.wasm");
  let mod = modules.get(file);
  if (mod === undefined) {
    mod = await WebAssembly.compile(await buildFile(file));
    modules.set(file, mod);
  }
  // @assemblyscript/loader's instantiate answers the debug build's env.abort with the assertion's
  // message decoded from AssemblyScript's UTF-16 strings (the release builds import nothing), and
  // hands back the exports unwrapped: the stub runtime exports no argument-count helper to wrap for.
  return (await instantiate<Record<string, unknown>>(mod)).exports as unknown as TestKernels;
}

/** Bump allocator over a kernel instance's memory, 16-byte aligned, for tests only. */
export class Heap {
  private top: number;
  constructor(readonly k: TestKernels) {
    this.top = k.heap_base();
  }
  /** Room for n float32 (or u32) values; returns the pointer. */
  alloc(n: number): Ptr {
    const ptr = this.top;
    this.top += Math.ceil((Math.max(n, 1) * 4) / 16) * 16;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return ptr;
  }
  /** Allocate and fill with values (rounded to float32). */
  put(values: ArrayLike<number>): Ptr {
    const ptr = this.alloc(values.length);
    this.f32(ptr, values.length).set(values);
    return ptr;
  }
  /** A float32 view made now; never keep it across a call that may grow memory. */
  f32(ptr: Ptr, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }
  /** A float64 view made now (ptr 8-byte aligned). */
  f64(ptr: Ptr, n: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, ptr, n);
  }
  u32(ptr: Ptr, n: number): Uint32Array {
    return new Uint32Array(this.k.memory.buffer, ptr, n);
  }
  /** A copy as float64. */
  get(ptr: Ptr, n: number): Float64Array {
    return Float64Array.from(this.f32(ptr, n));
  }
}

/** mulberry32: a small seeded generator for test data (not the library's generator). */
export function testRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi), rounded to float32 so references see what the kernels see. */
export function uniform(rng: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * rng());
  return out;
}

/** n standard normal values (Box-Muller), rounded to float32. */
export function normal(rng: () => number, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng();
    const v = rng();
    out[i] = Math.fround(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

export interface Tol {
  atol: number;
  rtol: number;
}

/**
 * Throws naming the first index where |got - want| > atol + rtol * |want|, with got, want and the
 * error; also fails on any non-finite value in got where want is finite.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, label = ""): void {
  if (got.length !== want.length) {
    throw new Error(`${label}: length ${got.length}, want ${want.length}`);
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const err = Math.abs(g - w);
    if (!(err <= tol.atol + tol.rtol * Math.abs(w))) {
      throw new Error(
        `${label}: first bad index ${i}: got ${g}, want ${w}, error ${err} > ${tol.atol} + ${tol.rtol}*|want|`,
      );
    }
  }
}

/** Throws naming the first index where got and want differ in any bit. */
export function expectIdentical(got: ArrayLike<number>, want: ArrayLike<number>, label = ""): void {
  if (got.length !== want.length) throw new Error(`${label}: length ${got.length}, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: first differing index ${i}: ${got[i]} vs ${want[i]}`);
  }
}

/**
 * Central differences of a scalar function f at x (mutated and restored), float64:
 * (f(x + h e_i) - f(x - h e_i)) / 2h for every i.
 */
export function centralDiff(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    x[i] = xi + h;
    const fp = f(x);
    x[i] = xi - h;
    const fm = f(x);
    x[i] = xi;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** FNV-1a over the float32 bits of every weight, as a hex string: equal hashes, equal weights. */
export function hashWeights(weights: ReadonlyArray<{ data: Float32Array }>): string {
  let h = 0x811c9dc5;
  for (const w of weights) {
    const bytes = new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** y = (sin x0, x0 x1) * 10 + noise: targets far from unit scale, so standardisation matters. */
export function regression(n: number, seed: number) {
  const r = testRng(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const a = 4 * r() - 2;
    const b = 4 * r() - 2;
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[2 * i] = 10 * Math.sin(a) + 50 + r();
    y[2 * i + 1] = 10 * a * b - 20 + r();
  }
  return { x: { data: x, shape: [n, 2] as [number, number] }, y: { data: y, shape: [n, 2] as [number, number] } };
}
