// What a turn of the event loop after every batch costs (fit with a signal, yieldEvery "auto"):
// the same fit with and without a signal, interleaved A/B rounds, in Node and in Chromium (page
// and module worker see the same mechanism: setImmediate in Node, a MessageChannel task in
// browsers). Needs `npm run build`. Prints one line per engine and workload:
//   node bench/yield.mjs [--rounds 15] [--no-chromium]
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf("--rounds") + 1] || 15);
const root = fileURLToPath(new URL("..", import.meta.url));

// Runs in Node and, as source text, in the page: no imports, MDN passed in.
async function measureIn(MDN, rounds) {
  const workloads = [
    { name: "seed model [32, 32] K=4, batch 128", config: { inputDim: 2, outputDim: 2, components: 4, seed: 0, hidden: [32, 32].map((units) => ({ units, activation: "relu", dropout: 0.2, batchNorm: true })) }, rows: 8192, batch: 128, epochs: 2 },
    { name: "tiny [8] K=2, batch 16", config: { inputDim: 2, outputDim: 1, components: 2, seed: 0, hidden: [8] }, rows: 8192, batch: 16, epochs: 2 },
  ];
  const out = [];
  for (const w of workloads) {
    let s = 1;
    const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const x = { data: new Float32Array(w.rows * w.config.inputDim).map(rnd), shape: [w.rows, w.config.inputDim] };
    const y = { data: new Float32Array(w.rows * w.config.outputDim).map(rnd), shape: [w.rows, w.config.outputDim] };
    const batches = Math.ceil(w.rows / w.batch) * w.epochs;
    const model = await MDN.create(w.config);
    const fit = async (signal) => {
      const t0 = performance.now();
      await model.fit(x, y, { epochs: w.epochs, batchSize: w.batch, signal, yieldEvery: signal ? "auto" : "never" });
      return performance.now() - t0;
    };
    await fit();
    await fit(new AbortController().signal);
    const plain = [];
    const turns = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first so neither always follows the other.
      if (r % 2) turns.push(await fit(new AbortController().signal)), plain.push(await fit());
      else plain.push(await fit()), turns.push(await fit(new AbortController().signal));
    }
    const sorted = (a) => [...a].sort((p, q) => p - q);
    const med = (a) => sorted(a)[a.length >> 1];
    const diffs = sorted(turns.map((t, i) => ((t - plain[i]) / batches) * 1000));
    out.push({
      workload: w.name,
      batchUs: (med(plain) / batches) * 1000,
      turnUs: med(diffs),
      turnUsRange: [diffs[Math.floor(diffs.length * 0.25)], diffs[Math.floor(diffs.length * 0.75)]],
    });
    model.dispose();
  }
  return out;
}

function show(engine, rows) {
  for (const r of rows) {
    const pct = (100 * r.turnUs) / r.batchUs;
    console.log(`${engine}: ${r.workload}: batch ${r.batchUs.toFixed(1)} us, turn +${r.turnUs.toFixed(1)} us (IQR ${r.turnUsRange.map((v) => v.toFixed(1)).join(" to ")}) = ${pct.toFixed(1)}%`);
  }
}

const { MDN } = await import("../dist/index.js");
show("node", await measureIn(MDN, rounds));

if (!args.includes("--no-chromium")) {
  // The page and a module worker import one esbuild bundle of the default entry.
  const { build } = await import("esbuild");
  const bundle = (await build({ entryPoints: [join(root, "dist/index.js")], bundle: true, format: "esm", platform: "browser", write: false })).outputFiles[0].text;
  const worker = `import { MDN } from "/bundle.js"; const measureIn = ${measureIn}; onmessage = async (e) => postMessage(await measureIn(MDN, e.data));`;
  const files = { "/": ["text/html", "<!doctype html><title>yield</title>"], "/bundle.js": ["text/javascript", bundle], "/worker.js": ["text/javascript", worker] };
  const server = createServer((req, res) => {
    const [type, body] = files[new URL(req.url, "http://x").pathname] ?? [];
    if (!type) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": type }).end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const src = measureIn.toString();
    show("chromium page", await page.evaluate(async ([src, rounds]) => (0, eval)(`(${src})`)((await import("/bundle.js")).MDN, rounds), [src, rounds]));
    show("chromium worker", await page.evaluate((rounds) => {
      const w = new Worker("/worker.js", { type: "module" });
      return new Promise((resolve) => {
        w.onmessage = (e) => resolve(e.data);
        w.postMessage(rounds);
      });
    }, rounds));
  } finally {
    await browser.close();
    server.close();
  }
}
