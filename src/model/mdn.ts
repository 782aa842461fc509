// MDN: the public model. create / fit / predict / evaluate / summary / dispose.
// Data flows one way: user arrays -> validated and copied once into the arena -> kernels ->
// results copied out into arrays the caller owns.

import { MAX_ADAM_STEPS, type MDNConfig, numberIn, oneOf, optionsObject, positiveInt, type ResolvedConfig, resolveConfig } from "../core/config.js";
import { checkPair, type Checked, type MatrixLike, sliceRows, toMatrix } from "../core/data.js";
import { describe, MdnError, ModelFormatError } from "../core/errors.js";
import type { EarlyStoppingOptions, EarlyStoppingState, History, TrainProgress } from "../core/history.js";
import { ensureMemory, type InferBuffers, planInference, readF32, writeF32 } from "../engine/arena.js";
import { type Engine, headParams, type HeadParams, jointOf, meanLoss } from "../engine/infer.js";
import { initMeansFromTargets } from "../engine/init.js";
import { instantiateKernels, releaseKernels, type ShippedKernels } from "../engine/kernels.js";
import { checkModelSize, Network } from "../engine/network.js";
import { learnNormalization, logScale, type Normalization, standardize, unscaleHead } from "../engine/normalize.js";
import { PROBE_ROWS, probeInputs, probeProblem } from "../engine/probe.js";
import { planTrainArena, readOrder, stageData, type TrainArena, trainLoop, type TrainPlan } from "../engine/train.js";
import { loadModule } from "../engine/wasm.js";
import { flatToSnapshot, loadInto, readNormalization, readResume, readWeights, type ResumeState, snapshotToFlat, trialStep, writeFile, writeWeights } from "../format/checkpoint.js";
import { decodeFile, type TrainingInfo } from "../format/modelfile.js";
import { type Calibration, calibrationOf, type ModeOptions, mixtureCovariance, mixtureMean, rowModes, type RowModes, toMixture } from "../mixture/density.js";
import { type Prediction, toPrediction } from "../mixture/prediction.js";
import { fitRecalibration, foldRecalibration, type Recalibration } from "../mixture/recalibrate.js";
import { resolveSampleOptions, type SampleOptions, sampleRows, type Samples } from "../mixture/sampling.js";
import {
  BATCH_KEYS, CALIBRATION_KEYS, CREATE_KEYS, type CreateOptions, type FitOptions, fitSettings, inferCap, MODE_KEYS, nonNegativeInt,
  ownCopy, resolveEarlyStopping, SAMPLE_KEYS, checkResultSize, booleanOption,
} from "./options.js";
import { countParams, summaryTable } from "./summary.js";
import { checkWeights } from "./weights.js";

export type { CreateOptions, FitOptions, OptimizerOptions } from "./options.js";
export type { Prediction };

export interface Weight {
  name: string;
  shape: number[];
  trainable: boolean;
  data: Float32Array;
}

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
  ) { }

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
   * A file that loads must predict finite numbers on the probe batch (src/engine/probe.ts), with its
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
    const { o, epochs, batchSize, evenBatches, shuffle, split, optimizer, verbose, yieldMs, yieldBatches, onEpochEnd, onBatchEnd } = fitSettings(options);
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
    const want = booleanOption(option, "options.normalize", this.config.normalize);
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

  // The probabilistic API (src/mixture/density.ts, src/mixture/sampling.ts). Inputs are validated here, before
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

  /** Draws y ~ p(y | x) per row with temperatures; see src/mixture/sampling.ts and the README. */
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
   * method and `save()` carry them (src/mixture/recalibrate.ts). Needs sigma activation "exp".
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
    const cap = inferCap(rows, batchSize);
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
    const s = this.inferBuffers(inferCap(xs.rows, o.batchSize as number | undefined)).scratch;
    return meanLoss(this.net, s, xs.rows, xs.data, ys.data, true) + (norm ? logScale(norm) : 0);
  }

  // Standardisation (src/engine/normalize.ts): inputs and targets go in scaled, mixtures come out in
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
    return countParams(this.net.tensors);
  }

  /** A Keras-style table of the layers with output shapes and parameter counts. */
  summary(): string {
    this.assertAlive();
    return summaryTable(this.config, this.net);
  }

  /** Copies of every weight, in layer order (Keras get_weights with names). */
  getWeights(): Weight[] {
    this.assertAlive();
    return this.net.tensors.map((t) => ({ name: t.name, shape: [...t.shape], trainable: t.trainable, data: readF32(this.k, t.ptr, t.size) }));
  }

  /**
   * Replace every weight; the list must match getWeights() in names and shapes (a name or shape
   * left out is not checked), the values must be finite float32 numbers and the weights must
   * predict finite numbers on the probe batch (src/engine/probe.ts). All or nothing.
   */
  setWeights(weights: ReadonlyArray<{ name?: string; shape?: readonly number[]; data: ArrayLike<number> }>): void {
    this.assertAlive();
    if (this.training) throw new MdnError("BUSY", "setWeights", "no fit running on this model", "a fit in progress");
    const ts = this.net.tensors;
    checkWeights(weights, ts);
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

export type { Checked };
