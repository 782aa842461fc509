// The examples as a user runs them: `npm pack`'s tarball installed into a scratch project
// (.examples/, with its own package.json so that "mdn-wasm" resolves to the installed package, not
// to this repository by self-reference), examples/ copied beside it, type-checked against the
// installed package's types, each program run (exit 0, and what it prints checked), the web example
// served by Vite and run in Chromium; the README blocks pasted into files of their own and run; and
// README.md's code blocks equal to the examples' regions (scripts/readme-examples.mjs).
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { createServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const EXAMPLES = join(ROOT, "examples");
const WORK = join(ROOT, ".examples");
const bin = (name: string) => join(ROOT, "node_modules/.bin", name);

// npx must find the installed bin, never fetch a package named mdn-wasm from the registry.
const ENV = { ...process.env, npm_config_yes: "false", npm_config_update_notifier: "false", FORCE_COLOR: "0", NO_COLOR: "1" };

function run(command: string, args: string[], cwd = WORK): SpawnSyncReturns<string> & { out: string } {
  const r = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", timeout: 60_000 });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${out}`);
  return { ...r, out };
}

/** The number after `label` in text, e.g. num("test ARI 0.953", /test ARI/) = 0.953. */
function num(text: string, label: RegExp): number {
  const m = new RegExp(`${label.source}\\s*(-?[\\d.]+(?:e[-+]?\\d+)?)`).exec(text);
  if (!m) throw new Error(`no ${label} in:\n${text}`);
  return Number(m[1]);
}

/** What each example must print: the claims its comments and the README make. */
const CHECKS: Record<string, (out: string) => void> = {
  "quick-start.mjs": (out) => {
    expect(out).toContain("Total params: 1,936");
    expect(num(out, /trained/)).toBeGreaterThan(0);
    expect(num(out, /test ARI/)).toBeGreaterThan(0.85);
    expect(num(out, /NMI/)).toBeGreaterThan(0.8);
    expect(num(out, /test NLL/)).toBeLessThan(0);
  },
  "regression-1d.mjs": (out) => {
    for (const size of [50, 100, 150]) {
      const m = new RegExp(`${size} m2: (\\d+) \\+- (\\d+) euros \\(true (\\d+) \\+- (\\d+)\\)`).exec(out)!;
      expect(m, `${size} m2`).not.toBeNull();
      const [mean, sd, trueMean, trueSd] = m.slice(1).map(Number) as [number, number, number, number];
      expect(Math.abs(mean - trueMean) / trueSd, `${size} m2 mean`).toBeLessThan(0.5);
      expect(Math.abs(sd / trueSd - 1), `${size} m2 sd`).toBeLessThan(0.25);
    }
    for (const level of [50, 80, 95]) expect(Math.abs(num(out, new RegExp(`${level}% interval holds`)) - level)).toBeLessThan(5);
  },
  "full-covariance.mjs": (out) => {
    const full = num(out, /full {4}: held-out NLL/);
    expect(full).toBeLessThan(num(out, /diagonal: held-out NLL/) - 0.3);
    expect(full).toBeGreaterThan(num(out, /the truth: NLL/) - 0.05); // no better than the truth, up to sampling
    expect(num(out, /full {4}: .*correlation/)).toBeGreaterThan(0.8);
  },
  "sampling-and-modes.mjs": (out) => {
    const modes = [...out.matchAll(/(\d\.\d+) \(density/g)].map((m) => Number(m[1]));
    for (const branch of [0.21, 0.79]) expect(modes.some((m) => Math.abs(m - branch) < 0.05), `a mode near ${branch}: ${modes}`).toBe(true);
    const counts = /(\d+) near 0\.21, (\d+) near 0\.5, (\d+) near 0\.79/.exec(out)!.slice(1).map(Number);
    for (const c of counts) expect(c).toBeGreaterThan(100);
    expect(num(out, /likeliest component's mean,/)).toBeCloseTo(modes[0]!, 1);
  },
  "save-and-load.mjs": (out) => {
    expect(out).toContain("loaded model predicts the same: true");
    expect(out).toContain("model.mdn loads back with the same bytes: true");
    expect(out).toContain("resumed equals straight through: true");
  },
  "node-worker/main.mjs": (out) => {
    expect(out).toMatch(/worker: epoch 0, loss/);
    expect(num(out, /trained/)).toBeGreaterThan(0);
    expect(num(out, /test ARI/)).toBeGreaterThan(0.85);
  },
  "onnx-export.mjs": (out) => {
    expect(out).toContain("onnxruntime outputs: pi [8, 4], mu [8, 4, 2], sigma [8, 4, 2, 2]");
    for (const name of ["pi", "mu", "sigma"]) expect(num(out, new RegExp(`${name}: largest difference from model.predict`))).toBeLessThan(1e-5);
  },
  "keras-import.mjs": (out) => {
    expect(out).toContain("mdn_sigma (Dense, softplus)");
    expect(num(out, /largest difference from Keras' predict over 16 rows:/)).toBeLessThan(1e-5);
    expect(num(out, /test ARI/)).toBeGreaterThan(0.3); // Keras' start, trained on here
  },
  "cli/run.sh": (out) => {
    expect(out).toContain("clusters.csv: 1024 rows");
    expect(num(out, /ARI/)).toBeGreaterThan(0.85);
    expect(out).toMatch(/wrote model\.onnx \(\d+ bytes, ONNX opset 17\)/);
    expect(out).toContain("Total params: 1,680");
    for (const f of ["model.mdn", "model.mdn.json", "means.csv", "samples.csv", "model.onnx"]) expect(existsSync(join(WORK, f)), f).toBe(true);
  },
};

/** Files that other examples run: the workers and the CSV maker. */
const RUN_BY_OTHERS = ["node-worker/train.worker.mjs", "web-worker/train.worker.js", "web-worker/index.html", "cli/make-csv.mjs"];
const WEB = ["web-worker/main.js"];

let browser: Browser | undefined;

describe("examples", () => {
  beforeAll(() => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK);
    writeFileSync(join(WORK, "package.json"), JSON.stringify({ name: "mdn-wasm-examples", private: true, type: "module" }));
    const [info] = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", WORK], ROOT).stdout);
    // As a user installs it (its dependencies come from npm's cache when it has them). Packages the
    // examples import besides mdn-wasm (onnxruntime-web, @tensorflow/*) resolve from this
    // repository's node_modules, one folder up.
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${info.filename}`]);
    cpSync(EXAMPLES, WORK, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("every example is run by this test", () => {
    const files = readdirSync(EXAMPLES, { recursive: true, encoding: "utf8" }).filter((f) => /\.(mjs|js|sh|html)$/.test(f));
    expect(files.sort()).toEqual([...Object.keys(CHECKS), ...RUN_BY_OTHERS, ...WEB].sort());
  });

  it("mdn-wasm resolves to the installed tarball, not to this repository", () => {
    const r = run("node", ["--input-type=module", "-e", 'console.log(import.meta.resolve("mdn-wasm"))']);
    expect(r.stdout.trim()).toBe(`file://${WORK}/node_modules/mdn-wasm/dist/index.js`);
  });

  it("the examples type-check against the installed package's types (tsc, checkJs, strict)", () => {
    run(bin("tsc"), ["-p", join(WORK, "tsconfig.json")]);
  });

  for (const [file, check] of Object.entries(CHECKS)) {
    it(`${file} runs and prints what it claims`, () => {
      const r = file.endsWith(".sh") ? run("sh", [file]) : run("node", [file]);
      check(r.out);
    });
  }

  it("web-worker/ trains in a module worker in Chromium (Vite dev server) and scores the model on the page", async () => {
    const server = await createServer({ root: join(WORK, "web-worker"), logLevel: "error", server: { host: "127.0.0.1", port: 0 } });
    await server.listen();
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.resolvedUrls!.local[0]!);
      await page.waitForFunction(() => /test ARI|stopped|failed/.test(document.querySelector("pre")?.textContent ?? ""), undefined, { timeout: 60_000 });
      const text = (await page.textContent("pre"))!;
      expect(text).toMatch(/^epoch 0: loss -?\d/);
      expect(num(text, /test ARI/)).toBeGreaterThan(0.85);
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("the README's blocks, pasted into files of their own, run (Node ones; the CLI's after the CSV block)", () => {
    const dir = join(WORK, "pasted");
    mkdirSync(dir, { recursive: true });
    const blocks = new Map([...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)].map((m) => [m[1]!, m[2]!]));
    const paste = (ref: string, name: string) => {
      expect(blocks.has(ref), ref).toBe(true);
      writeFileSync(join(dir, name), blocks.get(ref)!);
      return name;
    };
    CHECKS["quick-start.mjs"]!(run("node", [paste("examples/quick-start.mjs#use", "use.mjs")], dir).out);
    CHECKS["save-and-load.mjs"]!(run("node", [paste("examples/save-and-load.mjs#save", "save.mjs")], dir).out);
    CHECKS["onnx-export.mjs"]!(run("node", [paste("examples/onnx-export.mjs#onnx", "onnx.mjs")], dir).out);
    expect(run("node", [paste("examples/cli/make-csv.mjs#csv", "csv.mjs")], dir).out).toContain("clusters.csv: 1024 rows");
    const cli = run("sh", ["-eu", paste("examples/cli/run.sh#cli", "cli.sh")], dir).out;
    expect(num(cli, /ARI/)).toBeGreaterThan(0.85);
  });
});

describe("README code blocks", () => {
  const script = join(ROOT, "scripts/readme-examples.mjs");

  it("equal the examples' regions (node scripts/readme-examples.mjs rewrites them)", () => {
    expect(run("node", [script, "--check"], ROOT).stdout).toMatch(/README\.md: \d+ code blocks match the examples/);
  });

  it("the check fails, naming the block, when one line of a block differs", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const copy = join(mkdtempSync(join(tmpdir(), "mdn-readme-")), "README.md");
    writeFileSync(copy, readme.replace("const stop = new AbortController(); // stop.abort() ends", "const stop = new AbortController(); // ends"));
    try {
      const r = spawnSync("node", [script, "--check", "--readme", copy], { cwd: ROOT, encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("examples/quick-start.mjs#use");
    } finally {
      rmSync(copy);
    }
  });
});
