// What a user of the published package gets besides the code: the licence, the changelog, the
// metadata npm shows, the README's figure, declarations for the public API only (nothing of the
// CLI or the kernels), types that @arethetypeswrong/cli finds right, and a lock file whose every
// package runs on the Node versions the package claims.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
let files: Set<string>;

/** The "types" files package.json's entries name, relative to the package root. */
function entryTypes(): string[] {
  const found = new Set<string>();
  const visit = (node: unknown, isTypes: boolean): void => {
    if (typeof node === "string") {
      if (isTypes) found.add(node.replace(/^\.\//, ""));
    } else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) visit(value, key === "types");
    }
  };
  visit(pkg.types, true);
  visit(pkg.exports, false);
  return [...found];
}

/**
 * Every top-level declaration in the shipped .d.ts files that no entry's exports reach, following
 * each reached declaration's type references (through imports and re-exports) to their declarations.
 */
function unreachableDeclarations(dts: string[]): string[] {
  const program = ts.createProgram(dts.map((f) => join(ROOT, f)), { noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const shipped = new Set(dts.map((f) => join(ROOT, f)));
  const reached = new Set<ts.Node>();
  const queue: ts.Node[] = [];
  const reach = (symbol: ts.Symbol | undefined) => {
    if (!symbol) return;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const d of symbol.declarations ?? []) {
      if (!shipped.has(d.getSourceFile().fileName) || reached.has(d)) continue;
      reached.add(d);
      queue.push(d);
    }
  };
  for (const entry of entryTypes()) {
    const source = program.getSourceFile(join(ROOT, entry))!;
    for (const s of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) reach(s);
  }
  while (queue.length) {
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) reach(checker.getSymbolAtLocation(node));
      ts.forEachChild(node, visit);
    };
    visit(queue.pop()!);
  }
  const unreached: string[] = [];
  for (const f of dts) {
    for (const statement of program.getSourceFile(join(ROOT, f))!.statements) {
      if (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) continue;
      const named = ts.isVariableStatement(statement) ? statement.declarationList.declarations : [statement];
      for (const d of named) {
        const name = (d as ts.NamedDeclaration).name?.getText() ?? "?";
        if (!reached.has(d)) unreached.push(`${f}: ${name}`);
      }
    }
  }
  return unreached;
}

describe("package basics", () => {
  beforeAll(() => {
    const [info] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" }));
    files = new Set(info.files.map((f: { path: string }) => f.path));
  });

  it("ships an MIT LICENSE naming the contributors and 2026, as package.json says", () => {
    expect(pkg.license).toBe("MIT");
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 mdn-wasm contributors\n/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
    expect(files.has("LICENSE")).toBe(true);
  });

  it("ships CHANGELOG.md with an Unreleased section and the package's version", () => {
    const changelog = readFileSync(join(ROOT, "CHANGELOG.md"), "utf8");
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(new RegExp(`^## \\[${pkg.version.replace(/\./g, "\\.")}\\] - \\d{4}-\\d{2}-\\d{2}$`, "m"));
    expect(files.has("CHANGELOG.md")).toBe(true);
  });

  it("has repository, homepage, bugs and keywords for npm's page", () => {
    expect(pkg.repository).toMatchObject({ type: "git", url: expect.stringMatching(/^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/) });
    const web = pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(pkg.homepage).toBe(`${web}#readme`);
    expect(pkg.bugs).toEqual({ url: `${web}/issues` });
    expect(pkg.keywords.length).toBeGreaterThanOrEqual(5);
  });

  it("every image README.md shows by a relative path is in the tarball", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)|<img [^>]*src="([^"]+)"/g)].map((m) => m[1] ?? m[2]!).filter((src) => !/^[a-z]+:/i.test(src));
    expect(images).toContain("docs/mdn_test_data.svg");
    for (const src of images) expect(files.has(src.replace(/^\.\//, "")), src).toBe(true);
  });

  it("ships declarations only for the public API: every declaration in every .d.ts is reached from an entry's exports", () => {
    const dts = [...files].filter((f) => f.endsWith(".d.ts")).sort();
    for (const entry of entryTypes()) expect(dts, entry).toContain(entry);
    expect(dts.filter((f) => f.startsWith("dist/cli/"))).toEqual([]);
    expect(unreachableDeclarations(dts)).toEqual([]);
  });

  it("@arethetypeswrong/cli --pack --profile esm-only finds no problem (npm run attw)", () => {
    const r = spawnSync("npm", ["run", "-s", "attw", "--", "--format", "ascii"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).toBe(0);
    // Each entry was analysed (the raw wasm is an asset, not a module: npm run attw leaves it out).
    for (const key of Object.keys(pkg.exports)) {
      if (key === "./mdn.wasm") continue;
      expect(out, key).toContain(`"${key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`}"`);
    }
  });

  it("every package in package-lock.json supports the Node versions package.json's engines allow", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refused = Object.entries<{ version: string; engines?: { node?: string } }>(lock.packages)
      .filter(([, p]) => p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path}@${p.version} needs node ${p.engines!.node}`);
    expect(refused).toEqual([]);
  });

  it("devDependencies and dependencies are pinned to exact versions", () => {
    for (const [name, range] of Object.entries<string>({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(semver.valid(range), `${name} ${range}`).not.toBeNull();
    }
  });
});
