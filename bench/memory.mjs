// Memory checks, run by bench/run.mjs, each in a fresh process.
//
// `node --expose-gc bench/memory.mjs heap`: 100 epochs of the seed's fit. At the end of every epoch:
// heapUsed before a forced GC (what the epoch allocated on top of the last post-GC heap) and after
// it (what is retained). Nothing is retained per epoch, so the heap after GC stays flat.
//
// `node --max-semi-space-size=1 --min-semi-space-size=1 bench/memory.mjs scav <batch> <models>`:
// allocation per batch, by counting scavenges. With a 1 MiB young generation V8 scavenges each time
// about 1 MiB has been allocated; run.mjs runs the same 1,000 epochs at batch 128 and at batch 4
// (32x the batches), and the extra scavenges bound what a batch allocates ((extra + 1) MiB / extra
// batches) while the epochs' own bookkeeping cancels out. With <models> = 2 another model is
// trained first, so every kernel call site has seen two wasm instances (V8 then stops inlining
// the calls, and would box any double argument: the step passes integers only).
import { PerformanceObserver, constants } from "node:perf_hooks";
import { MDN } from "../dist/index.js";
import { seedData, SEED } from "./e2e/workloads.mjs";

const d = seedData();
const X = { data: d.x, shape: [SEED.rows, 2] };
const Y = { data: d.y, shape: [SEED.rows, 2] };
const create = () => MDN.create({
  inputDim: 2, outputDim: 2, components: 4, seed: 0,
  hidden: SEED.hidden.map((units) => ({ units, activation: "relu", dropout: 0.2, batchNorm: true })),
});
const [mode, batchArg, modelsArg] = process.argv.slice(2);

if (mode === "heap") {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  const model = await create();
  const after = [];
  const grew = [];
  let last = 0;
  const EPOCHS = 100;
  const batches = Math.ceil((SEED.rows * (1 - SEED.fit.validationSplit)) / SEED.fit.batchSize);
  await model.fit(X, Y, {
    epochs: EPOCHS, batchSize: SEED.fit.batchSize, validationSplit: SEED.fit.validationSplit,
    onEpochEnd: () => {
      const before = process.memoryUsage().heapUsed;
      globalThis.gc();
      const now = process.memoryUsage().heapUsed;
      if (last) grew.push(before - last);
      after.push(now);
      last = now;
    },
  });
  const mid = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(JSON.stringify({
    epochs: EPOCHS,
    batchesPerEpoch: batches,
    heapAfterGc: { epoch1: after[0], epoch10: after[9], epoch50: after[49], epoch100: after[99] },
    retainedGrowthBytes: after[99] - after[9],
    allocatedPerEpochBytes: { median: mid(grew), min: Math.min(...grew), max: Math.max(...grew) },
  }));
} else if (mode === "scav") {
  const batchSize = Number(batchArg);
  const EPOCHS = 1000;
  if (Number(modelsArg) > 1) await (await create()).fit(X, Y, { epochs: 20, batchSize: 7 });
  const model = await create();
  await model.fit(X, Y, { epochs: 2, batchSize }); // optimised code first
  let minor = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  obs.observe({ entryTypes: ["gc"] });
  await new Promise((r) => setTimeout(r, 20));
  const before = minor;
  await model.fit(X, Y, { epochs: EPOCHS, batchSize });
  await new Promise((r) => setTimeout(r, 50)); // gc entries arrive asynchronously
  obs.disconnect();
  console.log(JSON.stringify({ epochs: EPOCHS, batchSize, batches: EPOCHS * Math.ceil(SEED.rows / batchSize), scavenges: minor - before }));
} else {
  throw new Error("usage: memory.mjs heap | scav <batch> <models>");
}
