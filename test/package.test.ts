// The published package as a browser bundler sees it: what `npm pack` ships, the exports map, a
// browser bundle of the default entry with nothing from node:, no top-level await, its size.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));

/** An entry bundled for browsers and minified, as a size-conscious app would ship it. */
async function browserBundle(entry = "dist/index.js") {
  const result = await build({
    entryPoints: [new URL(entry, root).pathname],
    bundle: true, minify: true, format: "esm", platform: "browser", write: false, metafile: true,
    // Fails the build on top-level await.
    supported: { "top-level-await": false },
    logLevel: "silent",
  });
  return { code: result.outputFiles[0]!.text, meta: result.metafile };
}

describe("package", () => {
  it("is ESM with sideEffects false, and every exports condition lists types first", () => {
    expect(pkg.type).toBe("module");
    expect(pkg.sideEffects).toBe(false);
    for (const [key, target] of Object.entries<string | Record<string, string>>(pkg.exports)) {
      if (typeof target === "object") expect(Object.keys(target)[0], key).toBe("types");
    }
  });

  it("npm pack ships every file the exports map names, and the wasm", () => {
    const [info] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }));
    const files = new Set<string>(info.files.map((f: { path: string }) => f.path));
    const named: string[] = [];
    for (const target of Object.values<string | Record<string, string>>(pkg.exports)) {
      named.push(...(typeof target === "string" ? [target] : Object.values(target)));
    }
    for (const f of named) expect(files.has(f.replace(/^\.\//, "")), f).toBe(true);
    expect(files.has("dist/mdn.wasm")).toBe(true);
    expect([...files].some((f) => f.startsWith("src/") || f.startsWith("test/"))).toBe(false);
  });

  for (const entry of ["dist/index.js", "dist/worker.js"]) {
    it(`the browser bundle of ${entry} reaches nothing from node: and has no top-level await`, async () => {
      const { code, meta } = await browserBundle(entry);
      const inputs = Object.keys(meta.inputs);
      expect(inputs).toContain("dist/engine/wasm-inline.js");
      expect(inputs.filter((p) => p.startsWith("node:"))).toEqual([]);
      const imports = Object.values(meta.outputs).flatMap((o) => o.imports.map((i) => i.path));
      expect(imports).toEqual([]);
      expect(code).not.toMatch(/\bnode:/);
      expect(code).not.toMatch(/\brequire\(/);
    });
  }

  // The budget. The shipped wasm leaves the _scalar twins to the test build (assembly/full.ts).
  it("the default entry, JS and embedded wasm together, is at most 40 KB minified and gzipped", async () => {
    const { code } = await browserBundle();
    const gz = gzipSync(code).length;
    console.log(`default entry: ${(code.length / 1024).toFixed(1)} KB minified, ${(gz / 1024).toFixed(1)} KB gzipped`);
    expect(gz).toBeLessThanOrEqual(40 * 1024);
  });

  it("importing the entry does no work: the kernels are compiled on the first MDN.create", async () => {
    // Counts compiles of our wasm only (Node's own fetch compiles its HTTP parser lazily too).
    const size = readFileSync(new URL("dist/mdn.wasm", root)).byteLength;
    let compiles = 0;
    const original = WebAssembly.compile;
    WebAssembly.compile = (bytes) => {
      if ((bytes as { byteLength?: number }).byteLength === size) compiles++;
      return original(bytes);
    };
    try {
      const entry = await import(/* @vite-ignore */ new URL(`dist/index.js?fresh=${Date.now()}`, root).href);
      expect(compiles).toBe(0);
      const m = await entry.MDN.create({ inputDim: 1, outputDim: 1, components: 1, seed: 1 });
      expect(compiles).toBe(1);
      m.dispose();
    } finally {
      WebAssembly.compile = original;
    }
  });
});
