// Shared by the worker tests (in one thread, worker_threads and Chromium): data far from unit
// scale, where a model that lost its normalisation predicts nonsense.
import type { MatrixLike } from "../src/index.js";
import { type NodeWorkerPort, trainInWorker, type TrainRequest, type WorkerPort } from "../src/worker.js";
import { testRng } from "./util.js";

/**
 * Rows with inputs near 1000 (spread 100) and targets near 5e4 (two branches 4e3 apart, spread
 * 300): Old-Faithful-like data in units where an unstandardised MDN starts far from the data.
 */
export function farFromUnitScale(rows: number, I: number, D: number, seed: number): { x: MatrixLike; y: MatrixLike } {
  const r = testRng(seed);
  const x = new Float32Array(rows * I);
  const y = new Float32Array(rows * D);
  for (let n = 0; n < rows; n++) {
    for (let i = 0; i < I; i++) x[n * I + i] = 1000 + 100 * (2 * r() - 1);
    const branch = x[n * I]! > 1000 ? 1 : -1;
    for (let d = 0; d < D; d++) y[n * D + d] = 5e4 + 2e3 * branch * (r() < 0.8 ? 1 : -1) + 300 * (2 * r() - 1);
  }
  return { x: { data: x, shape: [rows, I] }, y: { data: y, shape: [rows, D] } };
}

/**
 * Trains in `worker` and aborts from onBatchEnd at batch 20 of epoch 0, raising `flag` right after
 * abort() has posted the cancel: from then on the cancel waits in the worker's queue, so a batch
 * report that saw the flag up (the probe workers add flagSeen) ran after the cancel had arrived.
 * Resolves to what the run rejected with.
 */
export function abortAtBatch20(worker: WorkerPort | NodeWorkerPort, request: TrainRequest, flag: Int32Array): Promise<unknown> {
  const ac = new AbortController();
  const onBatchEnd = ({ epoch, batch }: { epoch: number; batch: number }) => {
    if (epoch !== 0 || batch !== 20) return;
    ac.abort(new Error("user pressed stop"));
    Atomics.store(flag, 0, 1);
  };
  return trainInWorker(worker, request, { signal: ac.signal, onBatchEnd }).then(() => new Error("resolved"), (e: unknown) => e);
}
