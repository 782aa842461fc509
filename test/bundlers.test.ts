// The bundler matrix: the fixture app imports "mdn-wasm" from the tarball `npm pack` makes, is built
// by Vite, webpack 5, esbuild and Rollup with their default configuration, served from 127.0.0.1
// with a strict CSP, loaded in Chromium, trains and predicts. Every build gives the weights that
// the same code computes in Node.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as mdn from "../src/index.js";
import { type AppResult, trainAndPredict } from "./fixtures/app/src/train.js";
import { launchChromium, serveDir } from "./chromium.js";
import { hashWeights } from "./util.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// Inside the repository so that the bundlers (and mdn-wasm's own dependency) resolve from its node_modules.
const WORK = `${ROOT}.bundlers/`;
const APP = fileURLToPath(new URL("./fixtures/app/", import.meta.url));
const bin = (name: string) => `${ROOT}node_modules/.bin/${name}`;

const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

/** A page that loads the bundle the bundler wrote (Vite writes its own index.html). */
function page(dir: string, script: string): void {
  writeFileSync(`${dir}/index.html`, `<!doctype html><meta charset="utf-8"><pre id="out">training...</pre><script type="module" src="./${script}"></script>\n`);
}

const BUNDLERS: Record<string, (app: string) => string> = {
  vite(app) {
    execFileSync(bin("vite"), ["build", "--logLevel", "error"], { cwd: app });
    return `${app}dist`;
  },
  webpack(app) {
    execFileSync(bin("webpack"), ["--mode", "production"], { cwd: app, stdio: "pipe" });
    page(`${app}dist`, "main.js");
    return `${app}dist`;
  },
  esbuild(app) {
    execFileSync(bin("esbuild"), ["src/index.js", "--bundle", "--outfile=out/main.js", "--log-level=error"], { cwd: app });
    page(`${app}out`, "main.js");
    return `${app}out`;
  },
  rollup(app) {
    execFileSync(bin("rollup"), ["src/index.js", "-p", "@rollup/plugin-node-resolve", "-o", "out/main.js", "--silent"], { cwd: app });
    page(`${app}out`, "main.js");
    return `${app}out`;
  },
};

function weightsHash(r: AppResult): string {
  return hashWeights(r.weights.map((w) => ({ data: Float32Array.from(w) })));
}

async function runPage(url: string): Promise<AppResult> {
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on("pageerror", (e) => errors.push(e.message));
  try {
    await tab.goto(url);
    await tab.waitForSelector("body[data-result], body[data-error]", { timeout: 60_000 });
    const error = await tab.getAttribute("body", "data-error");
    if (error !== null) throw new Error(`${url}: ${error}`);
    expect(errors).toEqual([]);
    return JSON.parse((await tab.getAttribute("body", "data-result"))!);
  } finally {
    await tab.close();
  }
}

let browser: Browser;
const built = new Map<string, string>();
let nodeHash: string;

describe("bundlers", () => {
  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(`${WORK}node_modules/mdn-wasm`, { recursive: true });
    // Exactly what would be published: npm pack's tarball, unpacked as npm installs it.
    const [info] = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", WORK], { cwd: ROOT, encoding: "utf8" }));
    execFileSync("tar", ["-xzf", `${WORK}${info.filename}`, "-C", `${WORK}node_modules/mdn-wasm`, "--strip-components=1"]);
    for (const [name, build] of Object.entries(BUNDLERS)) {
      const app = `${WORK}${name}/`;
      cpSync(APP, app, { recursive: true });
      const t0 = performance.now();
      built.set(name, build(app));
      console.log(`${name}: built in ${(performance.now() - t0).toFixed(0)} ms; ${readdirSync(built.get(name)!, { recursive: true }).length} files`);
    }
    browser = await launchChromium();
    nodeHash = weightsHash(await trainAndPredict(mdn));
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const name of Object.keys(BUNDLERS)) {
    it(`${name}: the default build loads under a strict CSP, trains and predicts with Node's weights`, async () => {
      const server = await serveDir(built.get(name)!, { "content-security-policy": STRICT_CSP });
      try {
        const r = await runPage(server.url);
        expect(r.loss.at(-1)!).toBeLessThan(r.loss[0]!);
        expect(r.pi).toHaveLength(16);
        for (let row = 0; row < 4; row++) expect(r.pi.slice(4 * row, 4 * row + 4).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
        expect(weightsHash(r)).toBe(nodeHash);
      } finally {
        await server.close();
      }
    });
  }

  it("a CSP without 'wasm-unsafe-eval' blocks the compile: the CSP header is really enforced", async () => {
    const server = await serveDir(built.get("rollup")!, { "content-security-policy": "default-src 'self'; script-src 'self'" });
    try {
      await expect(runPage(server.url)).rejects.toThrow(/CompileError/);
    } finally {
      await server.close();
    }
  });
});
