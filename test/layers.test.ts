// src/ in layers (scripts/layers.mjs): imports run one way, down or within a layer, and never in
// a circle (the checks also run on made-up graphs, so that each is seen to fail); each layer keeps
// within its code-line budget; src/ imports no package; the formatter does what lint expects.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { format } from "../scripts/format.mjs";
import { importCycles, importGraph, LAYERS, layerOf, upwardImports } from "../scripts/layers.mjs";
import { codeLines, count } from "../scripts/lines.mjs";

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

describe("code-line budgets (scripts/lines.mjs)", () => {
  it("counts code, not blank lines or comments", () => {
    const text = ["// a comment", "", "const a = 1; // trailing", "/* block", "   still block */", "/** doc */ const b = 2;", "  /* one line */", "}"].join("\n");
    expect(codeLines(text)).toBe(3);
  });

  it("every layer is within its budget (README Layout)", () => {
    for (const r of count()) expect(r.lines, r.name).toBeLessThanOrEqual(r.budget);
  });
});

describe("what src/ imports from outside", () => {
  it("only node: built-ins and the package's dependencies (none: the shipped code imports no package)", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const allowed = Object.keys(pkg.dependencies ?? {});
    const bad: string[] = [];
    for (const f of graph.keys()) {
      const text = readFileSync(new URL(`../${f}`, import.meta.url), "utf8");
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^."'][^"']*)["']/gm)) {
        if (!m[1]!.startsWith("node:") && !allowed.includes(m[1]!)) bad.push(`${f}: ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
    expect(allowed).toEqual([]);
  });
});

describe("the formatter (scripts/format.mjs)", () => {
  it("re-indents and re-spaces TypeScript and AssemblyScript, and leaves formatted text alone", () => {
    expect(format("a.ts", "function f( a:number ){\n    return a+1\n}")).toBe("function f(a: number) {\n  return a + 1\n}\n");
    const as = "// @ts-ignore: decorator\n@inline\nexport function g(x: f32): f32 {\n  return <f32>1.0 + x;\n}\n";
    expect(format("b.ts", as)).toBe(as);
  });
});
