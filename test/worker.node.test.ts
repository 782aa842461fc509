// trainInWorker / serveTraining with Node's worker_threads: a Worker and parentPort directly (no
// adapter code in the app). The worker scripts run the built dist/ (Node runs no TypeScript).
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { MDN, MdnError } from "../src/index.js";
import { trainInWorker, type TrainRequest, WorkerError } from "../src/worker.js";
import { abortAtBatch20, farFromUnitScale } from "./worker-util.js";

const CONFIG = { inputDim: 2, outputDim: 2, components: 3, hidden: [16, 16], seed: 2 };
const live: Worker[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((w) => w.terminate()));
});

function spawn(script: string, workerData?: unknown): Worker {
  const w = new Worker(new URL(`./fixtures/${script}`, import.meta.url), { workerData });
  live.push(w);
  return w;
}

function request(rows: number, fit: TrainRequest["fit"], config: TrainRequest["config"] = CONFIG): TrainRequest {
  return { config, ...farFromUnitScale(rows, config.inputDim, config.outputDim, 4), fit };
}

/** Listeners trainInWorker may add to a Node Worker. */
const listeners = (w: Worker) => ["message", "error", "messageerror", "exit"].map((e) => w.listenerCount(e)).reduce((a, b) => a + b);

describe("trainInWorker with worker_threads", () => {
  it("takes a Worker and parentPort directly and hands back the whole model (normalize: true, bit-identical to this thread)", async () => {
    // Before: a worker_threads Worker has no addEventListener, so trainInWorker threw a TypeError.
    const config = { ...CONFIG, normalize: true };
    const req = request(512, { epochs: 3, batchSize: 32, validationSplit: 0.25 }, config);
    const epochs: number[] = [];
    const { model, history } = await trainInWorker(spawn("serve.worker.mjs"), req, { onEpochEnd: (r) => epochs.push(r.epoch) });
    expect(epochs).toEqual([0, 1, 2]);
    const here = await MDN.create(config);
    expect(history).toEqual(await here.fit(req.x, req.y, req.fit));
    const probe = farFromUnitScale(64, 2, 2, 5).x;
    expect(Array.from(model.predict(probe).mu)).toEqual(Array.from(here.predict(probe).mu));
    expect(model.save()).toEqual(here.save());
  });

  it("a bad request rejects with the worker's MdnError, code and argument intact", async () => {
    const err = await trainInWorker(spawn("serve.worker.mjs"), request(16, { epochs: 1 }, { ...CONFIG, components: 0 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MdnError);
    expect(err).toMatchObject({ code: "INVALID_CONFIG", argument: "config.components" });
  });

  it("an abort lands before the worker's next batch once the cancel has reached it", async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const w = spawn("probe.worker.mjs", { flag: flag.buffer });
    const reports: Array<{ flagSeen: boolean }> = [];
    w.on("message", (m: { type?: string; report?: { flagSeen: boolean } }) => void (m.type === "batch" && reports.push(m.report!)));
    expect(await abortAtBatch20(w, request(8192, { epochs: 3, batchSize: 16 }), flag)).toMatchObject({ message: "user pressed stop" });
    // Before: no batch reports; and the cancel was read only at the epoch's end (512 batches).
    expect(reports.length).toBeGreaterThanOrEqual(21);
    expect(reports.filter((r) => r.flagSeen).length).toBeLessThanOrEqual(1);
    // The worker is free again.
    expect((await trainInWorker(w, request(32, { epochs: 1 }))).history.epoch).toEqual([0]);
  });

  it("an uncaught error in the worker, at start or mid-run, rejects WORKER_ERROR with the worker's error", async () => {
    // Before: both left the promise pending forever.
    const atStart = await trainInWorker(spawn("throws.worker.mjs"), request(16, { epochs: 1 })).catch((e: unknown) => e);
    expect(atStart).toBeInstanceOf(WorkerError);
    expect(atStart).toMatchObject({ code: "WORKER_ERROR" });
    expect((atStart as Error).message).toContain("boom at start");
    expect(((atStart as Error).cause as Error).message).toBe("boom at start");

    const w = spawn("probe.worker.mjs");
    const midRun = await trainInWorker(w, request(512, { epochs: 1000, batchSize: 32 }), {
      onEpochEnd: ({ epoch }) => void (epoch === 1 && w.postMessage({ probe: "throw" })),
    }).catch((e: unknown) => e);
    expect(midRun).toBeInstanceOf(WorkerError);
    expect(midRun).toMatchObject({ code: "WORKER_ERROR" });
    expect((midRun as Error).message).toContain("boom mid-run");
    expect(listeners(w)).toBe(0);
  });

  it("a worker that exits or is terminated mid-run rejects WORKER_EXITED", async () => {
    const cases: Array<[string, (w: Worker) => unknown, string]> = [
      ["probe.worker.mjs", (w) => w.postMessage({ probe: "exit" }), "exited with code 3"],
      ["serve.worker.mjs", (w) => w.terminate(), "exited with code 1"],
    ];
    for (const [script, end, says] of cases) {
      const w = spawn(script);
      const err = await trainInWorker(w, request(512, { epochs: 1000, batchSize: 32 }), { onEpochEnd: ({ epoch }) => void (epoch === 1 && end(w)) }).catch((e: unknown) => e);
      expect(err, script).toBeInstanceOf(WorkerError);
      expect(err, script).toMatchObject({ code: "WORKER_EXITED" });
      expect((err as Error).message, script).toContain(says);
      expect(listeners(w), script).toBe(0);
    }
  });

  it("a worker that never calls serveTraining rejects WORKER_START_TIMEOUT after startTimeout", async () => {
    const w = spawn("idle.worker.mjs");
    const err = await trainInWorker(w, request(16, { epochs: 1 }), { startTimeout: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: "WORKER_START_TIMEOUT" });
    expect(listeners(w)).toBe(0);
  });

  it("a messageerror rejects WORKER_MESSAGE_ERROR", async () => {
    const w = spawn("serve.worker.mjs");
    const run = trainInWorker(w, request(512, { epochs: 1000, batchSize: 32 }), {
      // Node emits messageerror when a message cannot be deserialized; here the test emits it.
      onEpochEnd: ({ epoch }) => void (epoch === 0 && w.emit("messageerror", new Error("cannot deserialize"))),
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: "WORKER_MESSAGE_ERROR" });
    expect(((err as Error).cause as Error).message).toBe("cannot deserialize");
  });

  it("a request that cannot be cloned rejects INVALID_ARGUMENT and leaves no listener on the Worker", async () => {
    const w = spawn("serve.worker.mjs");
    const before = listeners(w);
    const req = { ...request(16, { epochs: 1 }), watch: { data: new Float32Array(2), shape: [1, 2], f: () => 0 } } as unknown as TrainRequest;
    const err = await trainInWorker(w, req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MdnError);
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", argument: "request.watch" });
    expect(listeners(w)).toBe(before);
  });
});
