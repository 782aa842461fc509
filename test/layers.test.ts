// src/ in layers (scripts/layers.mjs): imports run one way, down or within a layer, and never in
// a circle. The checks also run on made-up graphs, so that each is seen to fail.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importCycles, importGraph, LAYERS, layerOf, upwardImports } from "../scripts/layers.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const graph = importGraph(root);

describe("layers of src/", () => {
  it("every source file belongs to a layer", () => {
    expect([...graph.keys()].filter((f) => layerOf(f) < 0)).toEqual([]);
    expect(graph.size).toBeGreaterThan(40);
  });

  it("reads imports, re-exports and type-only imports, and resolves them to files that exist", () => {
    expect(graph.get("src/engine/network.ts")).toContain("src/engine/arena.ts");
    expect(graph.get("src/index.ts")).toContain("src/model/mdn.ts");
    expect(graph.get("src/core/errors.ts")).toContain("src/core/history.ts");
    for (const [f, deps] of graph) for (const d of deps) expect(graph.has(d), `${f} imports ${d}`).toBe(true);
  });

  it("no file imports from a layer above its own", () => {
    const names = (pairs: Array<[string, string]>) => pairs.map(([a, b]) => `${a} (${LAYERS[layerOf(a)]!.name}) -> ${b} (${LAYERS[layerOf(b)]!.name})`);
    expect(names(upwardImports(graph))).toEqual([]);
  });

  it("there is no import cycle", () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it("the checks catch an upward import and a cycle", () => {
    const g = new Map([
      ["src/core/errors.ts", ["src/engine/train.ts"]],
      ["src/engine/train.ts", ["src/engine/network.ts"]],
      ["src/engine/network.ts", ["src/engine/train.ts"]],
    ]);
    expect(upwardImports(g)).toEqual([["src/core/errors.ts", "src/engine/train.ts"]]);
    expect(importCycles(g)).toEqual([["src/engine/network.ts", "src/engine/train.ts"]]);
  });
});
