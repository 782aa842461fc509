// mdn-wasm: Mixture Density Networks with WebAssembly SIMD kernels.
// Importing this module does no work; the embedded wasm is compiled on the first MDN.create.

export { MDN } from "./model.js";
export type { CreateOptions, FitOptions, OptimizerOptions, Prediction, Weight } from "./model.js";
export type { Covariance } from "./head.js";
export type { Calibration, ModeOptions, RowModes } from "./density.js";
export type { SampleOptions, Samples } from "./sampling.js";
export type { Recalibration } from "./recalibrate.js";
export type { Activation, BatchNormConfig, HiddenLayerConfig, MDNConfig, ResolvedConfig, SigmaConfig } from "./config.js";
export type { EarlyStoppingOptions, History, Logs } from "./train.js";
export { inspectModel } from "./io.js";
export type { CheckpointInfo, FileHeader, TensorEntry, TrainingInfo } from "./io.js";
export type { Normalization } from "./normalize.js";
export type { Matrix, MatrixLike } from "./data.js";
export { MdnError, ModelFormatError, NonFiniteError } from "./errors.js";
export { loadModule } from "./wasm.js";
export type { WasmSource } from "./wasm.js";
export type { MdnErrorCode, ModelFormatErrorCode, NonFiniteCause, NonFiniteReport } from "./errors.js";
export { adjustedRandScore, normalizedMutualInfoScore } from "./metrics.js";
export { dataRng, seedClusters } from "./datasets.js";
export type { ClusterData } from "./datasets.js";
