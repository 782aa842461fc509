// The training loop: epochs, batches, validation, early stopping, callbacks and cancellation.
// Per batch it makes only kernel calls on the arena: no JS allocation (STYLE, "allocates nothing
// per batch"), unless the user asked for an onBatchEnd callback.

import { planTraining, type Scratch, type TrainArena, writeF32 } from "./arena.js";
import { type Checked } from "../core/data.js";
import { NonFiniteError } from "../core/errors.js";
import type { EarlyStoppingOptions, EarlyStoppingState, History, Logs, NonFiniteCause, NonFiniteReport, TrainProgress } from "../core/history.js";
import { meanLoss } from "./infer.js";
import type { AdamSettings, Network } from "./network.js";
import type { Normalization } from "./normalize.js";
import { PROBE_ROWS, probeProblem } from "./probe.js";

export type { TrainArena };

/** Everything the loop needs, already validated. */
export interface TrainPlan {
  x: Checked;
  y: Checked;
  val: { x: Checked; y: Checked } | null;
  /** Keras semantics: train epochs initialEpoch .. epochs - 1. */
  initialEpoch: number;
  epochs: number;
  batchSize: number;
  /** Split each epoch into ceil(n / batchSize) batches of nearly equal size instead of Keras' full batches and a remainder. */
  evenBatches: boolean;
  shuffle: boolean;
  optimizer: AdamSettings;
  earlyStopping: Required<EarlyStoppingOptions> | null;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: { batch: number; size: number; loss: number }) => void | Promise<void>;
  /** Checked after every batch (and after every turn of the event loop). */
  signal?: AbortSignal;
  verbose: 0 | 1 | 2;
  /** Give the event loop a turn after an epoch once this many ms have passed since the last (0: every epoch). */
  yieldMs: number;
  /** Give the event loop a turn after every batch too (so a timer's or a message's abort lands within one batch). */
  yieldBatches: boolean;
  onNonFinite: "stop" | "throw";
  /** Early-stopping state to continue from (a resumed fit), or null to start afresh. */
  resume: EarlyStoppingState | null;
  /** The shuffled row order to continue from (a resumed fit), or null to start in order. */
  order: Uint32Array | null;
  /** Added to reported losses: the log-Jacobian of target standardisation (0 without it). */
  lossOffset: number;
  /** The standardisation this fit trains with (null: none). */
  norm: Normalization | null;
  /** The probe batch as the network sees it (src/engine/probe.ts). */
  probeX: Float32Array;
  /** Checked between batches; lets dispose() or `model.stopTraining` end the loop. */
  shouldStop: () => boolean;
  checkAlive: () => void;
}

/** Where a fit's buffers go, above the model's own regions: a plan; the caller grows memory to `end`. */
export function planTrainArena(net: Network, plan: TrainPlan): TrainArena {
  return planTraining(net, net.fixedEnd, {
    rows: plan.x.rows, valRows: plan.val?.x.rows ?? 0, batchSize: plan.batchSize, probeRows: PROBE_ROWS,
    snapshotBytes: plan.earlyStopping?.restoreBestWeights ? net.snapshotBytes : 0, stateBytes: net.stateBytes,
  });
}

/** Fill the arena with the data (once per fit). */
export function stageData(net: Network, plan: TrainPlan, ar: TrainArena): void {
  const k = net.k;
  writeF32(k, ar.xTrain, plan.x.data);
  writeF32(k, ar.yTrain, plan.y.data);
  if (plan.val) {
    writeF32(k, ar.xVal, plan.val.x.data);
    writeF32(k, ar.yVal, plan.val.y.data);
  }
  // A resumed fit continues the row order where the checkpoint left it; a new one starts in order.
  if (plan.order) new Uint32Array(k.memory.buffer, ar.idx, plan.order.length).set(plan.order);
  else k.iota_u32(ar.idx, plan.x.rows);
}

/** The current row order (n) as a copy, for checkpoints. */
export function readOrder(net: Network, ar: TrainArena, n: number): Uint32Array {
  return new Uint32Array(net.k.memory.buffer, ar.idx, n).slice();
}

/**
 * One training step on the m rows staged in s, whose loss and head gradient trainLoss computed:
 * returns null when it was applied, or what went non-finite. A bad loss or gradient is found before anything changes (the batch-norm moving
 * statistics are folded in only after the check); an overflowing update is found after it, and
 * keepGood undoes it.
 */
function step(net: Network, s: Scratch, m: number, o: AdamSettings, lossFinite: boolean): NonFiniteCause | null {
  // A flag, not the loss: a double argument is boxed whenever V8 does not inline the call.
  if (!lossFinite) return "loss";
  net.backward(s, m, false);
  if (!net.gradsFinite()) return "gradients";
  if (o.clipNorm > 0) net.clipGradients(o);
  net.updateMovingStats(s);
  return net.adamStep(o) && net.statsFinite() ? null : "update";
}

/**
 * Batches [from, to) of the current epoch, synchronously: stage, forward, loss, step. Adds
 * loss * rows to acc[0] and leaves the last batch's loss in acc[1]. Returns -1 when every batch
 * was applied, else 0 / 1 / 2 for a non-finite loss / gradient / update at batch acc[2].
 */
function runBatches(net: Network, plan: TrainPlan, ar: TrainArena, from: number, to: number, acc: Float64Array): number {
  const k = net.k;
  const s = ar.scratch;
  const I = net.cfg.inputDim;
  const D = net.cfg.outputDim;
  const n = plan.x.rows;
  const l2 = net.cfg.l2;
  for (let b = from; b < to; b++) {
    const start = batchStart(plan, b, n);
    const m = batchStart(plan, b + 1, n) - start;
    k.gather_rows(s.x, ar.xTrain, ar.idx, start, m, I);
    k.gather_rows(s.y, ar.yTrain, ar.idx, start, m, D);
    net.zeroGrads(s);
    net.forward(s, m, true);
    // The head's gradient comes with the loss; a non-finite loss leaves it unused (step).
    const batchNll = net.trainLoss(s, m);
    // Keras reports the regularised loss: data term plus l2 * sum(w^2) as it was for this batch.
    const batchLoss = batchNll / m + (l2 > 0 ? l2 * net.kernelSumSquares() : 0) + plan.lossOffset;
    const cause = step(net, s, m, plan.optimizer, Number.isFinite(batchLoss));
    if (cause !== null) {
      acc[2] = b;
      return cause === "loss" ? 0 : cause === "gradients" ? 1 : 2;
    }
    acc[0] = acc[0]! + batchLoss * m;
    acc[1] = batchLoss;
  }
  return -1;
}

/** Rows of the staged batch that the weights check runs in inference mode (few: it runs every epoch). */
const CHECK_ROWS = 8;

/**
 * Whether the current weights are good: a finite inference-mode loss on up to CHECK_ROWS rows of
 * batch `b`, staged in the scratch, and finite predictions on the probe batch (src/engine/probe.ts).
 */
function weightsGood(net: Network, plan: TrainPlan, ar: TrainArena, b: number): boolean {
  const s = ar.scratch;
  const n = plan.x.rows;
  const m = Math.min(CHECK_ROWS, batchStart(plan, b + 1, n) - batchStart(plan, b, n));
  net.forward(s, m, false);
  return Number.isFinite(net.mixtureLoss(s, m)) && probeProblem(net, plan.norm, ar.probe, plan.probeX) === null;
}

/**
 * After a non-finite step at batch b of the epoch (cause as step reports it, or "prediction" when
 * the weights after the epoch's last batch b fail weightsGood), leave the weights after the last
 * batch whose training loss was finite with them, if they pass weightsGood too; else the weights
 * the epoch started from. Returns how many of the epoch's batches are kept. A replay from the
 * epoch's saved state repeats the same kernel calls on the same rows with the same generator, so it
 * reproduces those weights, moments and statistics bit for bit.
 */
function keepGood(net: Network, plan: TrainPlan, ar: TrainArena, goodStep: number, b: number, cause: NonFiniteCause, acc: Float64Array): number {
  // The weights after k of the epoch's batches had their training loss computed at batch k: for
  // "loss" the current ones failed there, so one batch fewer; "gradients" applied nothing at b, so
  // the current weights are the ones (no replay); "update" and "prediction" applied batch b's step.
  let kept = cause === "loss" ? Math.max(0, b - 1) : b;
  if (cause !== "gradients") {
    net.loadState(ar.good);
    net.step = goodStep;
    if (kept > 0) runBatches(net, plan, ar, 0, kept, acc);
  }
  // Staged now: batch b ("gradients"), else the last batch replayed.
  if (kept > 0 && !weightsGood(net, plan, ar, cause === "gradients" ? b : kept - 1)) {
    net.loadState(ar.good);
    net.step = goodStep;
    kept = 0;
  }
  return kept;
}

/**
 * First row of batch b of an epoch of n rows (b = the batch count gives n). Keras: full batches
 * and a remainder. Even: ceil(n / B) batches whose sizes differ by at most one, so no batch is a
 * small remainder whose noisy gradient (and batch statistics) each row weighs 1 / m in.
 */
function batchStart(plan: TrainPlan, b: number, n: number): number {
  const B = plan.batchSize;
  return plan.evenBatches ? Math.floor((b * n) / Math.ceil(n / B)) : Math.min(b * B, n);
}

/** Yield to the event loop: setImmediate in Node, a MessageChannel task in browsers and workers. */
function makeYielder(): { next: () => Promise<void>; close: () => void } {
  // Looked up on globalThis so browser builds need no Node types or polyfills.
  const setImmediateFn = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
  if (typeof setImmediateFn === "function") {
    return { next: () => new Promise((r) => setImmediateFn(r)), close: () => { } };
  }
  if (typeof MessageChannel === "function") {
    const ch = new MessageChannel();
    let wake: (() => void) | null = null;
    ch.port1.onmessage = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    return {
      next: () =>
        new Promise<void>((r) => {
          wake = r;
          ch.port2.postMessage(0);
        }),
      close: () => ch.port1.close(),
    };
  }
  return { next: () => new Promise((r) => setTimeout(r, 0)), close: () => { } };
}

export async function trainLoop(net: Network, plan: TrainPlan, ar: TrainArena, progress: TrainProgress): Promise<History> {
  const k = net.k;
  const s = ar.scratch;
  const n = plan.x.rows;
  const B = plan.batchSize;
  const batches = Math.ceil(n / B);
  const l2 = net.cfg.l2;
  const history: History = { epoch: [], history: { loss: [] } };
  if (plan.val) history.history.val_loss = [];
  const es = plan.earlyStopping;
  const r = plan.resume;
  let best = r ? r.best : Infinity;
  let wait = r ? r.wait : 0;
  if (r) history.bestEpoch = r.bestEpoch;
  let failed: NonFiniteReport | null = null;
  const yielder = makeYielder();
  let lastYield = performance.now();
  // [epoch loss sum, last batch loss, failing batch]: numbers the batch loop hands back unboxed.
  const acc = new Float64Array(3);
  // One batch per runBatches call when something must happen between batches.
  const perBatch = plan.onBatchEnd !== undefined || plan.signal !== undefined || plan.yieldBatches;
  const abortIfNeeded = () => {
    plan.checkAlive();
    if (plan.signal?.aborted) throw plan.signal.reason;
  };
  try {
    for (let epoch = plan.initialEpoch; epoch < plan.epochs; epoch++) {
      const t0 = plan.verbose ? performance.now() : 0;
      progress.inEpoch = true;
      // Each epoch shuffles the previous epoch's order; checkpoints store that order (see stageData).
      if (plan.shuffle) k.rng_shuffle(ar.idx, n, net.rng);
      // The state to fall back on, saved after the shuffle so that keepGood can replay the epoch.
      const goodStep = net.step;
      net.saveState(ar.good);
      abortIfNeeded();
      // Without onBatchEnd, a signal or per-batch turns the whole epoch runs synchronously in
      // runBatches: no await between batches, so no double is boxed into this async function's
      // frame and nothing is allocated.
      acc[0] = 0;
      let b = 0;
      while (b < batches) {
        const end = perBatch ? b + 1 : batches;
        const stopped = runBatches(net, plan, ar, b, end, acc);
        if (stopped >= 0) {
          const cause: NonFiniteCause = stopped === 0 ? "loss" : stopped === 1 ? "gradients" : "update";
          const bad = acc[2]!;
          failed = { epoch, batch: bad, cause, keptBatches: keepGood(net, plan, ar, goodStep, bad, cause, acc) };
          break;
        }
        if (plan.onBatchEnd) await plan.onBatchEnd(b, { batch: b, size: batchStart(plan, b + 1, n) - batchStart(plan, b, n), loss: acc[1]! });
        // The epoch's last batch gets its turn after the validation pass (below).
        if (plan.yieldBatches && end < batches) await yielder.next();
        if (perBatch) abortIfNeeded();
        b = end;
      }
      const lossSum = acc[0]!;
      // Every step was finite; the weights they end with must be good too.
      if (!failed && !weightsGood(net, plan, ar, batches - 1)) {
        failed = { epoch, batch: batches - 1, cause: "prediction", keptBatches: keepGood(net, plan, ar, goodStep, batches - 1, "prediction", acc) };
      }
      progress.inEpoch = false;
      if (failed) break;
      const logs: Logs = { loss: lossSum / n };
      if (plan.val) {
        const penalty = l2 > 0 ? l2 * net.kernelSumSquares() : 0;
        logs.val_loss = meanLoss(net, s, plan.val.x.rows, ar.xVal, ar.yVal, false) + penalty + plan.lossOffset;
        history.history.val_loss!.push(logs.val_loss);
      }
      history.epoch.push(epoch);
      history.history.loss.push(logs.loss);
      if (plan.verbose) {
        const ms = performance.now() - t0;
        const v = logs.val_loss === undefined ? "" : ` - val_loss: ${logs.val_loss.toFixed(4)}`;
        console.log(`Epoch ${epoch + 1}/${plan.epochs} - ${ms.toFixed(0)}ms - loss: ${logs.loss.toFixed(4)}${v}`);
      }
      let stop = false;
      if (es) {
        // Keras EarlyStopping (mode "min"): an epoch improves when current < best - minDelta.
        const current = es.monitor === "val_loss" ? logs.val_loss! : logs.loss;
        // Keras 3 keeps the first epoch's weights as "best" until something beats them.
        if (history.bestEpoch === undefined) {
          history.bestEpoch = epoch;
          if (es.restoreBestWeights) net.saveSnapshot(ar.snapshot);
        }
        wait++;
        if (current + es.minDelta < best) {
          best = current;
          history.bestEpoch = epoch;
          if (es.restoreBestWeights) net.saveSnapshot(ar.snapshot);
          wait = 0;
        } else if (wait >= es.patience && epoch > 0) {
          history.stoppedEpoch = epoch;
          stop = true;
        }
      }
      progress.epoch = epoch + 1;
      progress.loss = logs.loss;
      progress.valLoss = logs.val_loss ?? null;
      progress.earlyStopping = es ? { monitor: es.monitor, best, wait, bestEpoch: history.bestEpoch } : null;
      if (plan.onEpochEnd) await plan.onEpochEnd(epoch, logs);
      if (stop || plan.shouldStop()) break;
      if (epoch + 1 < plan.epochs && performance.now() - lastYield >= plan.yieldMs) {
        await yielder.next();
        lastYield = performance.now();
        abortIfNeeded();
      }
    }
    if (failed) {
      history.nonFinite = failed;
      if (plan.onNonFinite === "throw") throw new NonFiniteError(failed, history);
    }
    if (es?.restoreBestWeights && history.bestEpoch !== undefined) net.loadSnapshot(ar.snapshot);
  } finally {
    progress.inEpoch = false;
    yielder.close();
  }
  return history;
}
