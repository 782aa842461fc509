// The worker protocol in one thread (Node and Chromium): serveTraining on one end of a
// MessageChannel, trainInWorker on the other, or a fake worker whose events the test fires. Real
// workers: test/worker.node.test.ts (worker_threads) and test/worker.browser.test.ts.
import { describe, expect, it } from "vitest";
import { MDN, MdnError } from "../src/index.js";
import { serveTraining, trainInWorker, type TrainRequest, WorkerError, type WorkerPort } from "../src/worker.js";
import { IN_NODE } from "./util.js";
import { farFromUnitScale } from "./worker-util.js";

/** A worker the test plays: it records what it is sent and counts the listeners left on it. */
class FakeWorker extends EventTarget {
  posted: Array<{ type: string; id: string }> = [];
  listeners = 0;
  postMessage(message: unknown): void {
    structuredClone(message); // as a real port would
    this.posted.push(message as { type: string; id: string });
  }
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    this.listeners++;
    super.addEventListener(type, listener, options);
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    this.listeners--;
    super.removeEventListener(type, listener, options);
  }
  /** Answers the last train request as serveTraining would, then sends `message` for it. */
  reply(message: object): void {
    const id = this.posted.filter((m) => m.type === "train").at(-1)!.id;
    this.dispatchEvent(new MessageEvent("message", { data: { tag: "mdn-wasm/worker", id, ...message } }));
  }
}

const CONFIG = { inputDim: 2, outputDim: 2, components: 3, hidden: [16, 16], seed: 2 };

function request(rows: number, fit: TrainRequest["fit"], config: TrainRequest["config"] = CONFIG): TrainRequest {
  const { x, y } = farFromUnitScale(rows, config.inputDim, config.outputDim, 4);
  return { config, x, y, fit };
}

/** serveTraining on one end of a channel in this thread; trainInWorker talks to the other. */
function servedPair() {
  const ch = new MessageChannel();
  serveTraining(ch.port2 as unknown as WorkerPort);
  return { port: ch.port1, close: () => (ch.port1.close(), ch.port2.close()) };
}

describe("trainInWorker (protocol, in one thread)", () => {
  it("hands back the whole model: normalize: true on data far from unit scale predicts bit-identically to the same fit here", async () => {
    // Before: the result carried weights and config only; a model rebuilt from them had no statistics.
    const config = { ...CONFIG, normalize: true };
    const req = request(512, { epochs: 3, batchSize: 32, validationSplit: 0.25 }, config);
    const { port, close } = servedPair();
    const { model, history } = await trainInWorker(port as unknown as WorkerPort, req);
    close();
    const here = await MDN.create(config);
    const want = await here.fit(req.x, req.y, req.fit);
    expect(history).toEqual(want);
    expect(model.normalization).toEqual(here.normalization);
    const probe = farFromUnitScale(64, 2, 2, 5).x;
    expect(Array.from(model.predict(probe).mu)).toEqual(Array.from(here.predict(probe).mu));
    expect(Array.from(model.mean(probe))).toEqual(Array.from(here.mean(probe)));
    // Sane in original units: the predicted means sit among the targets (about 5e4), not near 0.
    for (const v of model.mean(probe)) expect(Math.abs(v - 5e4)).toBeLessThan(2e4);
    // The training state came too: continuing gives what continuing here gives.
    await model.fit(req.x, req.y, { ...req.fit, epochs: 4, initialEpoch: 3 });
    await here.fit(req.x, req.y, { ...req.fit, epochs: 4, initialEpoch: 3 });
    expect(model.save()).toEqual(here.save());
  });

  it("a cancel lands before the next batch once it reaches the serving side, within two turns of abort()", async () => {
    const ch = new MessageChannel();
    // Batches run on the serving side (its reports, counted as posted) when the cancel reaches it.
    let ran = 0;
    let ranAtCancel = -1;
    const post = ch.port2.postMessage.bind(ch.port2);
    (ch.port2 as { postMessage: (message: unknown, transfer?: Transferable[]) => void }).postMessage = (message, transfer) => {
      if ((message as { type?: string }).type === "batch") ran++;
      post(message, transfer ?? []);
    };
    ch.port2.addEventListener("message", (e) => void ((e as MessageEvent).data?.type === "cancel" && (ranAtCancel = ran)));
    serveTraining(ch.port2 as unknown as WorkerPort);
    const ac = new AbortController();
    const reason = new Error("stop");
    let ranAtAbort = -1;
    const run = trainInWorker(ch.port1 as unknown as WorkerPort, request(4096, { epochs: 2, batchSize: 16 }), {
      signal: ac.signal,
      onBatchEnd: ({ epoch, batch }) => {
        if (epoch !== 0 || batch !== 9) return;
        ranAtAbort = ran;
        ac.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    ch.port1.close();
    ch.port2.close();
    // Before: no batch reports; and the serving side let messages through only at an epoch's end
    // (256 batches), so neither the report of batch 9 nor the cancel could cross sooner.
    expect(ran - ranAtCancel).toBeLessThanOrEqual(1);
    // Each way takes one turn in Node; in Chromium a MessagePort message within one thread takes
    // two task hops. The serving side takes a turn after every batch, so messages cross this soon.
    expect(ranAtAbort - 10).toBeLessThanOrEqual(2);
    expect(ranAtCancel - ranAtAbort).toBeLessThanOrEqual(2);
  });

  it("a progress callback that throws rejects with its error and stops the worker", async () => {
    const { port, close } = servedPair();
    const oops = new Error("oops");
    // Before: the error escaped into the message event and the promise stayed pending.
    const last = new Promise((resolve) => port.addEventListener("message", (e) => void (["done", "cancelled"].includes((e as MessageEvent).data?.type) && resolve((e as MessageEvent).data.type))));
    const run = trainInWorker(port as unknown as WorkerPort, request(64, { epochs: 10_000, batchSize: 16 }), { onEpochEnd: () => { throw oops; } });
    await expect(run).rejects.toBe(oops);
    // The serving side was told to stop, and did: its last word is "cancelled", not "done".
    expect(await last).toBe("cancelled");
    close();
  });

  it("no acknowledgement within startTimeout rejects WORKER_START_TIMEOUT and leaves no listener", async () => {
    const w = new FakeWorker();
    const err = await trainInWorker(w, request(8, { epochs: 1 }), { startTimeout: 20 }).catch((e: unknown) => e);
    // Before: the promise never settled.
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: "WORKER_START_TIMEOUT" });
    expect((err as Error).message).toContain("serveTraining");
    expect(w.listeners).toBe(0);
    // The worker is told to stop, in case it was only slow.
    expect(w.posted.map((m) => m.type)).toEqual(["train", "cancel", "release"]);
  });

  it("an error or messageerror event rejects with a WorkerError carrying the worker's error", async () => {
    const boom = new Error("boom");
    for (const [event, code] of [
      [Object.assign(new Event("error"), { message: "Uncaught Error: boom", error: boom }), "WORKER_ERROR"],
      [new Event("messageerror"), "WORKER_MESSAGE_ERROR"],
    ] as const) {
      const w = new FakeWorker();
      const run = trainInWorker(w, request(8, { epochs: 1 })).catch((e: unknown) => e);
      w.reply({ type: "started", locked: false });
      w.dispatchEvent(event);
      const err = await run;
      // Before: both left the promise pending forever.
      expect(err, event.type).toBeInstanceOf(WorkerError);
      expect(err, event.type).toMatchObject({ code });
      if (code === "WORKER_ERROR") {
        expect((err as Error).message).toContain("boom");
        expect((err as Error).cause).toBe(boom);
      }
      expect(w.listeners, event.type).toBe(0);
    }
  });

  it("a request that cannot be cloned rejects with INVALID_ARGUMENT naming the field, posting nothing and leaving no listener", async () => {
    const w = new FakeWorker();
    const bad: Array<[TrainRequest, string]> = [
      [{ ...request(8, { epochs: 1 }), fit: { epochs: 1, onEpochEnd: () => { } } as TrainRequest["fit"] }, "request.fit"],
      [{ ...request(8, { epochs: 1 }), x: { data: new Float32Array(16), shape: [8, 2], toString: () => "" } as unknown as TrainRequest["x"] }, "request.x"],
    ];
    for (const [req, argument] of bad) {
      const err = await trainInWorker(w, req).catch((e: unknown) => e);
      expect(err, argument).toBeInstanceOf(MdnError);
      expect(err, argument).toMatchObject({ code: "INVALID_ARGUMENT", argument });
    }
    expect(w.posted).toEqual([]);
    expect(w.listeners).toBe(0);
  });

  it("rejects a bad worker, request or option with INVALID_ARGUMENT before posting", async () => {
    const w = new FakeWorker();
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => trainInWorker({} as WorkerPort, request(8, {})), "worker"],
      [() => trainInWorker(w, null as unknown as TrainRequest), "request"],
      [() => trainInWorker(w, request(8, {}), { startTimeout: 0 }), "options.startTimeout"],
      [() => trainInWorker(w, request(8, {}), { startTimeout: "1s" as unknown as number }), "options.startTimeout"],
      [() => trainInWorker(w, request(8, {}), { onBatchEnd: 1 as unknown as () => void }), "options.onBatchEnd"],
    ];
    for (const [call, argument] of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err, argument).toBeInstanceOf(MdnError);
      expect(err, argument).toMatchObject({ code: "INVALID_ARGUMENT", argument });
    }
    expect(w.posted).toEqual([]);
  });

  it("serveTraining() outside a worker, with no scope, names the argument and what to pass", () => {
    const err = (() => {
      try {
        serveTraining();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MdnError);
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", argument: "scope" });
    expect((err as Error).message).toContain(IN_NODE ? "parentPort" : "worker");
  });
});
