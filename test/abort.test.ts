// Cancelling a fit on the page's own thread (Node and Chromium): an abort from a timer or any other
// task lands before the next batch, not at the epoch's end. Counted in batches (Adam steps read
// from the model's file header), never in time.
import { describe, expect, it } from "vitest";
import { inspectModel, MDN } from "../src/index.js";
import { IN_NODE, testRng } from "./util.js";

const CONFIG = { inputDim: 2, outputDim: 2, components: 3, hidden: [16, 16], seed: 2 };
const ROWS = 4096;
const BATCH = 16;
/** Batches per epoch: the most an abort at an epoch's end could lag behind. */
const BATCHES = ROWS / BATCH;

function data() {
  const r = testRng(9);
  const x = new Float32Array(ROWS * 2).map(() => 2 * r() - 1);
  const y = new Float32Array(ROWS * 2).map(() => 2 * r() - 1);
  return { x: { data: x, shape: [ROWS, 2] as [number, number] }, y: { data: y, shape: [ROWS, 2] as [number, number] } };
}

/** Batches the model has trained over its life (works during a fit). */
const steps = (m: MDN) => inspectModel(m.save()).training.steps;

/** Runs fn as a new task: queued now, run at the event loop's next turn (as a timer or a message would be). */
function nextTask(fn: () => void): void {
  if (IN_NODE) return void setImmediate(fn);
  const ch = new MessageChannel();
  ch.port1.onmessage = () => {
    ch.port1.close();
    fn();
  };
  ch.port2.postMessage(0);
}

/** Turns of the event loop taken while `work` runs: a task re-queued at each turn until it ends. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    nextTask(tick);
  };
  nextTask(tick);
  await work();
  done = true;
  return turns;
}

describe("abort on the main thread", () => {
  it("an abort from another task lands within one batch of it, mid-epoch", async () => {
    const m = await MDN.create(CONFIG);
    const { x, y } = data();
    const ac = new AbortController();
    const reason = new Error("stop");
    const run = m.fit(x, y, { epochs: 3, batchSize: BATCH, signal: ac.signal });
    // Armed once fit has started; the abort runs at fit's tenth turn of the event loop.
    let atAbort = -1;
    let turns = 0;
    const tick = () => {
      if (++turns < 10) return nextTask(tick);
      atAbort = steps(m);
      ac.abort(reason);
    };
    nextTask(tick);
    await expect(run).rejects.toBe(reason);
    // Before: the tasks waited for the epoch's end, so the abort came after all 256 batches.
    expect(atAbort).toBeGreaterThan(0);
    expect(atAbort).toBeLessThan(BATCHES);
    expect(steps(m) - atAbort).toBeLessThanOrEqual(1);
  });

  it("a timer's abort lands within one batch of the timer firing", async () => {
    const m = await MDN.create(CONFIG);
    const { x, y } = data();
    const ac = new AbortController();
    let atAbort = -1;
    const timer = setTimeout(() => {
      atAbort = steps(m);
      ac.abort(new Error("timeout"));
    }, 5);
    await expect(m.fit(x, y, { epochs: 1000, batchSize: BATCH, signal: ac.signal })).rejects.toThrow("timeout");
    clearTimeout(timer);
    expect(atAbort).toBeGreaterThanOrEqual(0);
    expect(steps(m) - atAbort).toBeLessThanOrEqual(1);
  });

  it('yieldEvery "batch" gives a turn after every batch without a signal; stopTraining still ends at the epoch', async () => {
    const m = await MDN.create(CONFIG);
    const { x, y } = data();
    const turns = await turnsDuring(() => m.fit(x, y, { epochs: 2, batchSize: BATCH, yieldEvery: "batch", onEpochEnd: () => void (m.stopTraining = true) }));
    expect(steps(m)).toBe(BATCHES);
    // Before: "batch" was rejected. A turn follows every batch but the last (fit returns there).
    expect(turns).toBeGreaterThanOrEqual(BATCHES - 1);
  });

  it("without a signal or per-batch turns an epoch runs in one piece (the allocation-free path)", async () => {
    const m = await MDN.create(CONFIG);
    const { x, y } = data();
    expect(await turnsDuring(() => m.fit(x, y, { epochs: 2, batchSize: BATCH, yieldEvery: "epoch" }))).toBeLessThanOrEqual(2);
  });
});
