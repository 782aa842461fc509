// The interop entries as a browser bundler sees them: "mdn-wasm/onnx" and "mdn-wasm/keras" bundle
// with nothing from node: and no top-level await, and the default entry carries none of their code
// (it would not fit its 40 KB budget: test/package.test.ts).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));

async function bundle(contents: string) {
  const result = await build({
    stdin: { contents, resolveDir: root.pathname, loader: "js" },
    bundle: true, minify: true, format: "esm", platform: "browser", write: false, metafile: true,
    supported: { "top-level-await": false },
    logLevel: "silent",
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

const gz = (code: string) => (gzipSync(code).length / 1024).toFixed(1);

describe("interop entries", () => {
  it("are in the exports map", () => {
    expect(pkg.exports["./onnx"]).toEqual({ types: "./dist/onnx.d.ts", default: "./dist/onnx.js" });
    expect(pkg.exports["./keras"]).toEqual({ types: "./dist/keras.d.ts", default: "./dist/keras.js" });
  });

  for (const [entry, names] of [["dist/onnx.js", "toOnnx"], ["dist/keras.js", "fromKeras"]] as const) {
    it(`${entry} bundles for browsers with nothing from node: and no top-level await`, async () => {
      const { code, inputs } = await bundle(`export { ${names} } from "./${entry}";`);
      expect(inputs.filter((p) => p.startsWith("node:"))).toEqual([]);
      expect(code).not.toMatch(/\bnode:/);
      const base = await bundle(`export * from "./dist/index.js";`);
      const both = await bundle(`export * from "./dist/index.js"; export { ${names} } from "./${entry}";`);
      console.log(`${entry}: the default entry with it ${gz(both.code)} KB gzipped, without ${gz(base.code)} KB`);
    });
  }

  it("the default entry reaches none of the interop code", async () => {
    const { inputs } = await bundle(`export * from "./dist/index.js";`);
    expect(inputs.filter((p) => p.includes("interop/") || p.endsWith("onnx.js") || p.endsWith("keras.js"))).toEqual([]);
  });
});
