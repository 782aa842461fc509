// `npm run demo:web` (vite demo/web). The page is cross-origin isolated (COOP + COEP), as a
// SharedArrayBuffer needs: the demo does not use one yet, but training on several threads will.
import { defineConfig } from "vite";

const ISOLATED = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  server: { headers: ISOLATED },
  preview: { headers: ISOLATED },
  worker: { format: "es" },
});
