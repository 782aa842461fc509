// The options of create, fit and the inference calls: their types, their checks with typed
// errors (each named after the option, before anything runs), and the limits they answer to.

import { checkKeys, MAX_BATCH, MAX_EPOCHS, MAX_RESULT_VALUES, numberIn, oneOf, optionsObject, positiveInt } from "../core/config.js";
import type { MatrixLike } from "../core/data.js";
import { describe, MdnError } from "../core/errors.js";
import type { EarlyStoppingOptions, Logs } from "../core/history.js";
import { formatBytes } from "../engine/arena.js";
import { type AdamSettings, DEFAULT_ADAM } from "../engine/network.js";
import type { WasmSource } from "../engine/wasm.js";

export interface OptimizerOptions {
  name?: "adam";
  /** Default 1e-3. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (tf.keras and TensorFlow.js); the seed notebook passes 1e-8. */
  epsilon?: number;
  /** Keras 2 inverse-time decay of the learning rate per step; default 0. */
  decay?: number;
  /**
   * Keras `global_clipnorm`: before each step, if the Euclidean norm of all gradients together
   * exceeds this, scale them all down to it. Default: no clipping. The norm is that of the
   * likelihood's gradient (an `l2` penalty's gradient is added afterwards, unclipped), and a
   * gradient at or below the limit is left exactly as it is.
   */
  clipNorm?: number;
}

export interface FitOptions {
  /** Default 1 (Keras). */
  epochs?: number;
  /** Default 32 (Keras). */
  batchSize?: number;
  /**
   * Split each epoch into ceil(n / batchSize) batches of nearly equal size (e.g. 409 rows with
   * batchSize 128: 102, 102, 102, 103) instead of Keras' full batches and a remainder (128, 128,
   * 128, 25); default false (Keras).
   */
  evenBatches?: boolean;
  /** Shuffle the training rows before every epoch; default true. */
  shuffle?: boolean;
  /** Hold out the LAST fraction of the rows (taken before shuffling) for validation; default 0. */
  validationSplit?: number;
  /** Explicit validation rows; overrides validationSplit (Keras). */
  validationData?: [MatrixLike, MatrixLike];
  optimizer?: OptimizerOptions | "adam";
  /**
   * An object is Keras' EarlyStopping (its defaults: patience 0, nothing restored). `true` means
   * `{ monitor: "val_loss", minDelta: 0, patience: 50, restoreBestWeights: true }`: stop after 50
   * epochs without a lower validation loss and keep the best epoch's weights.
   */
  earlyStopping?: EarlyStoppingOptions | boolean;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: { batch: number; size: number; loss: number }) => void | Promise<void>;
  /** TensorFlow.js style: `callbacks: { onEpochEnd, onBatchEnd }`. */
  callbacks?: { onEpochEnd?: FitOptions["onEpochEnd"]; onBatchEnd?: FitOptions["onBatchEnd"] };
  /**
   * Cancels training: checked after every batch, and with yieldEvery "auto" the event loop gets a
   * turn after every batch, so an abort from a timer or an event lands before the next batch. fit
   * rejects with the signal's reason; the model keeps the weights of the last batch that ran.
   */
  signal?: AbortSignal;
  /** 0 silent (default), 1 or 2: one line per epoch on the console (Keras verbose=2). */
  verbose?: 0 | 1 | 2;
  /**
   * When fit gives the event loop a turn (TensorFlow.js' `yieldEvery`): "auto" (default) after
   * every batch when a signal is given, else between epochs once 16 ms have passed since the last
   * turn; "batch" after every batch; "epoch" after every epoch; "never"; or a number of
   * milliseconds, checked between epochs. Timers, events and a worker's messages (a signal's abort,
   * `stopTraining`) run only at these turns. A turn per batch costs a few microseconds (README).
   */
  yieldEvery?: "auto" | "batch" | "epoch" | "never" | number;
  /**
   * Keras semantics: train epochs initialEpoch .. epochs - 1 (so `epochs` is the final epoch count,
   * not a number of epochs to add). Default 0. Passing the epoch a checkpoint (or the previous fit)
   * reached resumes its early-stopping state too; see README "Saving and loading".
   */
  initialEpoch?: number;
  /**
   * What to do when a batch's loss, gradients or Adam update are not finite, or a step's weights
   * predict non-finite numbers (no such step is kept): "stop" (default) ends training with the last
   * good weights and reports the epoch and batch in `History.nonFinite`; "throw" rejects with a
   * NonFiniteError carrying the same facts. README "Non-finite numbers".
   */
  onNonFinite?: "stop" | "throw";
  /** Standardise inputs and targets (see MDNConfig.normalize); default config.normalize. */
  normalize?: boolean;
}

export interface CreateOptions {
  /**
   * Kernels to use instead of the embedded ones: a compiled WebAssembly.Module (e.g. from
   * loadModule, or posted to a worker), the bytes of "mdn-wasm/mdn.wasm", a Response or its
   * promise, or the URL where it is hosted.
   */
  module?: WasmSource;
}

/** Predict and evaluate work through rows in chunks of this many unless told otherwise. */
export const DEFAULT_INFER_BATCH = 1024;

// The keys each options argument knows; any other is refused with a did-you-mean.
export const CREATE_KEYS = ["module"];
export const FIT_KEYS = [
  "epochs", "batchSize", "shuffle", "validationSplit", "validationData", "optimizer", "earlyStopping", "onEpochEnd", "onBatchEnd",
  "callbacks", "signal", "verbose", "yieldEvery", "initialEpoch", "onNonFinite", "normalize", "evenBatches",
];
export const OPTIMIZER_KEYS = ["name", "learningRate", "beta1", "beta2", "epsilon", "decay", "clipNorm"];
export const EARLY_STOPPING_KEYS = ["monitor", "minDelta", "patience", "restoreBestWeights"];
export const CALLBACK_KEYS = ["onEpochEnd", "onBatchEnd"];
export const BATCH_KEYS = ["batchSize"];
export const MODE_KEYS = ["tol", "mergeTol", "maxIter", "batchSize"];
export const SAMPLE_KEYS = ["n", "temperature", "sigmaTemperature", "seed", "batchSize"];
export const CALIBRATION_KEYS = ["levels", "batchSize"];
/** float32's largest value: a learning rate past it is Infinity in the kernel. */
export const F32_MAX = 3.4028234663852886e38;

/** The fit options that need neither the data nor the model, checked in order (MDN.fit checks the rest). */
export function fitSettings(options: FitOptions) {
  const o = optionsObject(options, "options", FIT_KEYS) as FitOptions;
  const epochs = o.epochs === undefined ? 1 : positiveInt(o.epochs, "options.epochs", MAX_EPOCHS);
  const batchSize = o.batchSize === undefined ? 32 : positiveInt(o.batchSize, "options.batchSize", MAX_BATCH);
  const evenBatches = booleanOption(o.evenBatches, "options.evenBatches", false);
  const shuffle = booleanOption(o.shuffle, "options.shuffle", true);
  const split = numberIn(o.validationSplit ?? 0, "options.validationSplit", 0, 1, false, true);
  const optimizer = resolveOptimizer(o.optimizer);
  const verbose = o.verbose ?? 0;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new MdnError("INVALID_CONFIG", "options.verbose", "0, 1 or 2", describe(verbose));
  const yieldEvery = o.yieldEvery ?? "auto";
  if (!(yieldEvery === "auto" || yieldEvery === "batch" || yieldEvery === "epoch" || yieldEvery === "never" || (typeof yieldEvery === "number" && yieldEvery >= 0 && yieldEvery !== Infinity))) {
    throw new MdnError("INVALID_CONFIG", "options.yieldEvery", '"auto", "batch", "epoch", "never" or a number of milliseconds >= 0', describe(yieldEvery));
  }
  const yieldBatches = yieldEvery === "batch" || (yieldEvery === "auto" && o.signal !== undefined);
  const yieldMs = yieldEvery === "epoch" || yieldBatches ? 0 : yieldEvery === "never" ? Infinity : yieldEvery === "auto" ? 16 : yieldEvery;
  const callbacks = optionsObject(o.callbacks, "options.callbacks", CALLBACK_KEYS) as NonNullable<FitOptions["callbacks"]>;
  const onEpochEnd = o.onEpochEnd ?? callbacks.onEpochEnd;
  const onBatchEnd = o.onBatchEnd ?? callbacks.onBatchEnd;
  if (onEpochEnd !== undefined && typeof onEpochEnd !== "function") throw new MdnError("INVALID_ARGUMENT", "options.onEpochEnd", "a function", describe(onEpochEnd));
  if (onBatchEnd !== undefined && typeof onBatchEnd !== "function") throw new MdnError("INVALID_ARGUMENT", "options.onBatchEnd", "a function", describe(onBatchEnd));
  if (o.signal !== undefined && !(typeof o.signal === "object" && o.signal !== null && "aborted" in o.signal)) {
    throw new MdnError("INVALID_ARGUMENT", "options.signal", "an AbortSignal", describe(o.signal));
  }
  return { o, epochs, batchSize, evenBatches, shuffle, split, optimizer, verbose: verbose as 0 | 1 | 2, yieldMs, yieldBatches, onEpochEnd, onBatchEnd };
}

/** A boolean option (undefined: the default), else MdnError INVALID_CONFIG naming it. */
export function booleanOption(v: unknown, argument: string, fallback: boolean): boolean {
  const b = v ?? fallback;
  if (typeof b !== "boolean") throw new MdnError("INVALID_CONFIG", argument, "a boolean", describe(b));
  return b;
}

/** Rows per chunk of an inference call: options.batchSize (checked) or DEFAULT_INFER_BATCH, at most the rows. */
export function inferCap(rows: number, batchSize: unknown): number {
  const b = batchSize === undefined ? DEFAULT_INFER_BATCH : positiveInt(batchSize, "options.batchSize", MAX_BATCH);
  return Math.min(rows, b);
}

/** MdnError TOO_LARGE when a call's results would hold more than MAX_RESULT_VALUES numbers. */
export function checkResultSize(values: number, argument: string, what: string): void {
  if (values <= MAX_RESULT_VALUES) return;
  throw new MdnError(
    "TOO_LARGE", argument,
    `at most ${MAX_RESULT_VALUES} result values per call (${formatBytes(4 * MAX_RESULT_VALUES)} as float32): pass fewer rows per call`,
    `${what} = ${values} values`,
  );
}

/** A copy of file bytes the loader owns (anything else goes through for decodeFile to refuse). */
export function ownCopy(bytes: unknown): unknown {
  if (bytes instanceof Uint8Array) return bytes.slice();
  return bytes instanceof ArrayBuffer ? new Uint8Array(bytes.slice(0)) : bytes;
}

export function nonNegativeInt(v: unknown, argument: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new MdnError("INVALID_CONFIG", argument, "a non-negative integer", describe(v));
  return v;
}

export function resolveOptimizer(o: FitOptions["optimizer"]): AdamSettings {
  if (o === undefined || o === "adam") return { ...DEFAULT_ADAM };
  if (typeof o !== "object" || o === null) throw new MdnError("INVALID_CONFIG", "options.optimizer", '"adam" or { name: "adam", learningRate, ... }', describe(o));
  checkKeys(o, "options.optimizer", OPTIMIZER_KEYS);
  oneOf(o.name ?? "adam", "options.optimizer.name", ["adam"] as const);
  const d = DEFAULT_ADAM;
  return {
    // The kernel computes in float32: a rate past its range would be Infinity there.
    learningRate: numberIn(o.learningRate ?? d.learningRate, "options.optimizer.learningRate", 0, F32_MAX, true),
    beta1: numberIn(o.beta1 ?? d.beta1, "options.optimizer.beta1", 0, 1, false, true),
    beta2: numberIn(o.beta2 ?? d.beta2, "options.optimizer.beta2", 0, 1, false, true),
    // Added to sqrt(v) in float32: below ~1e-38 it is 0 there, and 0 / 0 where a gradient is 0.
    epsilon: numberIn(o.epsilon ?? d.epsilon, "options.optimizer.epsilon", 1e-30, 1e30),
    decay: numberIn(o.decay ?? d.decay, "options.optimizer.decay", 0, F32_MAX),
    // 0: no clipping. A limit is compared with the gradient's float32 norm.
    clipNorm: o.clipNorm === undefined ? 0 : numberIn(o.clipNorm, "options.optimizer.clipNorm", 0, F32_MAX, true),
  };
}

/**
 * What `earlyStopping: true` means. On three small sets (Bishop's inverse problem, a
 * heteroscedastic 1-D set, correlated 2-D targets; 10 draws each) Keras' defaults (patience 0, the
 * last epoch's weights) stopped after 2-31 epochs and cost 0.04-0.73 nats of held-out NLL (means
 * per set) against patience 50 with the best weights restored; patience 10-30 still cost up to
 * 0.08, and 100 gained at most 0.02 for twice the epochs (dev/fits/earlystop.mjs).
 */
const EARLY_STOPPING_TRUE: EarlyStoppingOptions = { monitor: "val_loss", minDelta: 0, patience: 50, restoreBestWeights: true };

export function resolveEarlyStopping(o: FitOptions["earlyStopping"], hasVal: boolean): Required<EarlyStoppingOptions> | null {
  if (o === undefined || o === false) return null;
  const e = o === true ? EARLY_STOPPING_TRUE : o;
  if (typeof e !== "object" || e === null) throw new MdnError("INVALID_CONFIG", "options.earlyStopping", "true or { monitor, minDelta, patience, restoreBestWeights }", describe(o));
  checkKeys(e, "options.earlyStopping", EARLY_STOPPING_KEYS);
  const monitor = oneOf(e.monitor ?? "val_loss", "options.earlyStopping.monitor", ["val_loss", "loss"] as const);
  if (monitor === "val_loss" && !hasVal) {
    throw new MdnError("INVALID_CONFIG", "options.earlyStopping.monitor", "validation data (validationSplit or validationData) to monitor val_loss", '"val_loss" with no validation data');
  }
  const patience = e.patience === undefined ? 0 : e.patience === 0 ? 0 : positiveInt(e.patience, "options.earlyStopping.patience");
  const restore = booleanOption(e.restoreBestWeights, "options.earlyStopping.restoreBestWeights", false);
  return {
    monitor,
    minDelta: Math.abs(numberIn(e.minDelta ?? 0, "options.earlyStopping.minDelta", 0, Infinity)),
    patience,
    restoreBestWeights: restore,
  };
}
