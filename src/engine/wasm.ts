// Where the compiled kernels come from. By default the wasm embedded in this package (gzip, then
// base64) is unpacked with DecompressionStream and compiled once, on first use (no work at import
// time, nothing for a bundler to copy). Users who host build/mdn.wasm themselves (exported as
// "mdn-wasm/mdn.wasm") pass a WasmSource instead.

// First, so that a bundle of the default entry starts with the embedded wasm (index.ts imports
// this file first): gzip then meets all the JavaScript as one run after it, 1.2 KB smaller than
// with the base64 between modules (measured with esbuild --minify).
import { WASM_GZIP_BASE64 } from "./wasm-inline.js";
import { describe, MdnError } from "../core/errors.js";

/**
 * Kernels to use instead of the embedded ones: a compiled module (e.g. posted to a worker), the
 * .wasm bytes, a Response or a promise of one (`fetch(url)`), or the URL to fetch.
 */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response | PromiseLike<Response> | URL | string;

/** Bytes of a minimal module using v128: validates only on engines with WebAssembly SIMD. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

const EXPECTED_SOURCE = "a WebAssembly.Module, ArrayBuffer, Uint8Array, Response, Promise<Response>, URL or URL string";

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The embedded wasm's bytes: base64 decoded, then gunzipped by the engine's DecompressionStream. */
async function embeddedWasm(): Promise<ArrayBuffer> {
  if (typeof DecompressionStream !== "function") {
    throw new Error("mdn-wasm unpacks its embedded kernels with DecompressionStream (Chrome 80+, Firefox 113+, Safari 16.4+, Node 18+), which this engine lacks; pass options.module with mdn-wasm/mdn.wasm instead");
  }
  const stream = new Blob([decodeBase64(WASM_GZIP_BASE64)]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** Throws a clear error on engines without WebAssembly SIMD. */
export function assertSimd(): void {
  if (typeof WebAssembly !== "object") throw new Error("mdn-wasm needs WebAssembly, which this engine lacks");
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new Error("mdn-wasm needs WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+), which this engine lacks");
  }
}

function isResponse(v: unknown): v is Response {
  return typeof Response === "function" && v instanceof Response;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as PromiseLike<unknown>).then === "function";
}

/** Rejects anything that is not a WasmSource, before any fetch or compile starts. */
export function checkWasmSource(source: unknown, argument: string): asserts source is WasmSource {
  const ok =
    source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source) ||
    isResponse(source) || isThenable(source) || source instanceof URL || typeof source === "string";
  if (!ok) throw new MdnError("INVALID_ARGUMENT", argument, EXPECTED_SOURCE, describe(source));
}

/** A typed rejection of the source, keeping what failed underneath (if anything) as its cause. */
function badSource(argument: string, expected: string, received: string, cause?: unknown): MdnError {
  const error = new MdnError("INVALID_ARGUMENT", argument, expected, received);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** Runs one step of loading; its failure (a parse, fetch or compile error) becomes an MdnError. */
async function step<T>(work: () => T | PromiseLike<T>, argument: string, expected: string, received: string): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw badSource(argument, expected, `${received} (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)})`, e);
  }
}

/** The exports every mdn-wasm build has: without them a model would fail later with a raw TypeError. */
const KEY_EXPORTS = ["memory", "heap_base", "dense_forward"];

/** Compiles bytes (unless given a Module), then checks that they are mdn-wasm's kernels, not any wasm. */
async function compile(source: WebAssembly.Module | ArrayBuffer, argument: string): Promise<WebAssembly.Module> {
  const module = source instanceof WebAssembly.Module ? source : await step(() => WebAssembly.compile(source), argument, "the bytes of mdn-wasm/mdn.wasm", `${source.byteLength} bytes that do not compile`);
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = KEY_EXPORTS.filter((n) => !names.has(n));
  if (missing.length) throw badSource(argument, "a build of mdn-wasm/mdn.wasm", `a WebAssembly module without ${missing.join(", ")}`);
  return module;
}

async function compileResponse(response: Response, argument: string): Promise<WebAssembly.Module> {
  if (!response.ok) {
    throw badSource(argument, "a response with a 2xx status", `${response.status} ${response.statusText} from ${response.url}`);
  }
  return compile(await response.arrayBuffer(), argument);
}

/** The URL a string names, resolved against the page or worker; file: URLs, which fetch cannot read, are refused. */
async function fetchable(source: string | URL, argument: string): Promise<URL> {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  const hint = " (in Node, loadModule from mdn-wasm/node reads paths and file: URLs)";
  const url = await step(() => new URL(source, base), argument, `a valid URL${hint}`, describe(String(source)));
  if (url.protocol === "file:") throw badSource(argument, `a URL that fetch can read${hint}`, describe(url.href));
  return url;
}

/**
 * The kernels compiled from `source`, or the embedded ones (compiled once per realm) when it is
 * undefined. Compile once and pass the Module to every MDN.create, or post it to a worker.
 * Whatever cannot give mdn-wasm's kernels (a bad URL, a failed fetch, bytes that do not compile
 * or are another module) rejects with an MdnError naming `argument`, its cause attached.
 */
export async function loadModule(source?: WasmSource, argument = "source"): Promise<WebAssembly.Module> {
  if (source === undefined) {
    compiled ??= (async () => {
      assertSimd();
      return WebAssembly.compile(await embeddedWasm());
    })();
    return compiled;
  }
  checkWasmSource(source, argument);
  // A bad URL is the clearer message, so it comes before the SIMD probe.
  const url = typeof source === "string" || source instanceof URL ? await fetchable(source, argument) : null;
  if (!(source instanceof WebAssembly.Module)) assertSimd();
  if (source instanceof WebAssembly.Module || source instanceof ArrayBuffer) return compile(source, argument);
  if (ArrayBuffer.isView(source)) return compile(new Uint8Array(source.buffer, source.byteOffset, source.byteLength).slice().buffer, argument);
  if (isResponse(source)) return compileResponse(source, argument);
  const response = url
    ? await step(() => fetch(url), argument, "a URL that can be fetched", describe(url.href))
    : await step(() => source as PromiseLike<unknown>, argument, "a promise of a Response", "a promise that rejected");
  if (!isResponse(response)) throw badSource(argument, "a promise of a Response", `a promise of ${describe(response)}`);
  return compileResponse(response, argument);
}
