// mdn-wasm/node: file conveniences, kept out of the default (browser) entry.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpointFile, loadFile, MDN, ModelFormatError, saveCheckpointFile, saveFile } from "../src/node.js";
import { regression } from "./util.js";

const dir = mkdtempSync(join(tmpdir(), "mdn-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Relative imports reachable from a source file under src/ (static `from "./x.js"` and `import("../y/x.js")`). */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = new URL("../src/", import.meta.url);
  const url = new URL(file, src);
  const text = readFileSync(url, "utf8");
  for (const m of text.matchAll(/(?:from|import\()\s*"([^"]+)"/g)) {
    const spec = m[1]!;
    if (spec.startsWith(".")) reachable(new URL(spec, url).href.slice(src.href.length).replace(/\.js$/, ".ts"), seen);
    else seen.add(spec);
  }
  return seen;
}

describe("node entry", () => {
  it("saveFile / loadFile round-trip bytes and predictions; checkpoints too", async () => {
    const { x, y } = regression(64, 2);
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, seed: 4, hidden: [6] });
    await m.fit(x, y, { epochs: 2 });
    const path = join(dir, "model.mdn");
    await saveFile(m, path);
    expect(new Uint8Array(readFileSync(path))).toEqual(m.save());
    const again = await loadFile(path);
    expect(again.predict(x).mu).toEqual(m.predict(x).mu);
    await saveCheckpointFile(m, join(dir, "ckpt.mdn"));
    expect((await loadCheckpointFile(join(dir, "ckpt.mdn"))).saveCheckpoint()).toEqual(m.saveCheckpoint());
    writeFileSync(join(dir, "junk.mdn"), "not a model");
    await expect(loadFile(join(dir, "junk.mdn"))).rejects.toBeInstanceOf(ModelFormatError);
  });

  it("saveFile leaves no temporary file when the write fails (a folder where the file should go)", async () => {
    const m = await MDN.create({ inputDim: 1, outputDim: 1, components: 1, seed: 1, hidden: [] });
    const sub = join(dir, "failing");
    mkdirSync(join(sub, "model.mdn"), { recursive: true });
    await expect(saveFile(m, join(sub, "model.mdn"))).rejects.toThrow();
    expect(readdirSync(sub)).toEqual(["model.mdn"]);
  });

  it("the default entry never reaches node: modules or src/node.ts", () => {
    const deps = reachable("index.ts");
    expect([...deps].filter((d) => d.startsWith("node:") || d === "node.ts")).toEqual([]);
    expect(reachable("node.ts").has("node:fs/promises")).toBe(true);
  });
});
