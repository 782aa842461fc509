// `npm run demo:web`: the Vite page trains the seed notebook live in Chromium with the Node demo's
// Vega-Lite figures, ARI and NMI every epoch and the notebook's early stopping, cross-origin
// isolated; Stop cancels; a screenshot is saved to figures/web-demo.png.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNotebook } from "../demo/notebook.js";
import { launchChromium } from "./chromium.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
let server: ViteDevServer;
let browser: Browser;

async function open(query = ""): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1680, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.resolvedUrls!.local[0]!}${query}`);
  return { page, errors };
}

const epochOf = async (page: Page) => Number((await page.getAttribute("body", "data-epoch")) ?? 0);
const waitEpoch = (page: Page, n: number) => page.waitForFunction((n) => Number(document.body.dataset.epoch ?? 0) >= n, n, { timeout: 60_000 });
const svg = (page: Page, id: string) => page.evaluate((id) => document.querySelector(`#${id} svg`)?.outerHTML ?? "", id);

/** The points of each line mark in an SVG figure (Vega draws a line as one path "Mx,yLx,y..."). */
function linePoints(markup: string): number[] {
  return [...markup.matchAll(/<path[^>]*aria-roledescription="line mark"[^>]*\sd="([^"]+)"/g)].map((m) => m[1]!.split(/[ML]/).filter(Boolean).length);
}

/** Each axis's tick labels as numbers, ascending (a live view's DOM keeps them in no set order). */
function axisTicks(markup: string): number[][] {
  return [...markup.matchAll(/class="mark-text role-axis-label"[^>]*>([\s\S]*?)<\/g>/g)].map((g) =>
    [...g[1]!.matchAll(/>([^<]+)<\/text>/g)].map((m) => Number(m[1]!.replace(/,/g, "").replace("\u2212", "-"))).sort((p, q) => p - q),
  );
}

/** Ticks a reader can read: evenly spaced by 1, 2, 2.5 or 5 times a power of ten, each a multiple of it. */
function expectNiceTicks(ticks: number[]): void {
  expect(ticks.length, String(ticks)).toBeGreaterThanOrEqual(3);
  const step = ticks[1]! - ticks[0]!;
  const unit = 10 ** Math.floor(Math.log10(Math.abs(step)));
  expect([1, 2, 2.5, 5].some((m) => Math.abs(Math.abs(step) / unit - m) < 1e-9), `step ${step} in ${ticks}`).toBe(true);
  for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBeCloseTo(step, 9);
  for (const t of ticks) expect(Math.abs(t / step - Math.round(t / step)), `${t} in ${ticks}`).toBeLessThan(1e-9);
}

describe("web demo", () => {
  beforeAll(async () => {
    // demo/web/vite.config.ts is found in the root, as `vite demo/web` finds it.
    server = await createServer({ root: `${ROOT}demo/web`, logLevel: "error", server: { host: "127.0.0.1", port: 0 } });
    await server.listen();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("stops early as the notebook does, with Node's epochs and scores, the Vega-Lite figures and live ARI/NMI; cross-origin isolated", async () => {
    // 1000 epochs: with patience 32 and min_delta 0.1 the notebook's settings stop seed 0 early.
    const node = await runNotebook({ seed: 0, epochs: 1000 });
    expect(node.history.stoppedEpoch).toBeDefined();
    const { page, errors } = await open("?seed=0&epochs=1000");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    // ARI and NMI are shown every epoch: they follow the epochs and match what the page displays.
    const seen: Array<{ epoch: number; ari: string }> = [];
    for (const at of [5, 15, 30]) {
      await waitEpoch(page, at);
      const { epoch, ari, nmi, shown } = await page.evaluate(() => ({
        epoch: Number(document.body.dataset.epoch),
        ari: document.body.dataset.ari!,
        nmi: document.body.dataset.nmi!,
        shown: document.getElementById("scores")!.textContent!,
      }));
      expect(shown).toContain(`ARI ${Number(ari).toFixed(3)}`);
      expect(shown).toContain(`NMI ${Number(nmi).toFixed(3)}`);
      seen.push({ epoch, ari });
    }
    expect(new Set(seen.map((s) => s.ari)).size).toBeGreaterThan(1);

    await page.waitForSelector("body[data-state=stopped-early], body[data-state=done], body[data-state=error]", { timeout: 120_000 });
    expect(await page.getAttribute("body", "data-state")).toBe("stopped-early");
    const ran = node.history.epoch.length;
    expect(await epochOf(page)).toBe(ran);
    expect(await page.textContent("#status")).toContain(`early stopping at epoch ${ran}: val_loss did not improve by more than 0.1 for 32 epochs`);
    // Bit-identical training in the worker: the page's score of the returned model is Node's.
    expect(Number(await page.getAttribute("body", "data-ari"))).toBe(node.ari);
    expect(Number(await page.getAttribute("body", "data-nmi"))).toBe(node.nmi);

    // The Node demo's figures: titled axes, a legend, and the loss curves ending where training stopped.
    const loss = await svg(page, "loss");
    for (const title of ["Epochs", "Negative log-likelihood loss", "train", "val"]) expect(loss).toContain(`>${title}<`);
    expect(linePoints(loss)).toEqual([ran, ran]);
    const test = await svg(page, "test");
    for (const title of ["test data", "x₁", "x₂", "argmax π"]) expect(test).toContain(`>${title}<`);
    expect(await svg(page, "train")).toContain(">true cluster<");
    // Ticks at round numbers (Vega's nice scales), not 3.47 or -0.0942; both axes of both live figures.
    for (const figure of [loss, test]) {
      const axes = axisTicks(figure);
      expect(axes.length).toBe(2);
      axes.forEach(expectNiceTicks);
    }

    mkdirSync(`${ROOT}figures`, { recursive: true });
    await page.screenshot({ path: `${ROOT}figures/web-demo.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("redraws the figures every epoch, and Stop cancels", async () => {
    const { page, errors } = await open();
    await waitEpoch(page, 10);
    const first = { epoch: await epochOf(page), loss: await svg(page, "loss"), test: await svg(page, "test") };
    await waitEpoch(page, first.epoch + 10);
    expect(await svg(page, "loss")).not.toBe(first.loss);
    expect(await svg(page, "test")).not.toBe(first.test);

    await page.click("#stop");
    await page.waitForSelector("body[data-state=stopped]", { timeout: 10_000 });
    const stoppedAt = await epochOf(page);
    expect(stoppedAt).toBeLessThan(128);
    await page.waitForTimeout(300);
    expect(await epochOf(page)).toBe(stoppedAt);
    expect(await page.textContent("#status")).toContain(`stopped after ${stoppedAt} epochs`);
    expect(errors).toEqual([]);
    await page.close();
  });
});
