import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./test/chromium.js";

// The same test files run in Node and in headless Chromium (Debian's /usr/bin/chromium; playwright
// never downloads a browser here). Files that need Node (fs, child processes, bundlers) stay in
// the node project; *.browser.test.ts files need a page (workers, timers) and run in Chromium only.
const SHARED = [
  "test/model.test.ts",
  "test/errors.test.ts",
  "test/metrics.test.ts",
  "test/seed-task.test.ts",
  "test/cross-engine.test.ts",
  "test/io-cross-engine.test.ts",
  "test/wasm-source.test.ts",
  "test/dense.test.ts",
  "test/mixture.test.ts",
  "test/mixture_diag.test.ts",
  "test/mixture_full.test.ts",
  "test/init.test.ts",
  "test/pool.test.ts",
  "test/golden.test.ts",
  "test/subnormal.test.ts",
  "test/abort.test.ts",
  "test/worker.test.ts",
  "test/options.test.ts",
  "test/config.test.ts",
  "test/setweights.test.ts",
  "test/nonfinite.test.ts",
  "test/limits.test.ts",
];

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ["./test/global-setup.ts"],
    projects: [
      {
        extends: true,
        test: { name: "node", include: ["test/**/*.test.ts"], exclude: ["test/**/*.browser.test.ts"] },
      },
      {
        extends: true,
        // Cross-origin isolated, so that a worker test can share a SharedArrayBuffer flag with its
        // worker and count batches across threads (test/worker.browser.test.ts); the library
        // itself uses no SharedArrayBuffer.
        server: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } },
        test: {
          name: "chromium",
          include: [...SHARED, "test/**/*.browser.test.ts"],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS } }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
