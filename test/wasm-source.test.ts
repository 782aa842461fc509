// MDN.create(config, { module }) and loadModule accept every WasmSource and reject anything else
// with INVALID_ARGUMENT before fetching or compiling.
import { describe, expect, it } from "vitest";
import { loadModule, MDN, MdnError } from "../src/index.js";
import type { WasmSource } from "../src/index.js";
import { buildFile, buildUrl, hashWeights, IN_NODE } from "./util.js";

const CONFIG = { inputDim: 2, outputDim: 1, components: 2, hidden: [8], seed: 3 };
const X = { data: new Float32Array([0, 1, 1, 0, 0.5, 0.5, -1, 2]), shape: [4, 2] as [number, number] };
const Y = { data: new Float32Array([1, -1, 0, 2]), shape: [4, 1] as [number, number] };

async function trainedHash(module?: WasmSource): Promise<string> {
  const m = await MDN.create(CONFIG, module === undefined ? {} : { module });
  await m.fit(X, Y, { epochs: 3, batchSize: 2 });
  return hashWeights(m.getWeights());
}

/** Where build/mdn.wasm can be fetched: the test server in a browser, a data: URL in Node (no server). */
async function wasmUrl(): Promise<URL> {
  if (!IN_NODE) return buildUrl("mdn.wasm");
  let bin = "";
  for (const b of await buildFile("mdn.wasm")) bin += String.fromCharCode(b);
  return new URL(`data:application/wasm;base64,${btoa(bin)}`);
}

describe("wasm sources", () => {
  it("Module, ArrayBuffer, Uint8Array, Response, Promise<Response>, URL and URL string all give the embedded kernels' results", async () => {
    const want = await trainedHash();
    const bytes = await buildFile("mdn.wasm");
    const url = await wasmUrl();
    const sources: Array<[string, () => WasmSource]> = [
      ["Module", () => new WebAssembly.Module(bytes)],
      ["ArrayBuffer", () => bytes.slice().buffer],
      ["Uint8Array", () => bytes],
      ["Response", () => new Response(bytes, { headers: { "content-type": "application/wasm" } })],
      ["Promise<Response>", () => fetch(url)],
      ["URL", () => url],
      ["URL string", () => url.href],
    ];
    for (const [label, source] of sources) expect(await trainedHash(source()), label).toBe(want);
  });

  it("loadModule() compiles the embedded kernels once and returns the same Module", async () => {
    const a = await loadModule();
    expect(a).toBeInstanceOf(WebAssembly.Module);
    expect(await loadModule()).toBe(a);
    expect(await loadModule(a)).toBe(a);
  });

  it("rejects a non-source with INVALID_ARGUMENT naming options.module", async () => {
    for (const bad of [42, null, {}, [1, 2]]) {
      const err = await MDN.create(CONFIG, { module: bad as unknown as WasmSource }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MdnError);
      expect((err as MdnError).code).toBe("INVALID_ARGUMENT");
      expect((err as MdnError).argument).toBe("options.module");
    }
  });

  it("rejects an HTTP error response with INVALID_ARGUMENT and its status", async () => {
    const err = await MDN.create(CONFIG, { module: new Response("missing", { status: 404, statusText: "Not Found" }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MdnError);
    expect((err as MdnError).message).toContain("404");
  });

  it("bytes that do not compile, or another module's, reject with INVALID_ARGUMENT naming options.module", async () => {
    // Before: a raw WebAssembly.CompileError, and a TypeError once the model called a missing export.
    const notWasm = await MDN.create(CONFIG, { module: new Uint8Array([1, 2, 3, 4]) }).catch((e: unknown) => e);
    expect(notWasm).toBeInstanceOf(MdnError);
    expect(notWasm).toMatchObject({ code: "INVALID_ARGUMENT", argument: "options.module" });
    expect((notWasm as MdnError).message).toContain("do not compile");
    expect((notWasm as MdnError).cause).toBeInstanceOf(WebAssembly.CompileError);
    const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]); // a valid module with no exports
    for (const other of [empty, new WebAssembly.Module(empty)]) {
      const err = await MDN.create(CONFIG, { module: other }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MdnError);
      expect(err).toMatchObject({ code: "INVALID_ARGUMENT", argument: "options.module", expected: "a build of mdn-wasm/mdn.wasm" });
    }
  });

  it("a string that is no URL, a file: URL or a failed fetch rejects with INVALID_ARGUMENT naming options.module", async () => {
    // Before: TypeError "Failed to parse URL" / "fetch failed" from fetch itself.
    const bad: Array<[() => WasmSource, string]> = [
      [() => "http://[not a host", "a valid URL"],
      [() => "file:///tmp/mdn.wasm", "mdn-wasm/node"],
      [() => new URL("file:///tmp/mdn.wasm"), "mdn-wasm/node"],
      [() => "http://127.0.0.1:1/mdn.wasm", "a URL that can be fetched"],
      [() => Promise.reject(new Error("offline")), "offline"],
    ];
    // With no page to resolve it against (Node), a relative string is no URL; the Node entry is named.
    if (IN_NODE) bad.push([() => "build/mdn.wasm", "mdn-wasm/node"]);
    for (const [make, says] of bad) {
      const source = make();
      const err = await MDN.create(CONFIG, { module: source }).catch((e: unknown) => e);
      expect(err, String(source)).toBeInstanceOf(MdnError);
      expect(err, String(source)).toMatchObject({ code: "INVALID_ARGUMENT", argument: "options.module" });
      expect((err as MdnError).message, String(source)).toContain(says);
    }
  });
});
