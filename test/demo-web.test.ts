// `npm run demo:web`: the Vite page trains the seed model live in Chromium. The loss curve and the
// scatter redraw every epoch, Stop cancels, and a screenshot is saved to figures/web-demo.png.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
let server: ViteDevServer;
let browser: Browser;

describe("web demo", () => {
  beforeAll(async () => {
    server = await createServer({ root: `${ROOT}demo/web`, logLevel: "error", server: { host: "127.0.0.1", port: 0 } });
    await server.listen();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("trains live (curve and scatter redraw per epoch), Stop cancels, and a screenshot is saved", async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 600 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.resolvedUrls!.local[0]!);
    const epoch = async () => Number((await page.getAttribute("body", "data-epoch")) ?? 0);
    const pixels = (id: string) =>
      page.evaluate((id) => {
        const c = document.getElementById(id) as HTMLCanvasElement;
        return c.toDataURL();
      }, id);

    await page.waitForFunction(() => Number(document.body.dataset.epoch ?? 0) >= 10, undefined, { timeout: 60_000 });
    const first = { epoch: await epoch(), loss: await pixels("loss"), scatter: await pixels("scatter") };
    await page.waitForFunction((e) => Number(document.body.dataset.epoch) >= e + 10, first.epoch, { timeout: 60_000 });
    expect(await pixels("loss")).not.toBe(first.loss);
    expect(await pixels("scatter")).not.toBe(first.scatter);

    mkdirSync(`${ROOT}figures`, { recursive: true });
    await page.screenshot({ path: `${ROOT}figures/web-demo.png` });

    await page.click("#stop");
    await page.waitForSelector("body[data-state=stopped]", { timeout: 10_000 });
    const stoppedAt = await epoch();
    expect(stoppedAt).toBeLessThan(128);
    await page.waitForTimeout(300);
    expect(await epoch()).toBe(stoppedAt);
    expect(errors).toEqual([]);
    await page.close();
  });
});
