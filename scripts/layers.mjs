// The layers of src/, lowest first, and the import graph that test/layers.test.ts checks against
// them: a file imports only from its own layer or a lower one, and no chain of imports comes back
// to where it started. scripts/lines.mjs counts code lines by the same table.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Each layer: its name, the files it holds (paths relative to the repository root) and its job. */
export const LAYERS = [
  { name: "core", match: (f) => f.startsWith("src/core/"), job: "errors, matrix input, config, fit records: types every layer shares" },
  { name: "engine", match: (f) => f.startsWith("src/engine/"), job: "wasm loading, the kernels' ABI, the memory plan, network, heads, training, inference" },
  { name: "mixture", match: (f) => f.startsWith("src/mixture/"), job: "the mixture as float64 maths: density, sampling, prediction, metrics, recalibration" },
  { name: "format", match: (f) => f.startsWith("src/format/"), job: "the model file and checkpoints" },
  { name: "model", match: (f) => f.startsWith("src/model/"), job: "MDN, its options and summary" },
  { name: "interop", match: (f) => f.startsWith("src/interop/"), job: "ONNX export, Keras import" },
  { name: "entries", match: (f) => /^src\/[^/]+\.ts$/.test(f), job: "the package's entry points (package.json exports)" },
  { name: "cli", match: (f) => f.startsWith("src/cli/"), job: "the command line" },
];

/** The index in LAYERS of the layer holding `file`, or -1. */
export function layerOf(file) {
  return LAYERS.findIndex((l) => l.match(file));
}

/** Every .ts file under dir (relative to root), sorted. */
export function sourceFiles(root, dir = "src") {
  const out = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(root, p));
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

// Static imports and re-exports, type-only ones included (they tie the layers as much); a dynamic
// import() loads on demand and is not part of what importing a file costs.
const IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s+["'](\.[^"']+)["']|^\s*import\s+["'](\.[^"']+)["']/gm;

/** file -> the files it imports (both relative to root), for every .ts file under src/. */
export function importGraph(root) {
  const graph = new Map();
  for (const f of sourceFiles(root)) {
    const text = readFileSync(join(root, f), "utf8");
    const deps = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      deps.push(relative(root, resolve(root, dirname(f), spec)).replace(/\.js$/, ".ts"));
    }
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** Imports that go up a layer, as [importer, imported]. */
export function upwardImports(graph) {
  const bad = [];
  for (const [f, deps] of graph) for (const d of deps) if (layerOf(d) > layerOf(f)) bad.push([f, d]);
  return bad;
}

/** One cycle per strongly connected component with more than one file (or a self-import). */
export function importCycles(graph) {
  // Tarjan's algorithm; small graphs, so recursion is fine.
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), cycles = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return cycles;
}
