// Where the compiled kernels come from. By default the wasm embedded in this package as base64 is
// compiled once, on first use (no work at import time, nothing for a bundler to copy).

import { WASM_BASE64 } from "./wasm-inline.js";

/** Bytes of a minimal module using v128: validates only on engines with WebAssembly SIMD. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Throws a clear error on engines without WebAssembly SIMD. */
export function assertSimd(): void {
  if (typeof WebAssembly !== "object") throw new Error("mdn-wasm needs WebAssembly, which this engine lacks");
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new Error("mdn-wasm needs WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+), which this engine lacks");
  }
}

/** The embedded module, compiled once per realm. */
export function defaultModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    assertSimd();
    return WebAssembly.compile(decodeBase64(WASM_BASE64));
  })();
  return compiled;
}
