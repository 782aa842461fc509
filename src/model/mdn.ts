// MDN: the public model. create / fit / predict / evaluate / summary / dispose.
// Data flows one way: user arrays -> validated and copied once into the arena -> kernels ->
// results copied out into arrays the caller owns.

import { ensureMemory, formatBytes, type InferBuffers, planInference, readF32, writeF32 } from "../engine/arena.js";
import { checkKeys, MAX_ADAM_STEPS, MAX_BATCH, MAX_EPOCHS, MAX_RESULT_VALUES, type MDNConfig, numberIn, oneOf, optionsObject, positiveInt, type ResolvedConfig, resolveConfig } from "../core/config.js";
import { checkPair, type Checked, type MatrixLike, sliceRows, toMatrix } from "../core/data.js";
import { describe, MdnError, ModelFormatError } from "../core/errors.js";
import { initMeansFromTargets } from "../engine/init.js";
import { flatToSnapshot, loadInto, readNormalization, readResume, readWeights, type ResumeState, snapshotToFlat, trialStep, writeFile, writeWeights } from "../format/checkpoint.js";
import { decodeFile, type TrainingInfo } from "../format/modelfile.js";
import { type Engine, headParams, type HeadParams, jointOf, meanLoss } from "../engine/infer.js";
import { instantiateKernels, releaseKernels, type ShippedKernels } from "../engine/kernels.js";
import { type AdamSettings, checkModelSize, DEFAULT_ADAM, Network } from "../engine/network.js";
import { PROBE_ROWS, probeInputs, probeProblem } from "../engine/probe.js";
import { learnNormalization, logScale, type Normalization, standardize, unscaleHead } from "../engine/normalize.js";
import { type Calibration, calibrationOf, type ModeOptions, mixtureCovariance, mixtureMean, rowModes, type RowModes, toMixture } from "../mixture/density.js";
import { type Prediction, toPrediction } from "../mixture/prediction.js";
import { fitRecalibration, foldRecalibration, type Recalibration } from "../mixture/recalibrate.js";
import { resolveSampleOptions, type SampleOptions, sampleRows, type Samples } from "../mixture/sampling.js";
import { loadModule, type WasmSource } from "../engine/wasm.js";
import type { EarlyStoppingOptions, EarlyStoppingState, History, Logs, TrainProgress } from "../core/history.js";
import { planTrainArena, readOrder, stageData, type TrainArena, trainLoop, type TrainPlan } from "../engine/train.js";

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

export type { Prediction };

export interface Weight {
  name: string;
  shape: number[];
  trainable: boolean;
  data: Float32Array;
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
const DEFAULT_INFER_BATCH = 1024;

// The keys each options argument knows; any other is refused with a did-you-mean.
const CREATE_KEYS = ["module"];
const FIT_KEYS = [
  "epochs", "batchSize", "shuffle", "validationSplit", "validationData", "optimizer", "earlyStopping", "onEpochEnd", "onBatchEnd",
  "callbacks", "signal", "verbose", "yieldEvery", "initialEpoch", "onNonFinite", "normalize", "evenBatches",
];
const OPTIMIZER_KEYS = ["name", "learningRate", "beta1", "beta2", "epsilon", "decay", "clipNorm"];
const EARLY_STOPPING_KEYS = ["monitor", "minDelta", "patience", "restoreBestWeights"];
const CALLBACK_KEYS = ["onEpochEnd", "onBatchEnd"];
const BATCH_KEYS = ["batchSize"];
const MODE_KEYS = ["tol", "mergeTol", "maxIter", "batchSize"];
const SAMPLE_KEYS = ["n", "temperature", "sigmaTemperature", "seed", "batchSize"];
const CALIBRATION_KEYS = ["levels", "batchSize"];
/** float32's largest value: a learning rate past it is Infinity in the kernel. */
const F32_MAX = 3.4028234663852886e38;

export class MDN {
  /** Set to true (e.g. from onEpochEnd) to end fit after the current epoch, as in TensorFlow.js. */
  stopTraining = false;
  private disposed = false;
  private training: TrainArena | null = null;
  private infer: InferBuffers | null = null;
  /** Standardisation statistics once learned (or loaded). */
  private norm: Normalization | null = null;
  /** Training facts over the model's life, as the file header stores them. */
  private life = { epochs: 0, steps: 0, loss: null as number | null, valLoss: null as number | null };
  /** Where training stands between epochs (what a checkpoint records). */
  private progress: TrainProgress = { epoch: 0, earlyStopping: null, inEpoch: false, loss: null, valLoss: null };
  /** The best epoch's weights kept by restoreBestWeights, flat in tensor order. */
  private bestWeights: Float32Array | null = null;
  /** The training rows' shuffled order where the last fit (or the checkpoint) left it. */
  private order: Uint32Array | null = null;
  /** The running fit's plan and where it started (for live checkpoints and training facts). */
  private running: { plan: TrainPlan; epoch: number; step: number } | null = null;

  private constructor(
    private readonly k: ShippedKernels,
    private readonly net: Network,
    /** The resolved configuration, defaults filled in (including the seed drawn when none was given). */
    readonly config: ResolvedConfig,
  ) {}

  /** Validate the config, instantiate the kernels and initialise the weights from the seed. */
  static async create(config: MDNConfig, options: CreateOptions = {}): Promise<MDN> {
    const o = optionsObject(options, "options", CREATE_KEYS) as CreateOptions;
    const cfg = resolveConfig(config);
    checkModelSize(cfg);
    const k = await instantiateKernels(await loadModule(o.module, "options.module"));
    try {
      const net = new Network(k, cfg);
      net.initialize();
      return new MDN(k, net, cfg);
    } catch (e) {
      releaseKernels(k);
      throw e;
    }
  }

  /**
   * A model from the bytes of `save()` (or `saveCheckpoint()`, whose training state comes along).
   * Every check runs before anything is allocated; a bad file throws ModelFormatError. The bytes
   * are copied first, so the caller may reuse its buffer at once.
   */
  static async load(bytes: Uint8Array | ArrayBuffer, options: CreateOptions = {}): Promise<MDN> {
    const o = optionsObject(options, "options", CREATE_KEYS) as CreateOptions;
    return MDN.fromFile(decodeFile(ownCopy(bytes)), o);
  }

  /** As load, but the file must be a checkpoint (ModelFormatError NOT_A_CHECKPOINT otherwise). */
  static async loadCheckpoint(bytes: Uint8Array | ArrayBuffer, options: CreateOptions = {}): Promise<MDN> {
    const o = optionsObject(options, "options", CREATE_KEYS) as CreateOptions;
    const d = decodeFile(ownCopy(bytes));
    if (d.header.kind !== "checkpoint") throw new ModelFormatError("NOT_A_CHECKPOINT", "a model file has no training state; use MDN.load");
    return MDN.fromFile(d, o);
  }

  private static async fromFile(d: ReturnType<typeof decodeFile>, options: CreateOptions): Promise<MDN> {
    const cfg = d.header.config;
    const k = await instantiateKernels(await loadModule(options.module, "options.module"));
    try {
      const net = new Network(k, cfg);
      loadInto(net, d);
      const m = new MDN(k, net, cfg);
      m.norm = readNormalization(d);
      const { epochs, steps, loss, valLoss } = d.header.training;
      m.life = { epochs, steps, loss, valLoss };
      const r = readResume(d);
      if (r) {
        m.progress = r.progress;
        m.bestWeights = r.bestWeights;
        m.order = r.order;
      }
      m.checkLoaded(d.header.checkpoint !== null);
      return m;
    } catch (e) {
      releaseKernels(k);
      throw e;
    }
  }

  /**
   * A file that loads must predict finite numbers on the probe batch (src/probe.ts), with its
   * weights and with the best weights a checkpoint may restore, and a checkpoint's training state
   * must take one step there (Adam's defaults, targets at the predicted means) and still predict.
   */
  private checkLoaded(checkpoint: boolean): void {
    let problem = this.probeProblem();
    if (problem) throw new ModelFormatError("CANNOT_PREDICT", `the weights cannot predict: ${problem}`);
    if (this.bestWeights) {
      const current = readWeights(this.net);
      writeWeights(this.net, this.bestWeights);
      problem = this.probeProblem();
      writeWeights(this.net, current);
      if (problem) throw new ModelFormatError("CANNOT_PREDICT", `best/weights cannot predict: ${problem}`);
    }
    if (checkpoint) {
      const x = probeInputs(this.inputDim, this.norm);
      const trial = trialStep(this.net, this.inferBuffers(PROBE_ROWS).end, x, PROBE_ROWS);
      problem = trial.ok ? this.probeProblem() : "a training step on the probe batch is not finite";
      trial.undo();
      if (problem) throw new ModelFormatError("CANNOT_TRAIN", `the training state cannot go on: ${problem}`);
    }
  }

  /** Why the model's weights do not predict finite numbers on the probe batch, or null. */
  private probeProblem(): string | null {
    return probeProblem(this.net, this.norm, this.inferBuffers(PROBE_ROWS), probeInputs(this.inputDim, this.norm));
  }

  /** The model as a file: weights, config, normalisation, generator state, training facts. */
  save(): Uint8Array {
    this.assertAlive();
    return writeFile(this.net, this.norm, this.trainingInfo(), null);
  }

  /**
   * The full training state as a file: a model plus Adam's moments and step count, the epoch
   * reached, the early-stopping state and the best weights. Call it after fit or from onEpochEnd;
   * `MDN.loadCheckpoint(bytes)` then `fit(..., { initialEpoch: <that epoch>, epochs })` trains on
   * exactly as an uninterrupted fit would.
   */
  saveCheckpoint(): Uint8Array {
    this.assertAlive();
    if (this.progress.inEpoch) {
      throw new MdnError("BUSY", "saveCheckpoint", "a call at an epoch boundary (after fit, or in onEpochEnd)", "a call in the middle of an epoch");
    }
    return writeFile(this.net, this.norm, this.trainingInfo(), this.resumeState());
  }

  /** Copies of the standardisation statistics, or null when the model does not standardise. */
  get normalization(): Normalization | null {
    const n = this.norm;
    return n && { xMean: n.xMean.slice(), xStd: n.xStd.slice(), yMean: n.yMean.slice(), yStd: n.yStd.slice() };
  }

  /** Training facts as of now (a running fit included). */
  private trainingInfo(): TrainingInfo {
    const r = this.running;
    const p = this.progress;
    return {
      fresh: this.net.fresh,
      epochs: this.life.epochs + (r ? p.epoch - r.epoch : 0),
      steps: this.life.steps + (r ? Math.max(0, this.net.step - r.step) : 0),
      loss: r && p.loss !== null ? p.loss : this.life.loss,
      valLoss: r && p.valLoss !== null ? p.valLoss : this.life.valLoss,
    };
  }

  private resumeState(): ResumeState {
    // During a fit the best weights live in its arena, and only if it keeps them.
    const r = this.running;
    let best = this.bestWeights;
    if (r) {
      const keeps = r.plan.earlyStopping?.restoreBestWeights && this.progress.earlyStopping?.bestEpoch !== undefined;
      best = keeps ? snapshotToFlat(this.net, this.training!.snapshot) : null;
    }
    const order = r ? readOrder(this.net, this.training!, r.plan.x.rows) : this.order;
    return { progress: this.progress, adamSteps: this.net.step, bestWeights: best, order };
  }

  get inputDim(): number {
    return this.config.inputDim;
  }
  get outputDim(): number {
    return this.config.outputDim;
  }
  get components(): number {
    return this.config.components;
  }

  /** Train on (x, y); resolves to the History once training ends. */
  async fit(x: MatrixLike, y: MatrixLike, options: FitOptions = {}): Promise<History> {
    this.assertAlive();
    if (this.training) throw new MdnError("BUSY", "fit", "no other fit running on this model", "a fit in progress");
    const { plan, norm } = this.planFit(x, y, options);
    if (plan.signal?.aborted) throw plan.signal.reason;
    // All memory the fit needs is grown now, before anything changes: a fit refused for memory
    // leaves the model as it was.
    const arena = planTrainArena(this.net, plan);
    ensureMemory(this.k, arena.end, "fit");
    this.stopTraining = false;
    this.norm = norm;
    if (this.config.meanInit === "targets" && this.net.fresh) initMeansFromTargets(this.net, plan.y);
    this.net.fresh = false;
    this.training = arena;
    this.infer = null;
    this.progress = { epoch: plan.initialEpoch, earlyStopping: plan.resume, inEpoch: false, loss: null, valLoss: null };
    this.running = { plan, epoch: plan.initialEpoch, step: this.net.step };
    try {
      stageData(this.net, plan, arena);
      if (plan.resume && plan.earlyStopping?.restoreBestWeights) flatToSnapshot(this.net, this.bestWeights!, arena.snapshot);
      return await trainLoop(this.net, plan, arena, this.progress);
    } finally {
      const info = this.trainingInfo();
      this.life = { epochs: info.epochs, steps: info.steps, loss: info.loss, valLoss: info.valLoss };
      const state = this.resumeState();
      this.bestWeights = state.bestWeights;
      this.order = state.order;
      this.running = null;
      this.training = null;
      this.infer = null;
      // Disposed during the fit: the instance is free only now that the loop has left it.
      if (this.disposed) releaseKernels(this.k);
    }
  }

  private planFit(x: MatrixLike, y: MatrixLike, options: FitOptions): { plan: TrainPlan; norm: Normalization | null } {
    const o = optionsObject(options, "options", FIT_KEYS) as FitOptions;
    const epochs = o.epochs === undefined ? 1 : positiveInt(o.epochs, "options.epochs", MAX_EPOCHS);
    const batchSize = o.batchSize === undefined ? 32 : positiveInt(o.batchSize, "options.batchSize", MAX_BATCH);
    const evenBatches = o.evenBatches ?? false;
    if (typeof evenBatches !== "boolean") throw new MdnError("INVALID_CONFIG", "options.evenBatches", "a boolean", describe(evenBatches));
    const shuffle = o.shuffle ?? true;
    if (typeof shuffle !== "boolean") throw new MdnError("INVALID_CONFIG", "options.shuffle", "a boolean", describe(shuffle));
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

    let xs = toMatrix(x, "x", this.inputDim);
    let ys = toMatrix(y, "y", this.outputDim);
    checkPair(xs, ys, "x", "y");
    let val: TrainPlan["val"] = null;
    if (o.validationData !== undefined) {
      const vd = o.validationData;
      if (!Array.isArray(vd) || vd.length !== 2) {
        throw new MdnError("INVALID_ARGUMENT", "options.validationData", "[xVal, yVal]", describe(vd));
      }
      const vx = toMatrix(vd[0], "options.validationData[0]", this.inputDim);
      const vy = toMatrix(vd[1], "options.validationData[1]", this.outputDim);
      checkPair(vx, vy, "options.validationData[0]", "options.validationData[1]");
      val = { x: vx, y: vy };
    } else if (split > 0) {
      // Keras: the last rows, before any shuffling; split_at = floor(n * (1 - split)).
      const at = Math.floor(xs.rows * (1 - split));
      if (at < 1 || at >= xs.rows) {
        throw new MdnError("INVALID_CONFIG", "options.validationSplit", `a split leaving rows on both sides of ${xs.rows} rows`, String(split));
      }
      val = { x: sliceRows(xs, at, xs.rows), y: sliceRows(ys, at, ys.rows) };
      xs = sliceRows(xs, 0, at);
      ys = sliceRows(ys, 0, at);
    }
    const earlyStopping = resolveEarlyStopping(o.earlyStopping, val !== null);
    const initialEpoch = o.initialEpoch === undefined ? 0 : nonNegativeInt(o.initialEpoch, "options.initialEpoch");
    if (initialEpoch >= epochs) {
      throw new MdnError("INVALID_CONFIG", "options.initialEpoch", `less than options.epochs (${epochs}): epochs is the final epoch count, as in Keras`, String(initialEpoch));
    }
    const onNonFinite = oneOf(o.onNonFinite ?? "stop", "options.onNonFinite", ["stop", "throw"] as const);
    // Adam's step counter must not pass the kernel's i32 (a loaded checkpoint may be far along).
    const steps = (epochs - initialEpoch) * Math.ceil(xs.rows / batchSize);
    if (this.net.step + steps > MAX_ADAM_STEPS) {
      throw new MdnError("INVALID_CONFIG", "options.epochs", `at most ${MAX_ADAM_STEPS} Adam steps in all (this model has taken ${this.net.step})`, `${steps} more steps`);
    }
    const norm = this.planNormalization(o.normalize, xs, ys);
    if (norm) {
      xs = standardize(xs, norm.xMean, norm.xStd);
      ys = standardize(ys, norm.yMean, norm.yStd);
      if (val) val = { x: standardize(val.x, norm.xMean, norm.xStd), y: standardize(val.y, norm.yMean, norm.yStd) };
    }
    const plan: TrainPlan = {
      x: xs, y: ys, val, initialEpoch, epochs, batchSize, evenBatches, shuffle, optimizer, earlyStopping, onEpochEnd, onBatchEnd,
      signal: o.signal, verbose, onNonFinite, yieldMs, yieldBatches,
      resume: this.resumable(earlyStopping, initialEpoch),
      order: this.resumesAt(initialEpoch) && this.order?.length === xs.rows ? this.order : null,
      lossOffset: norm ? logScale(norm) : 0,
      norm,
      probeX: probeInputs(this.inputDim, norm),
      shouldStop: () => this.stopTraining,
      checkAlive: () => this.assertAlive(),
    };
    return { plan, norm };
  }

  /** A fit starting at this epoch continues where the last one (or the loaded checkpoint) stopped. */
  private resumesAt(initialEpoch: number): boolean {
    return initialEpoch > 0 && initialEpoch === this.progress.epoch;
  }

  /** The statistics this fit uses: the model's own, or learned now from the training rows. */
  private planNormalization(option: unknown, x: Checked, y: Checked): Normalization | null {
    const want = option ?? this.config.normalize;
    if (typeof want !== "boolean") throw new MdnError("INVALID_CONFIG", "options.normalize", "a boolean", describe(want));
    if (this.norm || !want) return this.norm;
    if (this.life.steps > 0 || this.net.step > 0) {
      throw new MdnError("INVALID_CONFIG", "options.normalize", "a model not yet trained (statistics are learned at the first fit)", "a model trained without normalisation");
    }
    return learnNormalization(x, y, this.net.covariance.sharedYScale);
  }

  /**
   * The early-stopping state to continue: only when this fit starts at the epoch the last one (or
   * the loaded checkpoint) reached, monitors the same quantity and, for restoreBestWeights, has the
   * best weights to go with it. Otherwise early stopping starts afresh, as in Keras.
   */
  private resumable(es: Required<EarlyStoppingOptions> | null, initialEpoch: number): EarlyStoppingState | null {
    const p = this.progress.earlyStopping;
    if (!es || !p || !this.resumesAt(initialEpoch) || p.monitor !== es.monitor) return null;
    if (es.restoreBestWeights && !this.bestWeights) return null;
    return { ...p };
  }

  /** The mixture parameters for every row of x, in inference mode (shapes in Prediction). */
  predict(x: MatrixLike, options: { batchSize?: number } = {}): Prediction {
    this.assertAlive();
    const o = optionsObject(options, "options", BATCH_KEYS);
    const xs = toMatrix(x, "x", this.inputDim);
    const { components: K, outputDim: D, covariance } = this.config;
    // Full covariance hands back each L as a dense (D, D) matrix.
    const perRow = K * (1 + D + (covariance === "full" ? D * D : this.net.S / K));
    checkResultSize(xs.rows * perRow, "x", `${xs.rows} rows x ${perRow} values per row`);
    return toPrediction(this.head(xs, o.batchSize as number | undefined), this.config);
  }

  // The probabilistic API (src/density.ts, src/sampling.ts). Inputs are validated here, before
  // any kernel runs; results are copies the caller owns.

  /** log p(y_n | x_n) per row (N). */
  logProb(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): Float32Array {
    const o = this.options(options, BATCH_KEYS);
    const [xs, ys] = this.pair(x, y);
    const logProb = jointOf(this.engine(xs.rows, o.batchSize as number | undefined), this.scaledX(xs), this.scaledY(ys)).logProb;
    // Densities of the original targets: the Jacobian of the standardisation.
    if (this.norm) {
      const shift = logScale(this.norm);
      for (let i = 0; i < logProb.length; i++) logProb[i] = logProb[i]! - shift;
    }
    return logProb;
  }

  /** Posterior over components p(k | x_n, y_n) (N, K); rows sum to 1. */
  responsibilities(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): Float32Array {
    const o = this.options(options, BATCH_KEYS);
    const [xs, ys] = this.pair(x, y);
    return jointOf(this.engine(xs.rows, o.batchSize as number | undefined), this.scaledX(xs), this.scaledY(ys)).gamma;
  }

  /** The most responsible component of each row (N), ties to the lowest index. */
  labels(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): Int32Array {
    const g = this.responsibilities(x, y, options);
    const K = this.components;
    const out = new Int32Array(g.length / K);
    for (let n = 0; n < out.length; n++) for (let k = 1; k < K; k++) if (g[n * K + k]! > g[n * K + out[n]!]!) out[n] = k;
    return out;
  }

  /** E[y | x] (N, D), float64. */
  mean(x: MatrixLike, options: { batchSize?: number } = {}): Float64Array {
    const o = this.options(options, BATCH_KEYS);
    return mixtureMean(this.mixtureOf(x, o.batchSize as number | undefined));
  }

  /** Cov[y | x] (N, D, D) by the law of total variance, float64. */
  covariance(x: MatrixLike, options: { batchSize?: number } = {}): Float64Array {
    const o = this.options(options, BATCH_KEYS);
    const D = this.outputDim;
    return mixtureCovariance(this.mixtureOf(x, o.batchSize as number | undefined, (rows) => checkResultSize(rows * D * D, "x", `${rows} rows x ${D * D} (a D x D matrix per row)`)));
  }

  /** Every local mode of p(y | x) per row, with its density, highest first. */
  modes(x: MatrixLike, options: ModeOptions & { batchSize?: number } = {}): RowModes[] {
    const o = this.options(options, MODE_KEYS);
    const tol = numberIn(o.tol ?? 1e-9, "options.tol", 0, 1, true);
    const mergeTol = numberIn(o.mergeTol ?? 1e-3, "options.mergeTol", 0, Infinity, true);
    const maxIter = positiveInt(o.maxIter ?? 1000, "options.maxIter", 1e7);
    const m = this.mixtureOf(x, o.batchSize as number | undefined);
    return Array.from({ length: m.N }, (_, n) => rowModes(m, n, { tol, mergeTol, maxIter }));
  }

  /** Draws y ~ p(y | x) per row with temperatures; see src/sampling.ts and the README. */
  sample(x: MatrixLike, options: SampleOptions & { batchSize?: number } = {}): Samples {
    const given = this.options(options, SAMPLE_KEYS);
    const o = resolveSampleOptions(given);
    const batchSize = given.batchSize as number | undefined;
    const D = this.outputDim;
    const xs = toMatrix(x, "x", this.inputDim);
    // Each draw is D values and its component: refuse before any row is run.
    checkResultSize(xs.rows * o.n * (D + 1), "options.n", `${xs.rows} rows x ${o.n} draws x ${D + 1} (D values and a component per draw)`);
    return sampleRows(this.engine(xs.rows, batchSize), this.scaledX(xs), this.norm, o);
  }

  /** PIT values and central-interval coverage on (x, y) for 1-D targets. */
  calibration(x: MatrixLike, y: MatrixLike, options: { levels?: number[]; batchSize?: number } = {}): Calibration {
    const o = this.options(options, CALIBRATION_KEYS);
    if (this.outputDim !== 1) throw new MdnError("SHAPE_MISMATCH", "y", "1-D targets (outputDim 1) for calibration", `outputDim ${this.outputDim}`);
    const levels = o.levels ?? [0.5, 0.8, 0.95];
    if (!Array.isArray(levels) || levels.length === 0) throw new MdnError("INVALID_ARGUMENT", "options.levels", "a non-empty array of levels in (0, 1)", describe(levels));
    levels.forEach((l, i) => numberIn(l, `options.levels[${i}]`, 0, 1, true, true));
    const [xs, ys] = this.pair(x, y);
    return calibrationOf(toMixture(this.head(xs, o.batchSize as number | undefined), this.config), ys.data, levels as number[]);
  }

  /** An options argument after the model is known to be alive: a plain object with known keys. */
  private options(options: unknown, known: readonly string[]): Record<string, unknown> {
    this.assertAlive();
    return optionsObject(options, "options", known);
  }

  /**
   * Fit a scale s on every sigma (or Cholesky factor L) and, unless `temperature` is false, a
   * temperature T on the mixing weights (pi^(1/T), renormalised) by maximum likelihood on held-out
   * rows (x, y) the model was not trained on, and fold them into the head's weights, so every
   * method and `save()` carry them (src/recalibrate.ts). Needs sigma activation "exp".
   */
  recalibrate(x: MatrixLike, y: MatrixLike, options: { temperature?: boolean; batchSize?: number } = {}): Recalibration {
    this.assertAlive();
    if (this.training) throw new MdnError("BUSY", "recalibrate", "no fit running on this model", "a fit in progress");
    if (typeof options !== "object" || options === null) throw new MdnError("INVALID_ARGUMENT", "options", "an object", describe(options));
    const temperature = options.temperature ?? true;
    if (typeof temperature !== "boolean") throw new MdnError("INVALID_ARGUMENT", "options.temperature", "a boolean", describe(temperature));
    if (this.config.sigma.activation !== "exp") {
      throw new MdnError("INVALID_CONFIG", "config.sigma.activation", '"exp" (recalibrate adds log s to the sigma biases)', JSON.stringify(this.config.sigma.activation));
    }
    const [xs, ys] = this.pair(x, y);
    const r = fitRecalibration(toMixture(this.head(xs, options.batchSize), this.config), ys.data, temperature);
    foldRecalibration(this.net, this.config, r.scale, r.temperature);
    this.net.fresh = false;
    return r;
  }

  private pair(x: MatrixLike, y: MatrixLike): [Checked, Checked] {
    this.assertAlive();
    const xs = toMatrix(x, "x", this.inputDim);
    const ys = toMatrix(y, "y", this.outputDim);
    checkPair(xs, ys, "x", "y");
    return [xs, ys];
  }

  /** The mixture for the rows of x; `check` sees the row count before anything is computed. */
  private mixtureOf(x: MatrixLike, batchSize: number | undefined, check?: (rows: number) => void) {
    this.assertAlive();
    const xs = toMatrix(x, "x", this.inputDim);
    check?.(xs.rows);
    return toMixture(this.head(xs, batchSize), this.config);
  }

  /** What inference in chunks needs (engine/infer.ts): the network and buffers for `cap` rows. */
  private engine(rows: number, batchSize: number | undefined): Engine {
    const cap = this.inferCap(rows, batchSize);
    return { net: this.net, cap, buffers: () => this.inferBuffers(cap) };
  }

  /** Mean negative log-likelihood of y given x, in inference mode (no L2 term), in original units. */
  evaluate(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): number {
    const o = this.options(options, BATCH_KEYS);
    let xs = toMatrix(x, "x", this.inputDim);
    let ys = toMatrix(y, "y", this.outputDim);
    checkPair(xs, ys, "x", "y");
    const norm = this.norm;
    if (norm) {
      xs = this.scaledX(xs);
      ys = this.scaledY(ys);
    }
    const s = this.inferBuffers(this.inferCap(xs.rows, o.batchSize as number | undefined)).scratch;
    return meanLoss(this.net, s, xs.rows, xs.data, ys.data, true) + (norm ? logScale(norm) : 0);
  }

  // Standardisation (src/normalize.ts): inputs and targets go in scaled, mixtures come out in
  // original units.
  private scaledX(xs: Checked): Checked {
    return this.norm ? standardize(xs, this.norm.xMean, this.norm.xStd) : xs;
  }

  private scaledY(ys: Checked): Checked {
    return this.norm ? standardize(ys, this.norm.yMean, this.norm.yStd) : ys;
  }

  /** The mixture's parameters for the rows of xs, in original units. */
  private head(xs: Checked, batchSize: number | undefined): HeadParams {
    const h = headParams(this.engine(xs.rows, batchSize), this.scaledX(xs));
    if (this.norm) unscaleHead(this.norm, h, this.config.covariance, this.outputDim);
    return h;
  }

  /** Parameter counts, as Keras' count_params. */
  countParams(): { total: number; trainable: number; nonTrainable: number } {
    let trainable = 0;
    let nonTrainable = 0;
    for (const t of this.net.tensors) (t.trainable ? (trainable += t.size) : (nonTrainable += t.size));
    return { total: trainable + nonTrainable, trainable, nonTrainable };
  }

  /** A Keras-style table of the layers with output shapes and parameter counts. */
  summary(): string {
    this.assertAlive();
    const rows: Array<[string, string, number]> = [["input (InputLayer)", `(None, ${this.inputDim})`, 0]];
    let bn = 0;
    let drop = 0;
    this.config.hidden.forEach((h, i) => {
      const inDim = i === 0 ? this.inputDim : this.config.hidden[i - 1]!.units;
      rows.push([`dense_${i + 1} (Dense, ${h.activation})`, `(None, ${h.units})`, (inDim + 1) * h.units]);
      if (h.dropout > 0) rows.push([`dropout_${++drop} (Dropout ${h.dropout})`, `(None, ${h.units})`, 0]);
      if (h.batchNorm) rows.push([`batch_normalization_${++bn} (BatchNormalization)`, `(None, ${h.units})`, 4 * h.units]);
    });
    const H = this.config.hidden.length ? this.config.hidden[this.config.hidden.length - 1]!.units : this.inputDim;
    const { components: K, outputDim: D } = this.config;
    rows.push([`mdn_mu (Dense, linear)`, `(None, ${K * D})`, (H + 1) * K * D]);
    const S = this.net.S;
    rows.push([this.net.covariance.summaryLabel(this.config.sigma.activation), `(None, ${S})`, (H + 1) * S]);
    rows.push([`mdn_pi (Dense, softmax)`, `(None, ${K})`, (H + 1) * K]);
    const w = [Math.max(32, ...rows.map((r) => r[0].length + 2)), 22, 12];
    const line = (c: string) => c.repeat(w[0]! + w[1]! + w[2]!);
    const fmt = (n: number) => n.toLocaleString("en-US");
    const c = this.countParams();
    const out = [
      `Model: "mdn" (${K} components, ${this.config.covariance} covariance, ${D}-D targets)`,
      line("_"),
      "Layer (type)".padEnd(w[0]!) + "Output Shape".padEnd(w[1]!) + "Param #",
      line("="),
      ...rows.map(([name, shape, n]) => name.padEnd(w[0]!) + shape.padEnd(w[1]!) + fmt(n)),
      line("="),
      `Total params: ${fmt(c.total)}`,
      `Trainable params: ${fmt(c.trainable)}`,
      `Non-trainable params: ${fmt(c.nonTrainable)}`,
      line("_"),
    ];
    return out.join("\n");
  }

  /** Copies of every weight, in layer order (Keras get_weights with names). */
  getWeights(): Weight[] {
    this.assertAlive();
    return this.net.tensors.map((t) => ({ name: t.name, shape: [...t.shape], trainable: t.trainable, data: readF32(this.k, t.ptr, t.size) }));
  }

  /**
   * Replace every weight; the list must match getWeights() in names and shapes (a name or shape
   * left out is not checked), the values must be finite float32 numbers and the weights must
   * predict finite numbers on the probe batch (src/probe.ts). All or nothing.
   */
  setWeights(weights: ReadonlyArray<{ name?: string; shape?: readonly number[]; data: ArrayLike<number> }>): void {
    this.assertAlive();
    if (this.training) throw new MdnError("BUSY", "setWeights", "no fit running on this model", "a fit in progress");
    const ts = this.net.tensors;
    if (!Array.isArray(weights) || weights.length !== ts.length) {
      throw new MdnError("SHAPE_MISMATCH", "weights", `${ts.length} tensors`, describe(weights));
    }
    weights.forEach((w: unknown, i) => {
      const t = ts[i]!;
      const at = `weights[${i}]`;
      if (typeof w !== "object" || w === null) throw new MdnError("INVALID_ARGUMENT", at, `a weight ${t.name}`, describe(w));
      const { name, shape, data } = w as { name?: unknown; shape?: unknown; data?: unknown };
      if (name !== undefined && name !== t.name) throw new MdnError("SHAPE_MISMATCH", `${at}.name`, JSON.stringify(t.name), describe(name));
      if (shape !== undefined && !(Array.isArray(shape) && shape.length === t.shape.length && shape.every((d, j) => d === t.shape[j]))) {
        throw new MdnError("SHAPE_MISMATCH", `${at}.shape`, `[${t.shape}] for ${t.name}`, Array.isArray(shape) ? `[${shape.map((d) => describe(d))}]` : describe(shape));
      }
      if (!isNumberList(data)) throw new MdnError("INVALID_ARGUMENT", `${at}.data`, "an array or typed array of numbers", describe(data));
      if (data.length !== t.size) throw new MdnError("SHAPE_MISMATCH", `${at}.data`, `${t.size} values for ${t.name} [${t.shape}]`, describe(data));
      for (let j = 0; j < t.size; j++) {
        const v = data[j];
        if (typeof v !== "number") throw new MdnError("INVALID_ARGUMENT", `${at}.data[${j}]`, "a number", describe(v));
        if (!Number.isFinite(Math.fround(v))) throw new MdnError("NON_FINITE", `${at}.data[${j}]`, "a finite float32 value", describe(v));
      }
    });
    const before = readWeights(this.net);
    weights.forEach((w, i) => writeF32(this.k, ts[i]!.ptr, w.data));
    const problem = this.probeProblem();
    if (problem) {
      writeWeights(this.net, before);
      throw new MdnError("NON_FINITE", "weights", "weights that predict finite numbers on the probe batch", problem);
    }
    this.net.fresh = false;
  }

  /** End the model: any later call throws MdnError DISPOSED, and a running fit stops at its next batch. */
  /**
   * Release the model: every later call throws DISPOSED. Its wasm instance goes back to a pool of
   * one for the next MDN.create or MDN.load (at once, or when a running fit has ended).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.infer = null;
    if (!this.running) releaseKernels(this.k);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertAlive(): void {
    if (this.disposed) throw new MdnError("DISPOSED", "model", "a live model", "a disposed model");
  }

  private inferCap(rows: number, batchSize: number | undefined): number {
    const b = batchSize === undefined ? DEFAULT_INFER_BATCH : positiveInt(batchSize, "options.batchSize", MAX_BATCH);
    return Math.min(rows, b);
  }

  /** Inference buffers above the training arena (so predict works inside fit callbacks). */
  private inferBuffers(cap: number): InferBuffers {
    this.assertAlive();
    const base = this.training ? this.training.end : this.net.fixedEnd;
    const cur = this.infer;
    if (cur && cur.scratch.base === base && cur.scratch.cap >= cap) return cur;
    const b = planInference(this.net, base, Math.max(cap, cur?.scratch.cap ?? 0));
    ensureMemory(this.k, b.end, "x");
    this.infer = b;
    return b;
  }
}

/** MdnError TOO_LARGE when a call's results would hold more than MAX_RESULT_VALUES numbers. */
function checkResultSize(values: number, argument: string, what: string): void {
  if (values <= MAX_RESULT_VALUES) return;
  throw new MdnError(
    "TOO_LARGE", argument,
    `at most ${MAX_RESULT_VALUES} result values per call (${formatBytes(4 * MAX_RESULT_VALUES)} as float32): pass fewer rows per call`,
    `${what} = ${values} values`,
  );
}

/** An array or a typed array of numbers (not of BigInts, not a DataView). */
function isNumberList(v: unknown): v is ArrayLike<unknown> {
  if (Array.isArray(v)) return true;
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

/** A copy of file bytes the loader owns (anything else goes through for decodeFile to refuse). */
function ownCopy(bytes: unknown): unknown {
  if (bytes instanceof Uint8Array) return bytes.slice();
  return bytes instanceof ArrayBuffer ? new Uint8Array(bytes.slice(0)) : bytes;
}

function nonNegativeInt(v: unknown, argument: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new MdnError("INVALID_CONFIG", argument, "a non-negative integer", describe(v));
  return v;
}

function resolveOptimizer(o: FitOptions["optimizer"]): AdamSettings {
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

function resolveEarlyStopping(o: FitOptions["earlyStopping"], hasVal: boolean): Required<EarlyStoppingOptions> | null {
  if (o === undefined || o === false) return null;
  const e = o === true ? EARLY_STOPPING_TRUE : o;
  if (typeof e !== "object" || e === null) throw new MdnError("INVALID_CONFIG", "options.earlyStopping", "true or { monitor, minDelta, patience, restoreBestWeights }", describe(o));
  checkKeys(e, "options.earlyStopping", EARLY_STOPPING_KEYS);
  const monitor = oneOf(e.monitor ?? "val_loss", "options.earlyStopping.monitor", ["val_loss", "loss"] as const);
  if (monitor === "val_loss" && !hasVal) {
    throw new MdnError("INVALID_CONFIG", "options.earlyStopping.monitor", "validation data (validationSplit or validationData) to monitor val_loss", '"val_loss" with no validation data');
  }
  const patience = e.patience === undefined ? 0 : e.patience === 0 ? 0 : positiveInt(e.patience, "options.earlyStopping.patience");
  const restore = e.restoreBestWeights ?? false;
  if (typeof restore !== "boolean") throw new MdnError("INVALID_CONFIG", "options.earlyStopping.restoreBestWeights", "a boolean", describe(restore));
  return {
    monitor,
    minDelta: Math.abs(numberIn(e.minDelta ?? 0, "options.earlyStopping.minDelta", 0, Infinity)),
    patience,
    restoreBestWeights: restore,
  };
}

export type { Checked };
