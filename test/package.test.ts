// The published package as a browser bundler sees it: what `npm pack` ships, the exports map, a
// browser bundle of the default entry with nothing from node:, no top-level await, its size.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));

/**
 * What importing `entry` costs a browser app bundled with code splitting (esbuild --bundle
 * --splitting --format=esm --minify): the entry's chunk and every chunk it imports statically,
 * each gzipped on its own as it would be served; chunks reached only through import() are left
 * out.
 */
async function importCost(entry: string) {
  const result = await build({
    entryPoints: [entry], bundle: true, minify: true, splitting: true, format: "esm", platform: "browser", write: false, metafile: true,
    outdir: join(tmpdir(), "mdn-split-out"), supported: { "top-level-await": false }, logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  const text = new Map(result.outputFiles.map((f) => [relative(process.cwd(), f.path), f.text]));
  const start = Object.keys(outputs).find((o) => outputs[o]!.entryPoint !== undefined)!;
  const chunks = new Set<string>();
  const visit = (o: string) => {
    if (chunks.has(o)) return;
    chunks.add(o);
    for (const i of outputs[o]!.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit(start);
  const texts = [...chunks].map((c) => text.get(c)!);
  return {
    chunks: [...chunks], texts,
    minified: texts.reduce((a, t) => a + t.length, 0),
    gzipped: texts.reduce((a, t) => a + gzipSync(t).length, 0),
  };
}

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

  // The budget: what importing the entry costs when the bundler splits code, so that a
  // module loaded with import() only when used (a threads module) does not count against it. The
  // shipped wasm leaves the _scalar twins to the test build (assembly/full.ts).
  it("the default entry, JS and embedded wasm together, is at most 40 KB minified and gzipped", async () => {
    const cost = await importCost(new URL("dist/index.js", root).pathname);
    console.log(`default entry: ${(cost.minified / 1024).toFixed(1)} KB minified, ${(cost.gzipped / 1024).toFixed(1)} KB gzipped in ${cost.chunks.length} chunk(s)`);
    expect(cost.gzipped).toBeLessThanOrEqual(40 * 1024);
  });

  it("the entry's cost counts the chunks it imports statically, not those behind import()", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mdn-split-"));
    try {
      const big = (name: string) => `export const ${name} = ${JSON.stringify("x".repeat(4000) + name)};\n`;
      writeFileSync(join(dir, "shared.js"), big("shared"));
      writeFileSync(join(dir, "lazy.js"), `import { shared } from "./shared.js";\n${big("lazy")}export const both = lazy + shared;\n`);
      writeFileSync(join(dir, "entry.js"), `import { shared } from "./shared.js";\nexport const f = () => import("./lazy.js").then((m) => m.both + shared);\n`);
      const cost = await importCost(join(dir, "entry.js"));
      // The entry chunk and the shared chunk (it holds \`shared\`, which both need), not lazy's chunk.
      expect(cost.chunks.length).toBe(2);
      const text = cost.texts.join("");
      expect(text).toContain("xshared");
      expect(text).not.toContain("xlazy");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
