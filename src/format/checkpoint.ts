// Between a model and its file: which tensors a model or checkpoint file holds and where their bytes
// live in the arena. The byte format itself is modelfile.ts; the training loop's state is engine/train.ts.
//
// A model file holds the weights (trainable and moving statistics), the normalisation statistics,
// the generator state and training facts. A checkpoint adds what resuming needs to continue exactly
// as if training had never stopped: Adam's moments and step count, the epoch counter, the
// early-stopping state and the best epoch's weights (restoreBestWeights).

import { ensureMemory, planTrial, writeF32 } from "../engine/arena.js";
import { type CheckpointInfo, type DecodedFile, encodeFile, type FileKind, readTensor, type TensorSource, type TrainingInfo } from "./modelfile.js";
import type { Ptr } from "../engine/kernels.js";
import { DEFAULT_ADAM, type Network, type Tensor } from "../engine/network.js";
import type { Normalization } from "../engine/normalize.js";
import type { EarlyStoppingState, TrainProgress } from "../core/history.js";

/** A checkpoint's training state, as the model keeps it between fits. */
export interface ResumeState {
  progress: TrainProgress;
  /** Adam steps taken by the current optimizer (its moments live in the arena). */
  adamSteps: number;
  /** The best epoch's weights, flat in tensor order (unpadded), when restoreBestWeights kept some. */
  bestWeights: Float32Array | null;
  /** The training rows' shuffled order, which the next epoch reshuffles (null: none kept). */
  order: Uint32Array | null;
}

function bytesAt(net: Network, ptr: Ptr, floats: number): Uint8Array {
  return new Uint8Array(net.k.memory.buffer, ptr, 4 * floats);
}

/** Where tensor t sits in a weight snapshot (params region, then statistics region). */
function snapshotPtr(net: Network, snapshot: Ptr, t: Tensor): Ptr {
  return t.trainable ? snapshot + (t.ptr - net.params) : snapshot + net.paramBytes + (t.ptr - net.stats);
}

/** The weights of a snapshot in the arena, flat in tensor order. */
export function snapshotToFlat(net: Network, snapshot: Ptr): Float32Array {
  const total = net.tensors.reduce((a, t) => a + t.size, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const t of net.tensors) {
    out.set(new Float32Array(net.k.memory.buffer, snapshotPtr(net, snapshot, t), t.size), at);
    at += t.size;
  }
  return out;
}

export function flatToSnapshot(net: Network, flat: Float32Array, snapshot: Ptr): void {
  let at = 0;
  for (const t of net.tensors) {
    new Float32Array(net.k.memory.buffer, snapshotPtr(net, snapshot, t), t.size).set(flat.subarray(at, at + t.size));
    at += t.size;
  }
}

/** Every weight (trainable and moving statistics), flat in tensor order: a copy. */
export function readWeights(net: Network): Float32Array {
  const out = new Float32Array(net.tensors.reduce((a, t) => a + t.size, 0));
  let at = 0;
  for (const t of net.tensors) {
    out.set(new Float32Array(net.k.memory.buffer, t.ptr, t.size), at);
    at += t.size;
  }
  return out;
}

/** Write weights flat in tensor order (readWeights' layout) into the network. */
export function writeWeights(net: Network, flat: Float32Array): void {
  let at = 0;
  for (const t of net.tensors) {
    writeF32(net.k, t.ptr, flat, at, t.size);
    at += t.size;
  }
}

/**
 * One training step as fit takes it (Adam with Keras' defaults) on the n rows x (network space),
 * with each row's target at its most likely component's mean: whether loss, gradients, update,
 * moving statistics and the new weights' inference-mode loss on those rows stay finite. Buffers go at `base`. `undo` puts the whole training state back
 * (weights, moments, statistics, generator, step count), whatever the outcome.
 */
export function trialStep(net: Network, base: Ptr, x: Float32Array, n: number): { ok: boolean; undo: () => void } {
  const { outputDim: D, components: K } = net.cfg;
  const P = net.P;
  const { scratch: s, copy, end } = planTrial(net, base, n, net.stateBytes);
  ensureMemory(net.k, end, "bytes");
  writeF32(net.k, s.x, x);
  net.forward(s, n, false);
  const f32 = new Float32Array(net.k.memory.buffer);
  for (let r = 0; r < n; r++) {
    const a = (s.a >>> 2) + r * P;
    let top = 0;
    for (let k = 1; k < K; k++) if (f32[a + k]! > f32[a + top]!) top = k;
    for (let d = 0; d < D; d++) f32[(s.y >>> 2) + r * D + d] = f32[a + K + top * D + d]!;
  }
  net.saveState(copy);
  const step = net.step;
  net.zeroGrads(s);
  net.forward(s, n, true);
  let ok = Number.isFinite(net.trainLoss(s, n));
  if (ok) {
    net.backward(s, n, false);
    ok = net.gradsFinite();
  }
  if (ok) {
    net.updateMovingStats(s);
    ok = net.adamStep(DEFAULT_ADAM) && net.statsFinite();
  }
  if (ok) {
    // As fit's check after a step: the new weights' inference-mode loss on the same rows.
    net.forward(s, n, false);
    ok = Number.isFinite(net.mixtureLoss(s, n));
  }
  return {
    ok,
    undo: () => {
      net.loadState(copy);
      net.step = step;
    },
  };
}

function generatorWords(net: Network): number[] {
  return Array.from(new Uint32Array(net.k.memory.buffer, net.rng, 4));
}

function earlyStoppingRecord(e: EarlyStoppingState | null): CheckpointInfo["earlyStopping"] {
  if (!e) return null;
  return { monitor: e.monitor, best: Number.isFinite(e.best) ? e.best : null, wait: e.wait, bestEpoch: e.bestEpoch ?? null };
}

/** Serialise a model (kind "model") or its full training state too (kind "checkpoint"). */
export function writeFile(net: Network, norm: Normalization | null, info: TrainingInfo, resume: ResumeState | null): Uint8Array {
  const kind: FileKind = resume ? "checkpoint" : "model";
  const sources: TensorSource[] = net.tensors.map((t) => ({ name: t.name, shape: [...t.shape], parts: [bytesAt(net, t.ptr, t.size)] }));
  const f32 = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (norm) {
    const { inputDim: I, outputDim: D } = net.cfg;
    sources.push({ name: "normalization/x_mean", shape: [I], parts: [f32(norm.xMean)] }, { name: "normalization/x_std", shape: [I], parts: [f32(norm.xStd)] });
    sources.push({ name: "normalization/y_mean", shape: [D], parts: [f32(norm.yMean)] }, { name: "normalization/y_std", shape: [D], parts: [f32(norm.yStd)] });
  }
  let checkpoint: CheckpointInfo | null = null;
  if (resume) {
    const trainable = net.tensors.filter((t) => t.trainable);
    const n = trainable.reduce((a, t) => a + t.size, 0);
    const pb = net.paramBytes;
    sources.push({ name: "optimizer/m", shape: [n], parts: trainable.map((t) => bytesAt(net, t.ptr + 2 * pb, t.size)) });
    sources.push({ name: "optimizer/v", shape: [n], parts: trainable.map((t) => bytesAt(net, t.ptr + 3 * pb, t.size)) });
    if (resume.bestWeights) sources.push({ name: "best/weights", shape: [resume.bestWeights.length], parts: [f32(resume.bestWeights)] });
    // Row indices as float32: exact below 2^24 rows; larger orders are not kept.
    const order = resume.order && resume.order.length < 2 ** 24 ? resume.order : null;
    if (order) sources.push({ name: "train/order", shape: [order.length], parts: [f32(Float32Array.from(order))] });
    checkpoint = {
      epoch: resume.progress.epoch,
      adamSteps: resume.adamSteps,
      earlyStopping: earlyStoppingRecord(resume.progress.earlyStopping),
      bestWeights: resume.bestWeights !== null,
      orderRows: resume.order && resume.order.length < 2 ** 24 ? resume.order.length : 0,
    };
  }
  return encodeFile(
    { kind, config: net.cfg, normalization: norm ? "standardize" : null, generator: generatorWords(net), training: info, checkpoint },
    sources,
  );
}

/** Copy a validated file's weights, generator and (checkpoints) Adam state into a fresh network. */
export function loadInto(net: Network, d: DecodedFile): void {
  const mem = () => new Uint8Array(net.k.memory.buffer);
  for (const t of net.tensors) mem().set(d.tensor(t.name), t.ptr);
  new Uint32Array(net.k.memory.buffer, net.rng, 4).set(d.header.generator);
  net.fresh = d.header.training.fresh;
  const c = d.header.checkpoint;
  net.step = c ? c.adamSteps : 0;
  if (!c) return;
  const pb = net.paramBytes;
  for (const [name, offset] of [["optimizer/m", 2 * pb], ["optimizer/v", 3 * pb]] as const) {
    const src = d.tensor(name);
    let at = 0;
    for (const t of net.tensors) {
      if (!t.trainable) continue;
      mem().set(src.subarray(at, at + 4 * t.size), t.ptr + offset);
      at += 4 * t.size;
    }
  }
}

export function readNormalization(d: DecodedFile): Normalization | null {
  if (!d.header.normalization) return null;
  return {
    xMean: readTensor(d, "normalization/x_mean"),
    xStd: readTensor(d, "normalization/x_std"),
    yMean: readTensor(d, "normalization/y_mean"),
    yStd: readTensor(d, "normalization/y_std"),
  };
}

/** A checkpoint's training state, as the model keeps it. */
export function readResume(d: DecodedFile): ResumeState | null {
  const c = d.header.checkpoint;
  if (!c) return null;
  const e = c.earlyStopping;
  return {
    progress: {
      epoch: c.epoch,
      earlyStopping: e ? { monitor: e.monitor, best: e.best ?? Infinity, wait: e.wait, bestEpoch: e.bestEpoch ?? undefined } : null,
      inEpoch: false,
      loss: null,
      valLoss: null,
    },
    adamSteps: c.adamSteps,
    bestWeights: c.bestWeights ? readTensor(d, "best/weights") : null,
    order: c.orderRows > 0 ? Uint32Array.from(readTensor(d, "train/order")) : null,
  };
}
