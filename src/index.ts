// mdn-wasm: Mixture Density Networks with WebAssembly SIMD kernels.
// Importing this module does no work; the embedded wasm is compiled on the first MDN.create.

// The wasm loader first: a bundle then starts with the embedded wasm (see engine/wasm.ts).
export { loadModule } from "./engine/wasm.js";
export type { WasmSource } from "./engine/wasm.js";
export { MDN } from "./model/mdn.js";
export type { CreateOptions, FitOptions, OptimizerOptions, Prediction, Weight } from "./model/mdn.js";
export type { Covariance } from "./engine/head.js";
export type { Calibration, ModeOptions, RowModes } from "./mixture/density.js";
export type { SampleOptions, Samples } from "./mixture/sampling.js";
export type { Recalibration } from "./mixture/recalibrate.js";
export type { Activation, BatchNormConfig, HiddenLayerConfig, MDNConfig, ResolvedConfig, SigmaConfig } from "./core/config.js";
export type { EarlyStoppingOptions, History, Logs } from "./core/history.js";
export { inspectModel } from "./format/modelfile.js";
export type { CheckpointInfo, FileHeader, TensorEntry, TrainingInfo } from "./format/modelfile.js";
export type { Normalization } from "./engine/normalize.js";
export type { Matrix, MatrixLike } from "./core/data.js";
export { MdnError, ModelFormatError, NonFiniteError } from "./core/errors.js";
export type { MdnErrorCode, ModelFormatErrorCode, NonFiniteCause, NonFiniteReport } from "./core/errors.js";
export { adjustedRandScore, normalizedMutualInfoScore } from "./mixture/metrics.js";
export { dataRng, seedClusters } from "./mixture/datasets.js";
export type { ClusterData } from "./mixture/datasets.js";
