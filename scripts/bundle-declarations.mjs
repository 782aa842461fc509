// Replaces the per-file declarations tsc writes to dist/ with one .d.ts per package entry (the
// "types" that package.json's "exports" name) plus shared chunks, holding only what the entries
// export and the types those reference: the CLI's, the kernels' and every other internal module's
// declarations never ship. A rule, not a list of file names: modules may move, and whatever a
// public type references is kept (rollup-plugin-dts follows the references and drops the rest).
// Run after tsc (npm's postbuild:ts hook).

import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIST = join(ROOT, "dist");

/** { "index": "/abs/dist/index.d.ts", ... } from every "types" in package.json. */
function entries() {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const found = new Map();
  const visit = (node, isTypes) => {
    if (typeof node === "string") {
      if (isTypes) {
        const path = join(ROOT, node);
        if (!path.startsWith(DIST) || !path.endsWith(".d.ts")) throw new Error(`package.json types ${node}: expected a .d.ts under dist/`);
        found.set(relative(DIST, path).replace(/\.d\.ts$/, ""), path);
      }
    } else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) visit(value, key === "types");
    }
  };
  visit(pkg.types, true);
  visit(pkg.exports, false);
  return Object.fromEntries(found);
}

const declarations = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.d\.ts(\.map)?$/.test(d.name))
    .map((d) => join(d.parentPath, d.name));

const input = entries();
const out = mkdtempSync(join(tmpdir(), "mdn-wasm-dts-"));
try {
  const bundle = await rollup({ input, plugins: [dts()], onwarn: (w) => { throw new Error(`rollup-plugin-dts: ${w.message}`); } });
  await bundle.write({ dir: out, format: "es", entryFileNames: "[name].d.ts", chunkFileNames: "types-[hash].d.ts" });
  await bundle.close();
  const before = declarations(DIST);
  for (const f of before) rmSync(f);
  const after = declarations(out);
  for (const f of after) copyFileSync(f, join(DIST, relative(out, f)));
  console.log(`declarations: ${before.length} files from tsc -> ${after.length} (${Object.keys(input).length} entries and their shared types)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
