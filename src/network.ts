// The network inside an MDN: dense -> activation -> dropout -> batch norm per hidden layer, then one
// fused dense head whose P = K + K*D + K*Sk outputs per row are [pi logits | mu (K, D) | sigma
// block (K, Sk)], Sk set by the covariance type (src/head.ts). This class owns the arena plan and drives the kernels; it knows nothing of
// users' arrays (model.ts) or epochs (train.ts).

import { ensureMemory, formatBytes, Planner } from "./arena.js";
import type { ResolvedConfig } from "./config.js";
import { MdnError } from "./errors.js";
import { type Head, HEAD_FLOOR, HEAD_SCALE, headOf, type HeadKernels } from "./head.js";
import { ACT_LINEAR, ACT_RELU, ACT_TANH, type Kernels, type Ptr, SIGMA_EXP, SIGMA_SOFTPLUS } from "./kernels.js";

export interface Tensor {
  /** Keras-style weight name, e.g. `dense_1/kernel`. */
  name: string;
  shape: number[];
  size: number;
  ptr: Ptr;
  trainable: boolean;
  /** Dense kernels: placed first in the trainable region, where the L2 penalty applies. */
  l2: boolean;
}

interface Layer {
  inDim: number;
  units: number;
  activation: "relu" | "tanh" | "linear";
  dropout: number;
  bn: { momentum: number; epsilon: number } | null;
  kernel: Tensor;
  bias: Tensor;
  gamma: Tensor | null;
  beta: Tensor | null;
  movingMean: Tensor | null;
  movingVar: Tensor | null;
}

/** Activation buffers of one hidden layer for `cap` rows; unused ones are 0. */
interface LayerScratch {
  z: Ptr; // dense output (cap, units)
  act: Ptr; // activation then dropout (cap, units): the batch norm's input
  deriv: Ptr; // d act / d z (cap, units): activation derivative times dropout mask
  mean: Ptr; // batch mean (units)
  vari: Ptr; // batch variance (units)
  work: Ptr; // batchnorm_backward's scratch (3, units)
  bn: Ptr; // batch-norm output (cap, units)
}

/** Buffers for passing up to `cap` rows through the network. */
export interface Scratch {
  cap: number;
  base: Ptr;
  /** Gradient of the buffer at p is at p + gradOffset (0 when planned without gradients). */
  gradOffset: number;
  x: Ptr; // (cap, I)
  y: Ptr; // (cap, D)
  layers: LayerScratch[];
  a: Ptr; // head output (cap, P)
  gamma: Ptr; // responsibilities (cap, K)
  nll: Ptr; // (cap)
  loss: Ptr; // sum of nll over the rows (one f64)
  work: Ptr; // the mixture kernels' scratch (head.workFloats)
  end: Ptr;
}

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  decay: number;
  /** Clip the gradients' global norm to this before each step (Keras global_clipnorm); 0: never. */
  clipNorm: number;
}

/** Keras' Adam defaults (epsilon 1e-7 as tf.keras and TensorFlow.js). */
export const DEFAULT_ADAM: Readonly<AdamSettings> = Object.freeze({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0, clipNorm: 0 });

/**
 * The one limit on a model's size, checked by MDN.create and MDN.load alike: the fixed part of its
 * arena (parameters, gradients, both Adam moments, moving statistics; modelBytes) at most 1 GiB.
 * Training needs that twice over (the epoch's starting state is kept to fall back on) plus a
 * quarter for restoreBestWeights, which leaves at least 1.75 GiB of wasm32's 4 GiB for the data
 * and the batch's activations.
 */
export const MAX_MODEL_BYTES = 2 ** 30;

export class Network {
  readonly layers: Layer[] = [];
  readonly head: { kernel: Tensor; bias: Tensor };
  /** All weights in Keras order (layer by layer). */
  readonly tensors: Tensor[] = [];
  private f64 = new Float64Array(0);
  private f32v = new Float32Array(0);
  /** The step kernels' float settings (see the constructor). */
  readonly cst: Ptr;
  /** The covariance type's Head (src/head.ts). */
  readonly covariance: Head;
  readonly P: number;
  /** Floats of the sigma block per row: K * Sk. */
  readonly S: number;
  /** The loss, gradient and parameter kernels of the configured covariance type. */
  private readonly mixture: HeadKernels;
  readonly params: Ptr;
  /** Bytes of the trainable region; grads, m and v follow at 1x, 2x, 3x this offset. */
  readonly paramBytes: number;
  /** Kernels come first in the trainable region: the L2 penalty applies to [params, params + kernelBytes). */
  readonly kernelBytes: number;
  readonly stats: Ptr;
  readonly statsBytes: number;
  readonly rng: Ptr;
  /** Adam's settings (6) f64 for adam_step, then clip_global_norm's (1), and the settings object they were written from. */
  readonly hp: Ptr;
  private hpFor: AdamSettings | null = null;
  /** First byte after the fixed part of the arena. */
  readonly fixedEnd: Ptr;
  readonly sigmaAct: number;
  /** Adam steps applied so far. */
  step = 0;
  /** True while the weights are exactly as initialize() left them (no fit, no setWeights since). */
  fresh = false;

  constructor(
    readonly k: Kernels,
    readonly cfg: ResolvedConfig,
  ) {
    const planned = planTensors(cfg);
    this.P = planned.P;
    this.S = planned.S;
    this.layers.push(...planned.layers);
    this.head = planned.head;
    this.tensors.push(...planned.tensors);
    this.covariance = headOf(cfg.covariance);
    this.mixture = this.covariance.kernels(k);
    this.sigmaAct = cfg.sigma.activation === "exp" ? SIGMA_EXP : SIGMA_SOFTPLUS;
    const plan = planFixed(this.tensors, this.layers.length, k.heap_base());
    this.params = plan.params;
    this.kernelBytes = plan.kernelBytes;
    this.paramBytes = plan.paramBytes;
    this.stats = plan.stats;
    this.statsBytes = plan.statsBytes;
    this.rng = plan.rng;
    this.hp = plan.hp;
    this.cst = plan.cst;
    this.fixedEnd = plan.end;
    ensureMemory(k, this.fixedEnd, "config");
    const c = this.f32();
    this.layers.forEach((l, i) => c.set([l.dropout, l.bn?.epsilon ?? 0, l.bn?.momentum ?? 0], (this.cst >>> 2) + 4 * i));
    c.set([cfg.sigma.floor, 0, 0], (this.headCst + HEAD_FLOOR) >>> 2); // floor, scale, the 0
  }

  /** Where layer i's step settings are: rate, epsilon, momentum (f32 each). */
  private layerCst(i: number): Ptr {
    return this.cst + 16 * i;
  }

  /** The head's settings block (src/head.ts HEAD_FLOOR, HEAD_SCALE), then a 0 at + 8. */
  private get headCst(): Ptr {
    return this.cst + 16 * this.layers.length;
  }

  /** A float32 view over all of memory, remade only when memory grew: nothing allocated per call. */
  private f32(): Float32Array {
    if (this.f32v.buffer !== this.k.memory.buffer) this.f32v = new Float32Array(this.k.memory.buffer);
    return this.f32v;
  }

  grad(p: Ptr): Ptr {
    return p + this.paramBytes;
  }

  /** Keras defaults: Glorot-uniform kernels, zero biases, gamma 1, beta 0, moving mean 0, var 1. */
  initialize(): void {
    const k = this.k;
    k.fill_zero(this.params, 4 * this.paramBytes + this.statsBytes);
    k.rng_seed(this.rng, BigInt(this.cfg.seed));
    for (const l of this.layers) {
      k.rng_fill_uniform(l.kernel.ptr, l.inDim, l.units, l.units, glorot(l.inDim, l.units), this.rng);
      if (l.gamma && l.movingVar) {
        this.fill(l.gamma, 1);
        this.fill(l.movingVar, 1);
      }
    }
    // The head is three Keras Dense layers fused into one; each block gets its own Glorot limit.
    const H = this.head.kernel.shape[0]!;
    const { components: K, outputDim: D } = this.cfg;
    const w = this.head.kernel.ptr;
    k.rng_fill_uniform(w + 4 * K, H, K * D, this.P, glorot(H, K * D), this.rng); // mu
    k.rng_fill_uniform(w + 4 * (K + K * D), H, this.S, this.P, glorot(H, this.S), this.rng); // sigma
    k.rng_fill_uniform(w, H, K, this.P, glorot(H, K), this.rng); // pi
    this.step = 0;
    this.fresh = true;
  }

  private fill(t: Tensor, value: number): void {
    new Float32Array(this.k.memory.buffer, t.ptr, t.size).fill(value);
  }

  /** Plan buffers for `cap` rows at `base`, with a gradient mirror when training (a plan: the caller grows memory to `end`). */
  planScratch(base: Ptr, cap: number, withGrads: boolean): Scratch {
    const { inputDim: I, outputDim: D, components: K } = this.cfg;
    const p = new Planner(base);
    const x = p.take(cap * I);
    const y = p.take(cap * D);
    const layers = this.layers.map((l) => {
      const n = cap * l.units;
      return {
        z: p.take(n),
        act: p.take(n),
        deriv: withGrads ? p.take(n) : 0,
        mean: withGrads && l.bn ? p.take(l.units) : 0,
        vari: withGrads && l.bn ? p.take(l.units) : 0,
        work: withGrads && l.bn ? p.take(3 * l.units) : 0,
        bn: l.bn ? p.take(n) : 0,
      };
    });
    const a = p.take(cap * this.P);
    const gamma = p.take(cap * K);
    const nll = p.take(cap);
    const loss = p.take(2);
    const work = p.take(this.covariance.workFloats(K, D));
    const actBytes = p.top - base;
    const end = withGrads ? p.top + actBytes : p.top;
    return { cap, base, gradOffset: withGrads ? actBytes : 0, x, y, layers, a, gamma, nll, loss, work, end };
  }

  /**
   * Forward n rows staged at s.x through the hidden layers and the head into s.a. Training mode
   * draws dropout masks and uses batch statistics (left in s for updateMovingStats); inference mode
   * skips dropout and uses the moving statistics.
   */
  forward(s: Scratch, n: number, training: boolean): void {
    const k = this.k;
    let inp = s.x;
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i]!;
      const b = s.layers[i]!;
      const size = n * l.units;
      k.dense_forward(b.z, inp, l.kernel.ptr, l.bias.ptr, n, l.inDim, l.units);
      k.act_dropout_forward_at(b.act, b.deriv, b.z, n * l.units, ACT[l.activation], training ? this.layerCst(i) : this.headCst + 8, this.rng);
      let cur = b.act;
      if (l.bn) {
        if (training) {
          k.batchnorm_forward_train_at(b.bn, b.mean, b.vari, cur, l.gamma!.ptr, l.beta!.ptr, n, l.units, this.layerCst(i) + 4);
        } else {
          k.batchnorm_forward_infer(b.bn, cur, l.gamma!.ptr, l.beta!.ptr, l.movingMean!.ptr, l.movingVar!.ptr, n, l.units, l.bn.epsilon);
        }
        cur = b.bn;
      }
      inp = cur;
    }
    k.dense_forward(s.a, inp, this.head.kernel.ptr, this.head.bias.ptr, n, this.headInDim(), this.P);
  }

  /**
   * Fold the batch statistics of the last training forward into the moving statistics. Kept apart
   * from forward so that a batch found non-finite leaves the moving statistics untouched.
   */
  updateMovingStats(s: Scratch): void {
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i]!;
      const b = s.layers[i]!;
      if (l.bn) this.k.batchnorm_update_moving_at(l.movingMean!.ptr, l.movingVar!.ptr, b.mean, b.vari, l.units, this.layerCst(i) + 8);
    }
  }

  /** Sum over n rows of the NLL of the targets at s.y given s.a; fills s.gamma and s.nll. */
  mixtureLoss(s: Scratch, n: number): number {
    const { outputDim: D, components: K } = this.cfg;
    this.mixture.forward(s.loss, s.nll, s.gamma, 0, s.a, s.y, n, K, D, this.sigmaAct, this.headCst, s.work);
    return this.lossAt(s);
  }

  /** The first of the n rows of head output at s.a with a value that is not finite, or -1. */
  badHeadRow(s: Scratch, n: number): number {
    // Counts as integers: V8 would box a double argument (see gradsFinite).
    if (this.k.all_finite(s.a, n * this.P) === 1) return -1;
    const a = new Float32Array(this.k.memory.buffer, s.a, n * this.P);
    return Math.floor(a.findIndex((v) => !Number.isFinite(v)) / this.P);
  }

  /** pi (n, K), mu (n, K, D) and the sigma blocks (n, K, Sk) of the n rows of head output at s.a. */
  mixtureParams(s: Scratch, n: number, pi: Ptr, mu: Ptr, sigma: Ptr): void {
    const { outputDim: D, components: K } = this.cfg;
    this.mixture.params(pi, mu, sigma, s.a, n, K, D, this.sigmaAct, this.headCst, s.work);
  }

  /**
   * The training forward's mixtureLoss, and in the same call the head's gradient: the head output's
   * gradient (zeroed by zeroGrads) += d (mean NLL) / d a, which backward(s, n, false) starts from.
   */
  trainLoss(s: Scratch, n: number): number {
    const { outputDim: D, components: K } = this.cfg;
    this.f32()[(this.headCst + HEAD_SCALE) >>> 2] = 1 / n;
    this.mixture.forward(s.loss, s.nll, s.gamma, s.a + s.gradOffset, s.a, s.y, n, K, D, this.sigmaAct, this.headCst, s.work);
    return this.lossAt(s);
  }

  private lossAt(s: Scratch): number {
    // A view over all of memory, remade only when memory grew: nothing is allocated per batch.
    if (this.f64.buffer !== this.k.memory.buffer) this.f64 = new Float64Array(this.k.memory.buffer);
    return this.f64[s.loss / 8]!;
  }

  /**
   * Zero, once per step, the gradients that backward accumulates into: the parameters', each
   * layer's output's (dense_backward adds to them) and the head output's. The others have a single
   * writer that overwrites them (act_dropout_backward, batchnorm_backward).
   */
  zeroGrads(s: Scratch): void {
    const k = this.k;
    const g = s.gradOffset;
    k.fill_zero(this.grad(this.params), this.paramBytes);
    for (let i = 0; i < this.layers.length; i++) k.fill_zero(this.layerOutput(s, i) + g, 4 * s.cap * this.layers[i]!.units);
    k.fill_zero(s.a + g, 4 * s.cap * this.P);
  }

  /**
   * Gradients of the mean NLL over the n rows of the last training forward; with head false, from
   * the head's gradient that trainLoss left, else through trainLoss first.
   */
  backward(s: Scratch, n: number, head = true): void {
    const k = this.k;
    const g = s.gradOffset;
    if (head) this.trainLoss(s, n);
    const L = this.layers.length;
    const lastOut = L === 0 ? s.x : this.layerOutput(s, L - 1);
    const headIn = this.headInDim();
    k.dense_backward(L === 0 ? 0 : lastOut + g, this.grad(this.head.kernel.ptr), this.grad(this.head.bias.ptr), s.a + g, lastOut, this.head.kernel.ptr, n, headIn, this.P);
    for (let i = L - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      const b = s.layers[i]!;
      if (l.bn) {
        // Through the batch norm and on through the activation and dropout (deriv) in one kernel.
        k.batchnorm_backward_at(b.z + g, this.grad(l.gamma!.ptr), this.grad(l.beta!.ptr), b.work, b.bn + g, b.act, b.mean, b.vari, l.gamma!.ptr, b.deriv, n, l.units, this.layerCst(i) + 4);
      } else {
        k.act_dropout_backward(b.z + g, b.act + g, b.deriv, n * l.units);
      }
      const inp = i === 0 ? s.x : this.layerOutput(s, i - 1);
      k.dense_backward(i === 0 ? 0 : inp + g, this.grad(l.kernel.ptr), this.grad(l.bias.ptr), b.z + g, inp, l.kernel.ptr, n, l.inDim, l.units);
    }
  }

  /** Sum of squares of all kernels (the L2 penalty is cfg.l2 times this). */
  kernelSumSquares(): number {
    return this.k.sum_squares(this.params, this.kernelBytes >> 2);
  }

  /**
   * One Adam step over the whole trainable region (kernels with L2, the rest without). Returns
   * true when every updated weight and moment is finite (checked by the kernel as it writes them).
   */
  adamStep(o: AdamSettings): boolean {
    this.useSettings(o);
    this.step++;
    const pb = this.paramBytes;
    const p = this.params;
    return this.k.adam_step(p, p + pb, p + 2 * pb, p + 3 * pb, this.kernelBytes >> 2, (pb - this.kernelBytes) >> 2, this.step, this.hp) === 1;
  }

  /** Scale the gradients of the last backward so that their global norm is at most o.clipNorm (> 0). */
  clipGradients(o: AdamSettings): void {
    this.useSettings(o);
    this.k.clip_global_norm(this.grad(this.params), this.paramBytes >> 2, this.hp);
  }

  private useSettings(o: AdamSettings): void {
    if (o === this.hpFor) return;
    // Written once per settings object (a fit), so a step passes only integers (see adam_step).
    new Float64Array(this.k.memory.buffer, this.hp, 7).set([o.learningRate, o.decay, o.beta1, o.beta2, o.epsilon, this.cfg.l2, o.clipNorm]);
    this.hpFor = o;
  }

  /** Bytes needed to snapshot the weights (trainable and moving statistics). */
  get snapshotBytes(): number {
    return this.paramBytes + this.statsBytes;
  }

  saveSnapshot(dst: Ptr): void {
    this.k.copy_bytes(dst, this.params, this.paramBytes);
    this.k.copy_bytes(dst + this.paramBytes, this.stats, this.statsBytes);
  }

  loadSnapshot(src: Ptr): void {
    this.k.copy_bytes(this.params, src, this.paramBytes);
    this.k.copy_bytes(this.stats, src + this.paramBytes, this.statsBytes);
  }

  /** Bytes of the whole training state: params | grads | m | v | moving stats | generator. */
  get stateBytes(): number {
    return this.fixedEnd - this.params;
  }

  /** Copy the whole training state (one copy; the gradients ride along). */
  saveState(dst: Ptr): void {
    this.k.copy_bytes(dst, this.params, this.stateBytes);
  }

  loadState(src: Ptr): void {
    this.k.copy_bytes(this.params, src, this.stateBytes);
    // The Adam settings in memory are the saved ones now: the next step writes its own again.
    this.hpFor = null;
  }

  /** True when every gradient of the last backward is finite. */
  gradsFinite(): boolean {
    // Counts as integers (>> 2, not / 4): V8 would box a double argument on every call.
    return this.k.all_finite(this.grad(this.params), this.paramBytes >> 2) === 1;
  }

  /** True when the moving statistics are finite (the weights and moments are checked by adamStep). */
  statsFinite(): boolean {
    return this.k.all_finite(this.stats, this.statsBytes >> 2) === 1;
  }

  private headInDim(): number {
    return this.head.kernel.shape[0]!;
  }

  /** Where layer i's final output lives in s (after dropout and batch norm, as trained). */
  private layerOutput(s: Scratch, i: number): Ptr {
    return this.layers[i]!.bn ? s.layers[i]!.bn : s.layers[i]!.act;
  }
}

/**
 * The fixed part of the arena from `base`: dense kernels first (the L2 penalty's region), then the
 * other trainables; gradients, m and v mirror them; then moving statistics, the generator, Adam's
 * settings and the step kernels' float settings. Places the tensors (sets their ptr).
 */
function planFixed(tensors: Tensor[], layers: number, base: Ptr) {
  const plan = new Planner(base);
  const params = plan.top;
  for (const x of tensors) if (x.l2) x.ptr = plan.take(x.size);
  const kernelBytes = plan.top - params;
  for (const x of tensors) if (x.trainable && !x.l2) x.ptr = plan.take(x.size);
  const paramBytes = plan.top - params;
  plan.top += 3 * paramBytes; // grads, m, v
  const stats = plan.top;
  for (const x of tensors) if (!x.trainable) x.ptr = plan.take(x.size);
  const statsBytes = plan.top - stats;
  const rng = plan.take(4);
  const hp = plan.take(14); // Adam's six f64 settings and the clip limit (src/network.ts adamStep)
  // Float settings of the step kernels (assembly/step.ts): per layer rate, epsilon, momentum;
  // then the head's floor, 1 / n (written per batch) and a 0 (the rate when not training).
  const cst = plan.take(4 * layers + 4);
  return { params, kernelBytes, paramBytes, stats, statsBytes, rng, hp, cst, end: plan.top };
}

/** Bytes of a model's fixed arena (what MAX_MODEL_BYTES limits), from its config alone. */
export function modelBytes(cfg: ResolvedConfig): number {
  const { tensors, layers } = planTensors(cfg);
  return planFixed(tensors, layers.length, 0).end;
}

/** MdnError TOO_LARGE unless a model for cfg is within MAX_MODEL_BYTES; allocates nothing. */
export function checkModelSize(cfg: ResolvedConfig): void {
  const need = modelBytes(cfg);
  if (need <= MAX_MODEL_BYTES) return;
  const params = planTensors(cfg).tensors.reduce((a, t) => a + t.size, 0);
  throw new MdnError(
    "TOO_LARGE", "config",
    `a model of at most ${formatBytes(MAX_MODEL_BYTES)} (parameters, gradients, Adam moments and statistics)`,
    `${formatBytes(need)} for ${params} weights`,
  );
}

/**
 * The tensors of a network for `cfg`, in Keras order, with their shapes (pointers 0): the
 * constructor places them in the arena, and the model-file loader checks a file's tensor table
 * against this list before anything is allocated.
 */
export function planTensors(cfg: ResolvedConfig): { P: number; S: number; layers: Layer[]; head: { kernel: Tensor; bias: Tensor }; tensors: Tensor[] } {
  const { inputDim, outputDim: D, components: K } = cfg;
  const S = K * headOf(cfg.covariance).blockSize(D);
  const P = K + K * D + S;
  const tensors: Tensor[] = [];
  const layers: Layer[] = [];
  const t = (name: string, shape: number[], trainable: boolean, l2 = false): Tensor => {
    const tensor = { name, shape, size: shape.reduce((a, b) => a * b, 1), ptr: 0, trainable, l2 };
    tensors.push(tensor);
    return tensor;
  };
  let inDim = inputDim;
  let bnIndex = 0;
  cfg.hidden.forEach((h, i) => {
    const kernel = t(`dense_${i + 1}/kernel`, [inDim, h.units], true, true);
    const bias = t(`dense_${i + 1}/bias`, [h.units], true);
    let gamma = null, beta = null, movingMean = null, movingVar = null;
    if (h.batchNorm) {
      bnIndex++;
      const n = `batch_normalization_${bnIndex}`;
      gamma = t(`${n}/gamma`, [h.units], true);
      beta = t(`${n}/beta`, [h.units], true);
      movingMean = t(`${n}/moving_mean`, [h.units], false);
      movingVar = t(`${n}/moving_variance`, [h.units], false);
    }
    layers.push({ inDim, units: h.units, activation: h.activation, dropout: h.dropout, bn: h.batchNorm, kernel, bias, gamma, beta, movingMean, movingVar });
    inDim = h.units;
  });
  const head = { kernel: t("mixture/kernel", [inDim, P], true, true), bias: t("mixture/bias", [P], true) };
  return { P, S, layers, head, tensors };
}

/** Keras' glorot_uniform limit. */
function glorot(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/** The act argument of act_dropout_forward for each activation name. */
const ACT = { relu: ACT_RELU, tanh: ACT_TANH, linear: ACT_LINEAR } as const;
