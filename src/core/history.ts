// What a fit records and reports: its history, per-epoch logs, early-stopping options and state,
// and where a step went non-finite. Types only, shared by the engine's training loop, the errors a
// fit throws, the file format (checkpoints record progress) and the model API: they live below all
// of them.

/** What went non-finite in a training step. */
export type NonFiniteCause = "loss" | "gradients" | "update" | "prediction";

/**
 * Where a training step went non-finite: reported in History (onNonFinite "stop") or thrown. No
 * such step is kept: the model ends with weights that predict finite numbers on the probe batch
 * (README "Non-finite numbers").
 */
export interface NonFiniteReport {
  /** The epoch (0-based, counted from initialEpoch as History.epoch is) of the bad batch. */
  epoch: number;
  /** The batch within that epoch (0-based). */
  batch: number;
  /**
   * "loss": the batch's loss was not finite with the weights the batches before it left;
   * "gradients": its gradients were not; "update": its Adam step overflowed (e.g. a learning rate
   * near float32's limit); "prediction": the weights after this batch (the epoch's last) predict
   * non-finite numbers on the probe batch.
   */
  cause: NonFiniteCause;
  /**
   * How many of that epoch's batches the kept weights include: the weights after the last batch
   * whose loss was finite with them and that predict finite numbers on the probe batch, else (0)
   * the weights the epoch started from.
   */
  keptBatches: number;
}

export interface Logs {
  loss: number;
  val_loss?: number;
  [metric: string]: number | undefined;
}

export interface EarlyStoppingOptions {
  /** "val_loss" (default) or "loss". */
  monitor?: "val_loss" | "loss";
  /** An epoch improves only if it beats the best by more than this (Keras min_delta); default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping; default 0 (Keras). */
  patience?: number;
  /** Put back the best epoch's weights when training ends (Keras 3 semantics); default false. */
  restoreBestWeights?: boolean;
}

export interface History {
  /** Epoch indices that ran, 0-based (Keras and TensorFlow.js). */
  epoch: number[];
  history: { loss: number[]; val_loss?: number[] };
  /** Set when early stopping ended training: the epoch at which it stopped (0-based). */
  stoppedEpoch?: number;
  /** With early stopping: the epoch whose weights are kept when restoreBestWeights is set. */
  bestEpoch?: number;
  /** Set when a batch went non-finite and onNonFinite "stop" ended training there. */
  nonFinite?: NonFiniteReport;
}

/** Early-stopping bookkeeping, carried from epoch to epoch and into checkpoints. */
export interface EarlyStoppingState {
  monitor: "val_loss" | "loss";
  /** Best monitored value so far (Infinity before the first epoch). */
  best: number;
  /** Epochs since the last improvement. */
  wait: number;
  bestEpoch: number | undefined;
}

/** Where training stands between epochs: what a checkpoint records and a resumed fit continues. */
export interface TrainProgress {
  /** Epochs finished, in Keras' initialEpoch numbering: a resumed fit starts at this epoch. */
  epoch: number;
  earlyStopping: EarlyStoppingState | null;
  /** True while an epoch is under way (a checkpoint then could not resume exactly). */
  inEpoch: boolean;
  /** Losses of the last finished epoch (training facts for the file header). */
  loss: number | null;
  valLoss: number | null;
}
