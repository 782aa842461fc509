// Training in a worker ("mdn-wasm/worker"): the calling thread posts a request, gets progress per
// epoch (and per batch if asked) and at the end the whole trained model; an AbortSignal cancels.
// The worker side is one call, in a module worker or a Node worker_threads script:
//
//   // train.worker.ts
//   import { serveTraining } from "mdn-wasm/worker";
//   serveTraining();                       // Node: serveTraining(parentPort)
//
//   // main thread
//   const worker = new Worker(new URL("./train.worker.ts", import.meta.url), { type: "module" });
//   const { model, history } = await trainInWorker(worker, { config, x, y, fit: { epochs: 128 } }, { onEpochEnd, signal });
//
// The protocol, every message tagged MESSAGE_TAG and carrying the request's id:
//   -> train { request, batches, lock }   <- started { locked }      (the handshake: startTimeout)
//   <- epoch { report } / batch { report }, then one of
//   <- done { history, checkpoint } | error { error } | cancelled
//   -> cancel (the signal aborted)         -> release (the caller is done: let go of the lock)
// The worker holds a Web Lock named by the caller while it serves the request; the caller queues
// for the same lock, so it is granted only if the worker dies (terminate(), close()). Node workers
// say so themselves ("exit"). Everything crossing is structured-cloneable; the checkpoint bytes
// are transferred. Importing this module does no work.

import type { MDNConfig } from "./core/config.js";
import type { MatrixLike } from "./core/data.js";
import { describe, MdnError, type MdnErrorCode } from "./core/errors.js";
import { type FitOptions, MDN, type Prediction } from "./model/mdn.js";
import type { History, Logs } from "./core/history.js";
import type { WasmSource } from "./engine/wasm.js";

/** fit options that can cross to a worker: no callbacks, no signal (see TrainInWorkerOptions). */
export type WorkerFitOptions = Omit<FitOptions, "onEpochEnd" | "onBatchEnd" | "callbacks" | "signal" | "validationData">;

export interface TrainRequest {
  config: MDNConfig;
  x: MatrixLike;
  y: MatrixLike;
  fit?: WorkerFitOptions;
  /** Rows to predict after every epoch; their mixture comes with each progress report (live plots). */
  watch?: MatrixLike;
  /** Stretch each epoch to at least this many milliseconds, so a live plot can be watched; default 0. */
  minEpochMs?: number;
  /** Kernels for the worker's model, e.g. a WebAssembly.Module compiled once on the main thread. */
  module?: WebAssembly.Module | ArrayBuffer | Uint8Array | string;
}

export interface EpochReport {
  epoch: number;
  logs: Logs;
  /** The mixture at request.watch after this epoch, when watch was given. */
  watch?: Prediction;
}

export interface BatchReport {
  epoch: number;
  batch: number;
  /** Rows in this batch. */
  size: number;
  loss: number;
}

export interface TrainResult {
  /**
   * The trained model, loaded here from the worker's checkpoint: weights, normalisation, generator
   * state and training state (model.fit(..., { initialEpoch }) continues exactly).
   */
  model: MDN;
  history: History;
}

export interface TrainInWorkerOptions {
  onEpochEnd?: (report: EpochReport) => void;
  /** Asks the worker for a report after every batch (one message each). */
  onBatchEnd?: (report: BatchReport) => void;
  /**
   * Aborting stops training before the worker's next batch (with the fit's default yieldEvery);
   * the promise rejects with the reason once the worker has stopped.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the worker to acknowledge the request, which it does as soon as it
   * runs serveTraining and receives it; default 30 000 (room to download and start a worker).
   */
  startTimeout?: number;
  /** Kernels for the model built here from the result; default request.module, else the embedded ones. */
  module?: WasmSource;
}

/** A Worker, a worker's global scope or a MessagePort: what the web platform posts through. */
export interface WorkerPort {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

/** A worker_threads Worker, parentPort or MessagePort from Node. */
export interface NodeWorkerPort {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

export type WorkerErrorCode =
  | "WORKER_ERROR" // the worker threw an uncaught error (or its script failed to load)
  | "WORKER_MESSAGE_ERROR" // a message from the worker could not be deserialized
  | "WORKER_EXITED" // the worker ended (terminated, closed or exited) before the result
  | "WORKER_START_TIMEOUT"; // no acknowledgement within startTimeout: the worker does not serve training

/** trainInWorker failed because of the worker, not the request; `cause` holds the worker's error if any. */
export class WorkerError extends Error {
  override readonly name = "WorkerError";
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

type ToWorker =
  | { type: "train"; id: string; request: TrainRequest; batches: boolean; lock: string | null }
  | { type: "cancel"; id: string }
  | { type: "release"; id: string };
type SerializedError = { name: string; message: string; code?: MdnErrorCode; argument?: string; expected?: string; received?: string };
type FromWorker =
  | { type: "started"; id: string; locked: boolean }
  | { type: "epoch"; id: string; report: EpochReport }
  | { type: "batch"; id: string; report: BatchReport }
  | { type: "done"; id: string; history: History; checkpoint: Uint8Array }
  | { type: "error"; id: string; error: SerializedError }
  | { type: "cancelled"; id: string };

const MESSAGE_TAG = "mdn-wasm/worker";
const DEFAULT_START_TIMEOUT = 30_000;
/** Request ids (and the lock names made from them) are unique across copies of this module. */
const ID_PREFIX = `${Math.random().toString(36).slice(2)}/`;
let nextId = 1;

interface Handlers {
  message(data: unknown): void;
  error?(detail: string, cause: unknown): void;
  messageError?(cause: unknown): void;
  exit?(detail: string): void;
}

/** One interface over web ports (events) and Node ports (EventEmitter). */
interface Endpoint {
  /** Node-style (EventEmitter) rather than web-style (EventTarget). */
  emitter: boolean;
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  /** Subscribes the handlers; returns the unsubscribe. */
  listen(h: Handlers): () => void;
}

function endpoint(port: unknown, argument: string, expected: string): Endpoint {
  const p = port as Partial<NodeWorkerPort & WorkerPort> | null;
  const tagged = (msg: unknown) => ({ tag: MESSAGE_TAG, ...(msg as object) });
  if (typeof p?.postMessage === "function" && typeof p.on === "function" && typeof p.off === "function") {
    const n = p as NodeWorkerPort;
    return {
      emitter: true,
      post: (message, transfer) => n.postMessage(tagged(message), transfer),
      listen(h) {
        const pairs: Array<[string, (...args: any[]) => void]> = [["message", (v) => h.message(v)]];
        if (h.error) pairs.push(["error", (e) => h.error!(e instanceof Error ? `${e.name}: ${e.message}` : String(e), e)]);
        if (h.messageError) pairs.push(["messageerror", (e) => h.messageError!(e)]);
        if (h.exit) pairs.push(["exit", (code) => h.exit!(`exited with code ${code}`)], ["close", () => h.exit!("its port closed")]);
        for (const [type, l] of pairs) n.on(type, l);
        return () => pairs.forEach(([type, l]) => n.off(type, l));
      },
    };
  }
  if (typeof p?.postMessage === "function" && typeof p.addEventListener === "function" && typeof p.removeEventListener === "function") {
    const w = p as WorkerPort;
    return {
      emitter: false,
      post: (message, transfer) => w.postMessage(tagged(message), transfer ?? []),
      listen(h) {
        const pairs: Array<[string, (event: Event) => void]> = [["message", (e) => h.message((e as MessageEvent).data)]];
        if (h.error) {
          // A script that fails to load gives a plain Event; an uncaught error an ErrorEvent.
          pairs.push(["error", (e) => h.error!((e as ErrorEvent).message || "its script failed to load or threw", (e as ErrorEvent).error ?? e)]);
        }
        if (h.messageError) pairs.push(["messageerror", (e) => h.messageError!(e)]);
        for (const [type, l] of pairs) w.addEventListener(type, l);
        // A MessagePort delivers to addEventListener listeners only once started.
        (w as Partial<MessagePort>).start?.();
        return () => pairs.forEach(([type, l]) => w.removeEventListener(type, l));
      },
    };
  }
  throw new MdnError("INVALID_ARGUMENT", argument, expected, describe(port));
}

function locks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

function checkRequest(request: TrainRequest, post: () => void): void {
  if (typeof request !== "object" || request === null) throw new MdnError("INVALID_ARGUMENT", "request", "{ config, x, y, fit? }", describe(request));
  try {
    post();
  } catch (e) {
    // Name the field that cannot cross (a function, a signal, a DOM object...).
    const key = typeof structuredClone === "function" ? Object.keys(request).find((k) => !clones((request as unknown as Record<string, unknown>)[k])) : undefined;
    const error = new MdnError("INVALID_ARGUMENT", key ? `request.${key}` : "request", "structured-cloneable data (objects, arrays, typed arrays, a WebAssembly.Module)", `data that cannot be cloned (${e instanceof Error ? e.message : String(e)})`);
    error.cause = e;
    throw error;
  }
}

function clones(v: unknown): boolean {
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one training request in `worker` (which called serveTraining) and resolves to the trained
 * model and its history. Rejects with the signal's reason on abort, with the worker's MdnError for
 * a bad request, and with a WorkerError when the worker fails: an uncaught error, a message that
 * cannot be read, the worker ending, or no acknowledgement within startTimeout.
 */
export function trainInWorker(worker: WorkerPort | NodeWorkerPort, request: TrainRequest, options: TrainInWorkerOptions = {}): Promise<TrainResult> {
  return new Promise<TrainResult>((resolve, reject) => {
    if (typeof options !== "object" || options === null) throw new MdnError("INVALID_ARGUMENT", "options", "an object", describe(options));
    const { onEpochEnd, onBatchEnd, signal } = options;
    const startTimeout = options.startTimeout ?? DEFAULT_START_TIMEOUT;
    if (typeof startTimeout !== "number" || !(startTimeout > 0)) {
      throw new MdnError("INVALID_ARGUMENT", "options.startTimeout", "a number of milliseconds > 0 (Infinity to wait forever)", describe(startTimeout));
    }
    for (const [name, f] of [["onEpochEnd", onEpochEnd], ["onBatchEnd", onBatchEnd]] as const) {
      if (f !== undefined && typeof f !== "function") throw new MdnError("INVALID_ARGUMENT", `options.${name}`, "a function", describe(f));
    }
    const port = endpoint(worker, "worker", "a Worker, MessagePort, or a worker_threads Worker or MessagePort");
    if (signal?.aborted) throw signal.reason;
    const id = ID_PREFIX + nextId++;
    const lockName = !port.emitter && locks() ? `${MESSAGE_TAG}/${id}` : null;
    checkRequest(request, () => port.post({ type: "train", id, request, batches: onBatchEnd !== undefined, lock: lockName } satisfies ToWorker));

    let settled = false;
    const lockWait = new AbortController();
    const settle = (outcome: () => void, stopWorker: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unlisten();
      signal?.removeEventListener("abort", onAbort);
      lockWait.abort();
      try {
        if (stopWorker) port.post({ type: "cancel", id } satisfies ToWorker);
        port.post({ type: "release", id } satisfies ToWorker);
      } catch {
        // A worker that is gone needs neither.
      }
      outcome();
    };
    const fail = (error: unknown) => settle(() => reject(error), true);
    const onAbort = () => port.post({ type: "cancel", id } satisfies ToWorker);
    // Past 2^31 - 1 ms a timer would fire at once: such a wait is forever.
    const timer =
      startTimeout >= 2 ** 31
        ? undefined
        : setTimeout(() => fail(new WorkerError("WORKER_START_TIMEOUT", `the worker did not acknowledge the request within ${startTimeout} ms: does it call serveTraining()?`)), startTimeout);

    const onStarted = (locked: boolean) => {
      clearTimeout(timer);
      const lm = locks();
      if (!locked || !lockName || !lm) return;
      // Granted only once the worker lets go: before release, that means it has ended.
      lm.request(lockName, { signal: lockWait.signal }, () => fail(new WorkerError("WORKER_EXITED", "the worker ended (terminated or closed) before its result"))).catch(() => { });
    };
    const unlisten = port.listen({
      message(data) {
        const msg = data as FromWorker & { tag?: string };
        if (msg?.tag !== MESSAGE_TAG || msg.id !== id || settled) return;
        if (msg.type === "started") return onStarted(msg.locked);
        clearTimeout(timer);
        if (msg.type === "epoch" || msg.type === "batch") {
          // A callback that throws ends the run with its error, as it would end fit.
          try {
            if (!signal?.aborted) (msg.type === "epoch" ? onEpochEnd?.(msg.report) : onBatchEnd?.(msg.report));
          } catch (e) {
            fail(e);
          }
          return;
        }
        // Aborted: reject with the reason even if the worker finished before it saw the cancel.
        if (signal?.aborted) return settle(() => reject(signal.reason), false);
        if (msg.type === "done") {
          const module = options.module ?? request.module;
          return settle(() => MDN.load(msg.checkpoint, module === undefined ? {} : { module }).then((model) => resolve({ model, history: msg.history }), reject), false);
        }
        settle(() => reject(msg.type === "error" ? deserializeError(msg.error) : new Error("training cancelled")), false);
      },
      error: (detail, cause) => fail(new WorkerError("WORKER_ERROR", `the worker threw: ${detail}`, cause)),
      messageError: (cause) => fail(new WorkerError("WORKER_MESSAGE_ERROR", "a message from the worker could not be deserialized", cause)),
      exit: (detail) => fail(new WorkerError("WORKER_EXITED", `the worker ${detail} before its result`)),
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Call once in a worker: trains each request it is sent, reporting every epoch. `scope` defaults
 * to the worker's global scope; in Node pass `parentPort` from node:worker_threads as it is.
 */
export function serveTraining(scope?: WorkerPort | NodeWorkerPort): void {
  const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function";
  const port = endpoint(scope ?? (inWorker ? globalThis : undefined), "scope", "a worker's global scope (call serveTraining() in a worker), or parentPort from Node's worker_threads");
  const running = new Map<string, AbortController>();
  // Web Locks held per request until the caller releases them, and requests still waiting for theirs.
  const held = new Map<string, () => void>();
  const awaitingLock = new Set<string>();
  const post = (msg: FromWorker, transfer?: ArrayBuffer[]) => port.post(msg, transfer);
  port.listen({
    message(data) {
      const msg = data as ToWorker & { tag?: string };
      if (msg?.tag !== MESSAGE_TAG) return;
      if (msg.type === "cancel") return void running.get(msg.id)?.abort();
      if (msg.type === "release") {
        // Released before the grant (the caller gave up early): nothing is held then.
        const release = held.get(msg.id);
        if (release) held.delete(msg.id), release();
        else awaitingLock.delete(msg.id);
        return;
      }
      const { id } = msg;
      const controller = new AbortController();
      running.set(id, controller);
      const begin = (locked: boolean) => {
        post({ type: "started", id, locked });
        void train(id, msg.request, msg.batches, controller.signal, post).finally(() => running.delete(id));
      };
      const lm = locks();
      if (msg.lock === null || !lm) return begin(false);
      awaitingLock.add(id);
      void lm.request(msg.lock, () => {
        if (!awaitingLock.delete(id)) return begin(false);
        return new Promise<void>((release) => {
          held.set(id, release);
          begin(true);
        });
      });
    },
  });
}

async function train(id: string, request: TrainRequest, batches: boolean, signal: AbortSignal, post: (msg: FromWorker, transfer?: ArrayBuffer[]) => void): Promise<void> {
  let model: MDN | undefined;
  try {
    model = await MDN.create(request.config, request.module === undefined ? {} : { module: request.module as WasmSource });
    const m = model;
    let epoch = typeof request.fit?.initialEpoch === "number" ? request.fit.initialEpoch : 0;
    let epochStart = performance.now();
    const fit: FitOptions = {
      ...request.fit,
      signal,
      onEpochEnd: async (e, logs) => {
        epoch = e + 1;
        const report: EpochReport = { epoch: e, logs };
        if (request.watch !== undefined) report.watch = m.predict(request.watch);
        post({ type: "epoch", id, report });
        const wait = (request.minEpochMs ?? 0) - (performance.now() - epochStart);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        epochStart = performance.now();
      },
    };
    if (batches) fit.onBatchEnd = (batch, logs) => post({ type: "batch", id, report: { epoch, batch, size: logs.size, loss: logs.loss } });
    const history = await m.fit(request.x, request.y, fit);
    const checkpoint = m.saveCheckpoint();
    post({ type: "done", id, history, checkpoint }, [checkpoint.buffer as ArrayBuffer]);
  } catch (error) {
    if (signal.aborted) post({ type: "cancelled", id });
    else post({ type: "error", id, error: serializeError(error) });
  } finally {
    model?.dispose();
  }
}

function serializeError(error: unknown): SerializedError {
  if (error instanceof MdnError) {
    return { name: error.name, message: error.message, code: error.code, argument: error.argument, expected: error.expected, received: error.received };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** MdnErrors arrive as MdnErrors (same code and argument); anything else as an Error with its name. */
function deserializeError(e: SerializedError): Error {
  if (e.code !== undefined) return new MdnError(e.code, e.argument!, e.expected!, e.received!);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
