// Memory check, run by bench/run.mjs as `node --expose-gc bench/memory.mjs`: 100 epochs of the
// seed's fit. At the end of every epoch: heapUsed before a forced GC (what the epoch allocated on
// top of the last post-GC heap) and after it (what is retained). The training loop should
// allocate nothing per batch, so both stay flat across epochs.
import { MDN } from "../dist/index.js";
import { seedData, SEED } from "./e2e/workloads.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const d = seedData();
const model = await MDN.create({
  inputDim: 2, outputDim: 2, components: 4, seed: 0,
  hidden: SEED.hidden.map((units) => ({ units, activation: "relu", dropout: 0.2, batchNorm: true })),
});
const after = [];
const grew = [];
let last = 0;
const EPOCHS = 100;
const batches = Math.ceil((SEED.rows * (1 - SEED.fit.validationSplit)) / SEED.fit.batchSize);
await model.fit({ data: d.x, shape: [SEED.rows, 2] }, { data: d.y, shape: [SEED.rows, 2] }, {
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

// Allocation per batch, by counting scavenges: run with a 1 MiB young generation
// (--max-semi-space-size=1, see bench/run.mjs), V8 scavenges each time about 1 MiB has been
// allocated. Two fits of the same epochs, one with 32x the batches: the extra scavenges bound what
// a batch allocates ((extra + 1) MiB / extra batches), the epochs' own bookkeeping cancels out.
const { PerformanceObserver, constants } = await import("node:perf_hooks");
let minor = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
});
obs.observe({ entryTypes: ["gc"] });
async function countScavenges(batchSize, epochs) {
  const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 4, seed: 0, hidden: SEED.hidden.map((units) => ({ units, activation: "relu", dropout: 0.2, batchNorm: true })) });
  await m.fit({ data: d.x, shape: [SEED.rows, 2] }, { data: d.y, shape: [SEED.rows, 2] }, { epochs: 2, batchSize }); // optimise first
  await new Promise((r) => setTimeout(r, 50));
  const before = minor;
  await m.fit({ data: d.x, shape: [SEED.rows, 2] }, { data: d.y, shape: [SEED.rows, 2] }, { epochs, batchSize });
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
  m.dispose();
  return { batches: epochs * Math.ceil(SEED.rows / batchSize), scavenges: minor - before };
}
const SCAV_EPOCHS = 1000;
const order = process.env.ORDER === "many-first";
const many0 = order ? await countScavenges(4, SCAV_EPOCHS) : null;
const few = await countScavenges(128, SCAV_EPOCHS);
const many = many0 ?? await countScavenges(4, SCAV_EPOCHS);
obs.disconnect();
const extraBatches = many.batches - few.batches;
const extraScavenges = Math.max(0, many.scavenges - few.scavenges);
console.log(JSON.stringify({
  epochs: EPOCHS,
  batchesPerEpoch: batches,
  heapAfterGc: { epoch1: after[0], epoch10: after[9], epoch50: after[49], epoch100: after[99] },
  retainedGrowthBytes: after[99] - after[9],
  allocatedPerEpochBytes: { median: mid(grew), min: Math.min(...grew), max: Math.max(...grew) },
  scavenges: { semiSpaceMiB: 1, epochs: SCAV_EPOCHS, few, many, perBatchBoundBytes: ((extraScavenges + 1) * 1048576) / extraBatches },
}));
