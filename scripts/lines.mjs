// Code lines per layer against their budgets (README "Layout"): a line that holds code, not a
// blank line nor one inside or made only of a comment. Exits 1 when a layer is over its budget.
//   node scripts/lines.mjs          the table
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { layerOf, LAYERS, sourceFiles } from "./layers.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));

/** Lines of `text` that hold code: blank lines and comments (line and block) do not count. */
export function codeLines(text) {
  let n = 0;
  let inBlock = false;
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (inBlock) {
      const end = line.indexOf("*/");
      if (end < 0) continue;
      inBlock = false;
      line = line.slice(end + 2).trim();
    }
    while (line.startsWith("/*")) {
      const end = line.indexOf("*/", 2);
      if (end < 0) {
        inBlock = true;
        line = "";
        break;
      }
      line = line.slice(end + 2).trim();
    }
    if (line !== "" && !line.startsWith("//")) n++;
  }
  return n;
}

// What each budget covers and why it is set where it is: README "Layout".
export const BUDGETS = [
  { name: "kernels", files: (f) => f.startsWith("assembly/"), budget: 2700 },
  { name: "core host", files: (f) => ["core", "engine", "mixture", "model", "entries"].includes(LAYERS[layerOf(f)]?.name), budget: 3600 },
  { name: "file format + CLI", files: (f) => ["format", "cli"].includes(LAYERS[layerOf(f)]?.name), budget: 2450 },
  { name: "interop", files: (f) => LAYERS[layerOf(f)]?.name === "interop", budget: 700 },
];

export function count() {
  const files = [...sourceFiles(root, "assembly"), ...sourceFiles(root, "src")].filter((f) => f !== "src/engine/wasm-inline.ts");
  return BUDGETS.map((b) => {
    const mine = files.filter(b.files);
    return { ...b, files: mine.length, lines: mine.reduce((a, f) => a + codeLines(readFileSync(`${root}/${f}`, "utf8")), 0) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let over = false;
  for (const r of count()) {
    const ok = r.lines <= r.budget;
    over ||= !ok;
    console.log(`${r.name.padEnd(18)} ${String(r.lines).padStart(6)} code lines in ${String(r.files).padStart(3)} files, budget ${r.budget}${ok ? "" : "  OVER"}`);
  }
  process.exit(over ? 1 : 0);
}
