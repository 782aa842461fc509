// Training in a Web Worker ("mdn-wasm/worker"): the UI thread posts a request and gets progress
// per epoch; an AbortSignal cancels. The worker side is one call in a module worker:
//
//   // train.worker.ts
//   import { serveTraining } from "mdn-wasm/worker";
//   serveTraining();
//
//   // main thread
//   const worker = new Worker(new URL("./train.worker.ts", import.meta.url), { type: "module" });
//   const { weights } = await trainInWorker(worker, { config, x, y, fit: { epochs: 128 } }, { onEpochEnd, signal });
//
// Everything crossing the boundary is structured-cloneable: configs, matrices, weights, a compiled
// WebAssembly.Module. Importing this module does no work.

import type { MDNConfig, ResolvedConfig } from "./config.js";
import type { MatrixLike } from "./data.js";
import { MdnError, type MdnErrorCode } from "./errors.js";
import { type FitOptions, MDN, type Prediction, type Weight } from "./model.js";
import type { History, Logs } from "./train.js";
import type { WasmSource } from "./wasm.js";

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

export interface TrainResult {
  history: History;
  /** The trained weights: MDN.create(request.config), then setWeights(result.weights). */
  weights: Weight[];
  /** The worker model's resolved config (with the seed it drew when none was given). */
  config: ResolvedConfig;
}

export interface TrainInWorkerOptions {
  onEpochEnd?: (report: EpochReport) => void;
  /** Aborting stops training at the worker's next batch; the promise rejects with the reason. */
  signal?: AbortSignal;
}

/** The part of Worker and DedicatedWorkerGlobalScope this module uses. */
export interface WorkerPort {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

type ToWorker = { type: "train"; id: number; request: TrainRequest } | { type: "cancel"; id: number };
type SerializedError = { name: string; message: string; code?: MdnErrorCode; argument?: string; expected?: string; received?: string };
type FromWorker =
  | { type: "epoch"; id: number; report: EpochReport }
  | { type: "done"; id: number; result: TrainResult }
  | { type: "error"; id: number; error: SerializedError }
  | { type: "cancelled"; id: number };

const MESSAGE_TAG = "mdn-wasm/worker";
let nextId = 1;

/** Runs one training request in `worker` (which called serveTraining) and resolves to its result. */
export function trainInWorker(worker: WorkerPort, request: TrainRequest, options: TrainInWorkerOptions = {}): Promise<TrainResult> {
  const { onEpochEnd, signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const id = nextId++;
  return new Promise<TrainResult>((resolve, reject) => {
    const onAbort = () => worker.postMessage({ tag: MESSAGE_TAG, type: "cancel", id } satisfies ToWorker & { tag: string });
    const finish = () => {
      worker.removeEventListener("message", onMessage);
      signal?.removeEventListener("abort", onAbort);
    };
    const onMessage = (event: MessageEvent) => {
      const msg = event.data as FromWorker & { tag?: string };
      if (msg?.tag !== MESSAGE_TAG || msg.id !== id) return;
      if (msg.type === "epoch") return void onEpochEnd?.(msg.report);
      finish();
      if (msg.type === "done") resolve(msg.result);
      else if (msg.type === "cancelled") reject(signal?.reason ?? new Error("training cancelled"));
      else reject(deserializeError(msg.error));
    };
    worker.addEventListener("message", onMessage);
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.postMessage({ tag: MESSAGE_TAG, type: "train", id, request } satisfies ToWorker & { tag: string });
  });
}

/** Call once in a module worker: trains each request it is sent, reporting every epoch. */
export function serveTraining(scope: WorkerPort = globalThis as unknown as WorkerPort): void {
  const running = new Map<number, AbortController>();
  const post = (msg: FromWorker) => scope.postMessage({ tag: MESSAGE_TAG, ...msg });
  scope.addEventListener("message", (event: MessageEvent) => {
    const msg = event.data as ToWorker & { tag?: string };
    if (msg?.tag !== MESSAGE_TAG) return;
    if (msg.type === "cancel") return void running.get(msg.id)?.abort();
    const controller = new AbortController();
    running.set(msg.id, controller);
    train(msg.id, msg.request, controller.signal, post).finally(() => running.delete(msg.id));
  });
}

async function train(id: number, request: TrainRequest, signal: AbortSignal, post: (msg: FromWorker) => void): Promise<void> {
  let model: MDN | undefined;
  try {
    model = await MDN.create(request.config, request.module === undefined ? {} : { module: request.module as WasmSource });
    const m = model;
    let epochStart = performance.now();
    const history = await m.fit(request.x, request.y, {
      ...request.fit,
      signal,
      onEpochEnd: async (epoch, logs) => {
        const report: EpochReport = { epoch, logs };
        if (request.watch !== undefined) report.watch = m.predict(request.watch);
        post({ type: "epoch", id, report });
        const wait = (request.minEpochMs ?? 0) - (performance.now() - epochStart);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        epochStart = performance.now();
      },
    });
    post({ type: "done", id, result: { history, weights: m.getWeights(), config: m.config } });
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
