// MDN: the public model. create / fit / predict / evaluate / summary / dispose.
// Data flows one way: user arrays -> validated and copied once into the arena -> kernels ->
// results copied out into arrays the caller owns.

import { Planner, readF32, writeF32 } from "./arena.js";
import { type MDNConfig, numberIn, oneOf, positiveInt, type ResolvedConfig, resolveConfig } from "./config.js";
import { checkPair, type Checked, type MatrixLike, sliceRows, toMatrix } from "./data.js";
import { describe, MdnError } from "./errors.js";
import { initMeansFromTargets } from "./init.js";
import { instantiateKernels, type Kernels, type Ptr } from "./kernels.js";
import { type AdamSettings, Network, type Scratch } from "./network.js";
import { type Calibration, calibrationOf, type Engine, headParams, jointOf, type ModeOptions, mixtureCovariance, mixtureMean, rowModes, type RowModes, toMixture } from "./density.js";
import { type Prediction, toPrediction } from "./prediction.js";
import { resolveSampleOptions, type SampleOptions, sampleMixture, type Samples } from "./sampling.js";
import { loadModule, type WasmSource } from "./wasm.js";
import { datasetLoss, type EarlyStoppingOptions, type History, type Logs, planTrainArena, stageData, type TrainArena, trainLoop, type TrainPlan } from "./train.js";

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
}

export interface FitOptions {
  /** Default 1 (Keras). */
  epochs?: number;
  /** Default 32 (Keras). */
  batchSize?: number;
  /** Shuffle the training rows before every epoch; default true. */
  shuffle?: boolean;
  /** Hold out the LAST fraction of the rows (taken before shuffling) for validation; default 0. */
  validationSplit?: number;
  /** Explicit validation rows; overrides validationSplit (Keras). */
  validationData?: [MatrixLike, MatrixLike];
  optimizer?: OptimizerOptions | "adam";
  earlyStopping?: EarlyStoppingOptions | boolean;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: { batch: number; size: number; loss: number }) => void | Promise<void>;
  /** TensorFlow.js style: `callbacks: { onEpochEnd, onBatchEnd }`. */
  callbacks?: { onEpochEnd?: FitOptions["onEpochEnd"]; onBatchEnd?: FitOptions["onBatchEnd"] };
  /** Cancels training between batches; fit rejects with the signal's reason. */
  signal?: AbortSignal;
  /** 0 silent (default), 1 or 2: one line per epoch on the console (Keras verbose=2). */
  verbose?: 0 | 1 | 2;
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

export class MDN {
  /** Set to true (e.g. from onEpochEnd) to end fit after the current epoch, as in TensorFlow.js. */
  stopTraining = false;
  private disposed = false;
  private training: TrainArena | null = null;
  private infer: { scratch: Scratch; pi: Ptr; mu: Ptr; sigma: Ptr; end: Ptr } | null = null;

  private constructor(
    private readonly k: Kernels,
    private readonly net: Network,
    /** The resolved configuration, defaults filled in (including the seed drawn when none was given). */
    readonly config: ResolvedConfig,
  ) {}

  /** Validate the config, instantiate the kernels and initialise the weights from the seed. */
  static async create(config: MDNConfig, options: CreateOptions = {}): Promise<MDN> {
    const cfg = resolveConfig(config);
    const k = await instantiateKernels(await loadModule(options.module, "options.module"));
    const net = new Network(k, cfg);
    net.initialize();
    return new MDN(k, net, cfg);
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
    const plan = this.planFit(x, y, options);
    if (plan.signal?.aborted) throw plan.signal.reason;
    this.stopTraining = false;
    if (this.config.meanInit === "targets" && this.net.fresh) initMeansFromTargets(this.net, plan.y);
    this.net.fresh = false;
    const arena = planTrainArena(this.net, plan);
    this.training = arena;
    this.infer = null;
    try {
      stageData(this.net, plan, arena);
      return await trainLoop(this.net, plan, arena);
    } finally {
      this.training = null;
      this.infer = null;
    }
  }

  private planFit(x: MatrixLike, y: MatrixLike, o: FitOptions): TrainPlan {
    if (typeof o !== "object" || o === null) throw new MdnError("INVALID_ARGUMENT", "options", "an object", describe(o));
    const epochs = o.epochs === undefined ? 1 : positiveInt(o.epochs, "options.epochs", 1e9);
    const batchSize = o.batchSize === undefined ? 32 : positiveInt(o.batchSize, "options.batchSize", 1 << 20);
    const shuffle = o.shuffle ?? true;
    if (typeof shuffle !== "boolean") throw new MdnError("INVALID_CONFIG", "options.shuffle", "a boolean", describe(shuffle));
    const split = numberIn(o.validationSplit ?? 0, "options.validationSplit", 0, 1, false, true);
    const optimizer = resolveOptimizer(o.optimizer);
    const verbose = o.verbose ?? 0;
    if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new MdnError("INVALID_CONFIG", "options.verbose", "0, 1 or 2", describe(verbose));
    const onEpochEnd = o.onEpochEnd ?? o.callbacks?.onEpochEnd;
    const onBatchEnd = o.onBatchEnd ?? o.callbacks?.onBatchEnd;
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
    return {
      x: xs, y: ys, val, epochs, batchSize, shuffle, optimizer, earlyStopping, onEpochEnd, onBatchEnd,
      signal: o.signal, verbose,
      shouldStop: () => this.stopTraining,
      checkAlive: () => this.assertAlive(),
    };
  }

  /** The mixture parameters for every row of x, in inference mode (shapes in Prediction). */
  predict(x: MatrixLike, options: { batchSize?: number } = {}): Prediction {
    this.assertAlive();
    const xs = toMatrix(x, "x", this.inputDim);
    return toPrediction(headParams(this.engine(xs.rows, options.batchSize), xs), this.config);
  }

  // The probabilistic API (src/density.ts, src/sampling.ts). Inputs are validated here, before
  // any kernel runs; results are copies the caller owns.

  /** log p(y_n | x_n) per row (N). */
  logProb(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): Float32Array {
    const [xs, ys] = this.pair(x, y);
    return jointOf(this.engine(xs.rows, options.batchSize), xs, ys).logProb;
  }

  /** Posterior over components p(k | x_n, y_n) (N, K); rows sum to 1. */
  responsibilities(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): Float32Array {
    const [xs, ys] = this.pair(x, y);
    return jointOf(this.engine(xs.rows, options.batchSize), xs, ys).gamma;
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
    return mixtureMean(this.mixtureOf(x, options.batchSize));
  }

  /** Cov[y | x] (N, D, D) by the law of total variance, float64. */
  covariance(x: MatrixLike, options: { batchSize?: number } = {}): Float64Array {
    return mixtureCovariance(this.mixtureOf(x, options.batchSize));
  }

  /** Every local mode of p(y | x) per row, with its density, highest first. */
  modes(x: MatrixLike, options: ModeOptions & { batchSize?: number } = {}): RowModes[] {
    if (typeof options !== "object" || options === null) throw new MdnError("INVALID_ARGUMENT", "options", "an object", describe(options));
    const tol = numberIn(options.tol ?? 1e-9, "options.tol", 0, 1, true);
    const mergeTol = numberIn(options.mergeTol ?? 1e-3, "options.mergeTol", 0, Infinity, true);
    const maxIter = positiveInt(options.maxIter ?? 1000, "options.maxIter", 1e7);
    const m = this.mixtureOf(x, options.batchSize);
    return Array.from({ length: m.N }, (_, n) => rowModes(m, n, { tol, mergeTol, maxIter }));
  }

  /** Draws y ~ p(y | x) per row with temperatures; see src/sampling.ts and the README. */
  sample(x: MatrixLike, options: SampleOptions & { batchSize?: number } = {}): Samples {
    const o = resolveSampleOptions(options);
    const m = this.mixtureOf(x, options.batchSize);
    const e = this.engine(m.N, options.batchSize);
    return sampleMixture(e, m, o, e.buffers().end);
  }

  /** PIT values and central-interval coverage on (x, y) for 1-D targets. */
  calibration(x: MatrixLike, y: MatrixLike, options: { levels?: number[]; batchSize?: number } = {}): Calibration {
    if (this.outputDim !== 1) throw new MdnError("SHAPE_MISMATCH", "y", "1-D targets (outputDim 1) for calibration", `outputDim ${this.outputDim}`);
    const levels = options.levels ?? [0.5, 0.8, 0.95];
    if (!Array.isArray(levels) || levels.length === 0) throw new MdnError("INVALID_ARGUMENT", "options.levels", "a non-empty array of levels in (0, 1)", describe(levels));
    levels.forEach((l, i) => numberIn(l, `options.levels[${i}]`, 0, 1, true, true));
    const [xs, ys] = this.pair(x, y);
    return calibrationOf(toMixture(headParams(this.engine(xs.rows, options.batchSize), xs), this.config), ys.data, levels);
  }

  private pair(x: MatrixLike, y: MatrixLike): [Checked, Checked] {
    this.assertAlive();
    const xs = toMatrix(x, "x", this.inputDim);
    const ys = toMatrix(y, "y", this.outputDim);
    checkPair(xs, ys, "x", "y");
    return [xs, ys];
  }

  private mixtureOf(x: MatrixLike, batchSize: number | undefined) {
    this.assertAlive();
    const xs = toMatrix(x, "x", this.inputDim);
    return toMixture(headParams(this.engine(xs.rows, batchSize), xs), this.config);
  }

  /** What density.ts and sampling.ts need: kernels, network and inference buffers. */
  private engine(rows: number, batchSize: number | undefined): Engine {
    const cap = this.inferCap(rows, batchSize);
    return { k: this.k, net: this.net, cfg: this.config, cap, buffers: () => this.inferBuffers(cap) };
  }

  /** Mean negative log-likelihood of y given x, in inference mode (no L2 term). */
  evaluate(x: MatrixLike, y: MatrixLike, options: { batchSize?: number } = {}): number {
    this.assertAlive();
    const xs = toMatrix(x, "x", this.inputDim);
    const ys = toMatrix(y, "y", this.outputDim);
    checkPair(xs, ys, "x", "y");
    const cap = this.inferCap(xs.rows, options.batchSize);
    const s = this.inferBuffers(cap).scratch;
    let sum = 0;
    for (let start = 0; start < xs.rows; start += cap) {
      const n = Math.min(cap, xs.rows - start);
      writeF32(this.k, s.x, xs.data, start * this.inputDim, n * this.inputDim);
      writeF32(this.k, s.y, ys.data, start * this.outputDim, n * this.outputDim);
      this.net.forward(s, n, false);
      sum += this.net.mixtureLoss(s, n);
    }
    return sum / xs.rows;
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
    const sigmaName = this.config.covariance === "full" ? `mdn_scale_tril (Dense, ${this.config.sigma.activation} diagonal)` : `mdn_sigma (Dense, ${this.config.sigma.activation})`;
    rows.push([sigmaName, `(None, ${S})`, (H + 1) * S]);
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

  /** Replace every weight; the list must match getWeights() in names and shapes. All or nothing. */
  setWeights(weights: ReadonlyArray<{ name?: string; shape?: readonly number[]; data: ArrayLike<number> }>): void {
    this.assertAlive();
    const ts = this.net.tensors;
    if (!Array.isArray(weights) || weights.length !== ts.length) {
      throw new MdnError("SHAPE_MISMATCH", "weights", `${ts.length} tensors`, describe(weights));
    }
    weights.forEach((w, i) => {
      const t = ts[i]!;
      const at = `weights[${i}]`;
      if (typeof w !== "object" || w === null) throw new MdnError("INVALID_ARGUMENT", at, `a weight ${t.name}`, describe(w));
      if (w.name !== undefined && w.name !== t.name) throw new MdnError("SHAPE_MISMATCH", `${at}.name`, JSON.stringify(t.name), describe(w.name));
      if (!w.data || w.data.length !== t.size) throw new MdnError("SHAPE_MISMATCH", `${at}.data`, `${t.size} values for ${t.name} [${t.shape}]`, describe(w.data));
      for (let j = 0; j < t.size; j++) {
        if (!Number.isFinite(Math.fround(w.data[j]!))) throw new MdnError("NON_FINITE", `${at}.data[${j}]`, "a finite float32 value", describe(w.data[j]));
      }
    });
    weights.forEach((w, i) => writeF32(this.k, ts[i]!.ptr, w.data));
    this.net.fresh = false;
  }

  /** End the model: any later call throws MdnError DISPOSED, and a running fit stops at its next batch. */
  dispose(): void {
    this.disposed = true;
    this.infer = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertAlive(): void {
    if (this.disposed) throw new MdnError("DISPOSED", "model", "a live model", "a disposed model");
  }

  private inferCap(rows: number, batchSize: number | undefined): number {
    const b = batchSize === undefined ? DEFAULT_INFER_BATCH : positiveInt(batchSize, "options.batchSize", 1 << 20);
    return Math.min(rows, b);
  }

  /** Inference buffers above the training arena (so predict works inside fit callbacks). */
  private inferBuffers(cap: number): { scratch: Scratch; pi: Ptr; mu: Ptr; sigma: Ptr; end: Ptr } {
    const base = this.training ? this.training.end : this.net.fixedEnd;
    const cur = this.infer;
    if (cur && cur.scratch.base === base && cur.scratch.cap >= cap) return cur;
    const scratch = this.net.planScratch(base, Math.max(cap, cur?.scratch.cap ?? 0), false);
    const { components: K, outputDim: D } = this.config;
    const p = new Planner(scratch.end);
    const c = scratch.cap;
    const b = { scratch, pi: p.take(c * K), mu: p.take(c * K * D), sigma: p.take(c * this.net.S), end: 0 };
    b.end = p.top;
    const have = this.k.memory.buffer.byteLength;
    if (p.top > have) this.k.memory.grow(Math.ceil((p.top - have) / 65536));
    this.infer = b;
    return b;
  }
}

function resolveOptimizer(o: FitOptions["optimizer"]): AdamSettings {
  if (o === undefined || o === "adam") return { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 };
  if (typeof o !== "object" || o === null) throw new MdnError("INVALID_CONFIG", "options.optimizer", '"adam" or { name: "adam", learningRate, ... }', describe(o));
  oneOf(o.name ?? "adam", "options.optimizer.name", ["adam"] as const);
  return {
    learningRate: numberIn(o.learningRate ?? 1e-3, "options.optimizer.learningRate", 0, Infinity, true),
    beta1: numberIn(o.beta1 ?? 0.9, "options.optimizer.beta1", 0, 1, false, true),
    beta2: numberIn(o.beta2 ?? 0.999, "options.optimizer.beta2", 0, 1, false, true),
    epsilon: numberIn(o.epsilon ?? 1e-7, "options.optimizer.epsilon", 0, Infinity, true),
    decay: numberIn(o.decay ?? 0, "options.optimizer.decay", 0, Infinity),
  };
}

function resolveEarlyStopping(o: FitOptions["earlyStopping"], hasVal: boolean): Required<EarlyStoppingOptions> | null {
  if (o === undefined || o === false) return null;
  const e = o === true ? {} : o;
  if (typeof e !== "object" || e === null) throw new MdnError("INVALID_CONFIG", "options.earlyStopping", "true or { monitor, minDelta, patience, restoreBestWeights }", describe(o));
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
