// One memory plan per model (STYLE 6, 17): every region of the module's linear memory is planned
// here, and memory grows in one place (ensureMemory).
//
//   heap_base | params (T) | grads (T) | adam m (T) | adam v (T) | moving stats (S) | rng (4 u32)
//             | settings: optimizer (f64) | head | layer blocks, training then inference
//             | per-thread scratch (dense packing, dropout streams)                  <- model end
//   then one of, above the model (a fit's region first, so predict works inside fit callbacks):
//     fit:        activations (A) | their gradients (A) | data | row order | best weights
//                 | the epoch's starting state | the probe batch's inference buffers
//     inference:  activations for `cap` rows | pi | mu | sigma blocks
//     sampling:   (above inference) generator | weights | mu | L | draws | components
//     file check: activations with gradients for the probe rows | a copy of the training state
//
// Parameters, gradients and Adam moments share one layout, so the optimizer is one flat loop.
// Activations and their gradients also share a layout: the gradient of the buffer at p lives at
// p + gradOffset. Every region starts on a 16-byte boundary. The per-thread scratch is sized for
// one thread of kernels. Memory only grows; views over it are made on use by the callers.

import { MdnError } from "../core/errors.js";
import { LAYER_BYTES, OPT_BYTES, type Ptr, type ShippedKernels, THREAD_WORK_BYTES } from "./kernels.js";

/** wasm32 addresses 4 GiB: 65536 pages of 64 KiB, the most any plan may reach. */
export const MAX_MEMORY_BYTES = 2 ** 32;

/** Floats rounded up to whole 16-byte lanes, in bytes. */
export function bytesFor(floats: number): number {
  return Math.ceil(floats / 4) * 16;
}

/** Hands out 16-byte aligned regions from a base; a plan, not memory. */
export class Planner {
  constructor(public top: number) { }
  take(floats: number): Ptr {
    const p = this.top;
    this.top += bytesFor(floats);
    return p;
  }
}

/**
 * Grow the module's memory so that byte `end` is addressable, or throw MdnError TOO_LARGE naming
 * `argument`, the memory needed and the limit (wasm32's 4 GiB, or what the engine would grant).
 * The one place memory grows: callers plan everything first and grow once, before they change
 * anything.
 */
export function ensureMemory(k: ShippedKernels, end: number, argument: string): void {
  const have = k.memory.buffer.byteLength;
  if (end <= have) return;
  const needed = `${formatBytes(end)} needed`;
  if (end > MAX_MEMORY_BYTES) throw new MdnError("TOO_LARGE", argument, `at most ${formatBytes(MAX_MEMORY_BYTES)} of WebAssembly memory (the wasm32 limit)`, needed);
  try {
    k.memory.grow(Math.ceil((end - have) / 65536));
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new MdnError("TOO_LARGE", argument, `WebAssembly memory the engine grants (it refused to grow ${formatBytes(have)} to the size needed)`, needed);
  }
}

/** "1.5 GiB (1610612736 bytes)": sizes in errors, exact and readable. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]} (${n} bytes)`;
}

/** Copy a float array into memory at ptr (the view is made here and dropped). */
export function writeF32(k: ShippedKernels, ptr: Ptr, data: ArrayLike<number>, offset = 0, count = data.length): void {
  const view = new Float32Array(k.memory.buffer, ptr, count);
  if (offset === 0 && count === data.length && (data instanceof Float32Array || data instanceof Float64Array)) {
    view.set(data);
  } else if (data instanceof Float32Array || data instanceof Float64Array) {
    view.set(data.subarray(offset, offset + count));
  } else {
    for (let i = 0; i < count; i++) view[i] = data[offset + i]!;
  }
}

/** A copy the caller owns of `count` floats at ptr. */
export function readF32(k: ShippedKernels, ptr: Ptr, count: number): Float32Array {
  return new Float32Array(k.memory.buffer, ptr, count).slice();
}

// ---------------------------------------------------------------------------------------------
// The model's own regions

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

/** Where a model's own regions are (planModel). */
export interface ModelPlan {
  params: Ptr;
  /** Kernels come first in the trainable region: the L2 penalty applies to [params, params + kernelBytes). */
  kernelBytes: number;
  /** Bytes of the trainable region; grads, m and v follow at 1x, 2x, 3x this offset. */
  paramBytes: number;
  stats: Ptr;
  statsBytes: number;
  rng: Ptr;
  /** The optimizer's settings block (OPT_*). */
  opt: Ptr;
  /** The mixture head's settings block (head.ts HEAD_*). */
  head: Ptr;
  /** Layer settings blocks (LAYER_*): layer i's training block, then (at + layers * LAYER_BYTES) its inference one. */
  layers: Ptr;
  /** End of the training state (params to settings), which saveState copies whole. */
  stateEnd: Ptr;
  /** One thread's scratch for the kernels that take a work pointer (THREAD_WORK_BYTES). */
  work: Ptr;
  /** First byte after the model's regions. */
  end: Ptr;
}

/**
 * The model's regions from `base`: dense kernels first (the L2 penalty's region), then the other
 * trainables; gradients, m and v mirror them; then moving statistics, the generator, the settings
 * blocks and the per-thread scratch. Places the tensors (sets their ptr).
 */
export function planModel(tensors: Tensor[], layers: number, base: Ptr): ModelPlan {
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
  const opt = plan.take(OPT_BYTES / 4);
  const head = plan.take(4);
  const layerBlocks = plan.take((2 * layers * LAYER_BYTES) / 4);
  const stateEnd = plan.top;
  const work = plan.take(THREAD_WORK_BYTES / 4);
  return { params, kernelBytes, paramBytes, stats, statsBytes, rng, opt, head, layers: layerBlocks, stateEnd, work, end: plan.top };
}

// ---------------------------------------------------------------------------------------------
// Buffers for passing rows through the network

/** What planning a network's buffers needs to know of it (Network has all of it). */
export interface NetShape {
  readonly cfg: { readonly inputDim: number; readonly outputDim: number; readonly components: number };
  readonly layers: ReadonlyArray<{ readonly units: number; readonly bn: object | null }>;
  /** Head width and floats of the sigma block per row. */
  readonly P: number;
  readonly S: number;
  /** Floats of the mixture kernels' work region (head.ts Head.workFloats). */
  readonly covariance: { workFloats(K: number, D: number): number };
}

/** Activation buffers of one hidden layer for `cap` rows; unused ones are 0. */
export interface LayerScratch {
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

/** Buffers for `cap` rows at `base`, with a gradient mirror when training. */
export function planActivations(net: NetShape, base: Ptr, cap: number, withGrads: boolean): Scratch {
  const { inputDim: I, outputDim: D, components: K } = net.cfg;
  const p = new Planner(base);
  const x = p.take(cap * I);
  const y = p.take(cap * D);
  const layers = net.layers.map((l) => {
    const n = cap * l.units;
    const bnGrads = withGrads && l.bn !== null;
    return {
      z: p.take(n),
      act: p.take(n),
      deriv: withGrads ? p.take(n) : 0,
      mean: bnGrads ? p.take(l.units) : 0,
      vari: bnGrads ? p.take(l.units) : 0,
      work: bnGrads ? p.take(3 * l.units) : 0,
      bn: l.bn ? p.take(n) : 0,
    };
  });
  const a = p.take(cap * net.P);
  const gamma = p.take(cap * K);
  const nll = p.take(cap);
  const loss = p.take(2);
  const work = p.take(net.covariance.workFloats(K, D));
  const actBytes = p.top - base;
  const end = withGrads ? p.top + actBytes : p.top;
  return { cap, base, gradOffset: withGrads ? actBytes : 0, x, y, layers, a, gamma, nll, loss, work, end };
}

/** Inference buffers: activations for `cap` rows and the head's parameters pi (cap, K), mu (cap, K, D), sigma (cap, S). */
export interface InferBuffers {
  scratch: Scratch;
  pi: Ptr;
  mu: Ptr;
  sigma: Ptr;
  end: Ptr;
}

export function planInference(net: NetShape, base: Ptr, cap: number): InferBuffers {
  const scratch = planActivations(net, base, cap, false);
  const { components: K, outputDim: D } = net.cfg;
  const p = new Planner(scratch.end);
  const pi = p.take(cap * K);
  const mu = p.take(cap * K * D);
  const sigma = p.take(cap * net.S);
  return { scratch, pi, mu, sigma, end: p.top };
}

/** Buffers of one fit call: scratch for a batch, then the data, the row order and weight copies. */
export interface TrainArena {
  scratch: Scratch;
  xTrain: Ptr;
  yTrain: Ptr;
  xVal: Ptr;
  yVal: Ptr;
  idx: Ptr;
  /** The best epoch's weights (restoreBestWeights), else 0. */
  snapshot: Ptr;
  /** The training state at the start of the epoch (after its shuffle), for keepGood to go back to and replay from. */
  good: Ptr;
  /** The probe batch's own buffers (the weights check; user calls in callbacks use others). */
  probe: InferBuffers;
  end: Ptr;
}

/** A fit's regions from `base`: n training rows, nv validation rows, batches of batchSize, probe batches of probeRows. */
export function planTraining(
  net: NetShape, base: Ptr,
  f: { rows: number; valRows: number; batchSize: number; snapshotBytes: number; stateBytes: number; probeRows: number },
): TrainArena {
  const { inputDim: I, outputDim: D } = net.cfg;
  const n = f.rows;
  const nv = f.valRows;
  const scratch = planActivations(net, base, Math.min(f.batchSize, Math.max(n, nv)), true);
  const p = new Planner(scratch.end);
  const xTrain = p.take(n * I);
  const yTrain = p.take(n * D);
  const xVal = nv ? p.take(nv * I) : 0;
  const yVal = nv ? p.take(nv * D) : 0;
  const idx = p.take(n);
  const snapshot = f.snapshotBytes ? p.take(f.snapshotBytes / 4) : 0;
  const good = p.take(f.stateBytes / 4);
  const probe = planInference(net, p.top, f.probeRows);
  return { scratch, xTrain, yTrain, xVal, yVal, idx, snapshot, good, probe, end: probe.end };
}

/**
 * Sampling's buffers from `base` (above the inference buffers, whose pi and mu the sampler reads in
 * place) for `rows` rows per sampler call, S draws each: the generator, packed L (rows, K, T), the
 * draws (rows, S, D) and their components (rows, S).
 */
export function planSampling(base: Ptr, rows: number, K: number, D: number, S: number) {
  const p = new Planner(base);
  const state = p.take(4);
  const L = p.take((rows * K * D * (D + 1)) / 2);
  const out = p.take(rows * S * D);
  const comp = p.take(rows * S);
  return { state, L, out, comp, end: p.top };
}

/** A trial training step's buffers from `base` (format/checkpoint.ts trialStep): n rows with gradients, then a copy of the state. */
export function planTrial(net: NetShape, base: Ptr, n: number, stateBytes: number): { scratch: Scratch; copy: Ptr; end: Ptr } {
  const scratch = planActivations(net, base, n, true);
  const copy = scratch.end;
  return { scratch, copy, end: copy + stateBytes };
}
