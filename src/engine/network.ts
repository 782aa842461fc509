// The network inside an MDN: dense -> activation -> dropout -> batch norm per hidden layer, then one
// fused dense head whose P = K + K*D + K*Sk outputs per row are [pi logits | mu (K, D) | sigma
// block (K, Sk)], Sk set by the covariance type (head.ts). This class places itself in memory by
// the plan of arena.ts, writes its settings blocks and drives the kernels; it knows nothing of
// users' arrays (model/) or epochs (train.ts).

import { ensureMemory, formatBytes, planModel, type Scratch, type Tensor } from "./arena.js";
import type { ResolvedConfig } from "../core/config.js";
import { MdnError } from "../core/errors.js";
import { type Head, HEAD_FLOOR, HEAD_SCALE, headOf, type HeadKernels } from "./head.js";
import {
  ACT_LINEAR, ACT_RELU, ACT_TANH, DENSE_WORK_BYTES, LAYER_BYTES, LAYER_EPSILON, LAYER_MOMENTUM, LAYER_RATE, OPT_BETA1, OPT_BETA2, OPT_BYTES, OPT_CLIP_NORM,
  OPT_DECAY, OPT_EPSILON, OPT_L2, OPT_LEARNING_RATE, type Ptr, type ShippedKernels, SIGMA_EXP, SIGMA_SOFTPLUS,
} from "./kernels.js";

export type { Scratch, Tensor };

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
  /** The covariance type's Head (src/engine/head.ts). */
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
  /** The optimizer's settings block (adam_step, clip_global_norm), and the settings object it was written from. */
  readonly opt: Ptr;
  private optFor: AdamSettings | null = null;
  /** The head's settings block (head.ts HEAD_*). */
  readonly headSettings: Ptr;
  /** Layer i's settings block in training is at layerSettings + i * LAYER_BYTES, in inference L * LAYER_BYTES further. */
  private readonly layerSettings: Ptr;
  /** Bytes of the whole training state: params | grads | m | v | moving stats | generator | settings. */
  readonly stateBytes: number;
  /** The per-thread scratch of dense_* and act_dropout_forward_at. */
  private readonly denseWork: Ptr;
  private readonly dropoutWork: Ptr;
  /** First byte after the model's own regions. */
  readonly fixedEnd: Ptr;
  readonly sigmaAct: number;
  /** Adam steps applied so far. */
  step = 0;
  /** True while the weights are exactly as initialize() left them (no fit, no setWeights since). */
  fresh = false;

  constructor(
    readonly k: ShippedKernels,
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
    const plan = planModel(this.tensors, this.layers.length, k.heap_base());
    this.params = plan.params;
    this.kernelBytes = plan.kernelBytes;
    this.paramBytes = plan.paramBytes;
    this.stats = plan.stats;
    this.statsBytes = plan.statsBytes;
    this.rng = plan.rng;
    this.opt = plan.opt;
    this.headSettings = plan.head;
    this.layerSettings = plan.layers;
    this.stateBytes = plan.stateEnd - plan.params;
    this.denseWork = plan.work;
    this.dropoutWork = plan.work + DENSE_WORK_BYTES;
    this.fixedEnd = plan.end;
    ensureMemory(k, this.fixedEnd, "config");
    const c = this.view();
    this.layers.forEach((l, i) => {
      for (const training of [true, false]) {
        const at = this.layerBlock(i, training);
        c[(at + LAYER_RATE) >>> 2] = training ? l.dropout : 0;
        c[(at + LAYER_EPSILON) >>> 2] = l.bn?.epsilon ?? 0;
        c[(at + LAYER_MOMENTUM) >>> 2] = l.bn?.momentum ?? 0;
      }
    });
    c[(this.headSettings + HEAD_FLOOR) >>> 2] = cfg.sigma.floor;
  }

  /** Layer i's settings block (LAYER_*) for training (its dropout rate) or inference (rate 0). */
  private layerBlock(i: number, training: boolean): Ptr {
    return this.layerSettings + (training ? i : this.layers.length + i) * LAYER_BYTES;
  }

  /** A float32 view over all of memory, remade only when memory grew: nothing allocated per call. */
  view(): Float32Array {
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
      const ls = this.layerBlock(i, training);
      k.dense_forward(b.z, inp, l.kernel.ptr, l.bias.ptr, n, l.inDim, l.units, this.denseWork);
      k.act_dropout_forward_at(b.act, b.deriv, b.z, n * l.units, ACT[l.activation], ls, this.rng, this.dropoutWork);
      let cur = b.act;
      if (l.bn) {
        if (training) {
          k.batchnorm_forward_train_at(b.bn, b.mean, b.vari, cur, l.gamma!.ptr, l.beta!.ptr, n, l.units, ls);
        } else {
          k.batchnorm_forward_infer_at(b.bn, cur, l.gamma!.ptr, l.beta!.ptr, l.movingMean!.ptr, l.movingVar!.ptr, n, l.units, ls);
        }
        cur = b.bn;
      }
      inp = cur;
    }
    k.dense_forward(s.a, inp, this.head.kernel.ptr, this.head.bias.ptr, n, this.headInDim(), this.P, this.denseWork);
  }

  /**
   * Fold the batch statistics of the last training forward into the moving statistics. Kept apart
   * from forward so that a batch found non-finite leaves the moving statistics untouched.
   */
  updateMovingStats(s: Scratch): void {
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i]!;
      const b = s.layers[i]!;
      if (l.bn) this.k.batchnorm_update_moving_at(l.movingMean!.ptr, l.movingVar!.ptr, b.mean, b.vari, l.units, this.layerBlock(i, true));
    }
  }

  /** Sum over n rows of the NLL of the targets at s.y given s.a; fills s.gamma and s.nll. */
  mixtureLoss(s: Scratch, n: number): number {
    const { outputDim: D, components: K } = this.cfg;
    this.mixture.forward(s.loss, s.nll, s.gamma, 0, s.a, s.y, n, K, D, this.sigmaAct, this.headSettings, s.work);
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
    this.mixture.params(pi, mu, sigma, s.a, n, K, D, this.sigmaAct, this.headSettings, s.work);
  }

  /**
   * The training forward's mixtureLoss, and in the same call the head's gradient: the head output's
   * gradient (zeroed by zeroGrads) += d (mean NLL) / d a, which backward(s, n, false) starts from.
   */
  trainLoss(s: Scratch, n: number): number {
    const { outputDim: D, components: K } = this.cfg;
    this.view()[(this.headSettings + HEAD_SCALE) >>> 2] = 1 / n;
    this.mixture.forward(s.loss, s.nll, s.gamma, s.a + s.gradOffset, s.a, s.y, n, K, D, this.sigmaAct, this.headSettings, s.work);
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
    k.dense_backward(L === 0 ? 0 : lastOut + g, this.grad(this.head.kernel.ptr), this.grad(this.head.bias.ptr), s.a + g, lastOut, this.head.kernel.ptr, n, headIn, this.P, this.denseWork);
    for (let i = L - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      const b = s.layers[i]!;
      if (l.bn) {
        // Through the batch norm and on through the activation and dropout (deriv) in one kernel.
        k.batchnorm_backward_at(b.z + g, this.grad(l.gamma!.ptr), this.grad(l.beta!.ptr), b.work, b.bn + g, b.act, b.mean, b.vari, l.gamma!.ptr, b.deriv, n, l.units, this.layerBlock(i, true));
      } else {
        k.act_dropout_backward(b.z + g, b.act + g, b.deriv, n * l.units);
      }
      const inp = i === 0 ? s.x : this.layerOutput(s, i - 1);
      k.dense_backward(i === 0 ? 0 : inp + g, this.grad(l.kernel.ptr), this.grad(l.bias.ptr), b.z + g, inp, l.kernel.ptr, n, l.inDim, l.units, this.denseWork);
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
    return this.k.adam_step(p, p + pb, p + 2 * pb, p + 3 * pb, this.kernelBytes >> 2, (pb - this.kernelBytes) >> 2, this.step, this.opt) === 1;
  }

  /** Scale the gradients of the last backward so that their global norm is at most o.clipNorm (> 0). */
  clipGradients(o: AdamSettings): void {
    this.useSettings(o);
    this.k.clip_global_norm(this.grad(this.params), this.paramBytes >> 2, this.opt);
  }

  private useSettings(o: AdamSettings): void {
    if (o === this.optFor) return;
    // Written once per settings object (a fit), so a step passes only integers (see adam_step).
    const f64 = new Float64Array(this.k.memory.buffer, this.opt, OPT_BYTES / 8);
    f64[OPT_LEARNING_RATE / 8] = o.learningRate;
    f64[OPT_DECAY / 8] = o.decay;
    f64[OPT_BETA1 / 8] = o.beta1;
    f64[OPT_BETA2 / 8] = o.beta2;
    f64[OPT_EPSILON / 8] = o.epsilon;
    f64[OPT_L2 / 8] = this.cfg.l2;
    f64[OPT_CLIP_NORM / 8] = o.clipNorm;
    this.optFor = o;
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

  /** Copy the whole training state (one copy; the gradients ride along). */
  saveState(dst: Ptr): void {
    this.k.copy_bytes(dst, this.params, this.stateBytes);
  }

  loadState(src: Ptr): void {
    this.k.copy_bytes(this.params, src, this.stateBytes);
    // The Adam settings in memory are the saved ones now: the next step writes its own again.
    this.optFor = null;
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

/** Bytes of a model's fixed arena (what MAX_MODEL_BYTES limits), from its config alone. */
export function modelBytes(cfg: ResolvedConfig): number {
  const { tensors, layers } = planTensors(cfg);
  return planModel(tensors, layers.length, 0).stateEnd;
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
