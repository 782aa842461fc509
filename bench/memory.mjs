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
console.log(JSON.stringify({
  epochs: EPOCHS,
  batchesPerEpoch: batches,
  heapAfterGc: { epoch1: after[0], epoch10: after[9], epoch50: after[49], epoch100: after[99] },
  retainedGrowthBytes: after[99] - after[9],
  allocatedPerEpochBytes: { median: mid(grew), min: Math.min(...grew), max: Math.max(...grew) },
}));
