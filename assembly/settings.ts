// Kernel float settings: one block per kernel family, at 16-byte aligned addresses the host plans
// (src/engine/arena.ts) and writes (src/engine/settings.ts mirrors every offset below), read by the
// kernels from memory in training and inference alike. A call then passes integers only: V8 boxes
// every float argument of a JS -> wasm call it does not inline, an allocation per call, and it
// stops inlining a call site once two instances' functions met there (two live models in one realm).
//
// The mixture family's block (HEAD_FLOOR, HEAD_SCALE) is in lanes.ts beside the driver that reads it.

// Layer block (f32 slots, LAYER_BYTES): one per hidden layer and mode. The training block holds the
// layer's dropout rate, the inference block a rate of 0; both hold the batch norm's epsilon and
// momentum, so dropout and batch norm read them the same way in either mode (step.ts).
/** Dropout rate in [0, 1). */
export const LAYER_RATE: usize = 0;
/** Batch norm's epsilon (added to the variance). */
export const LAYER_EPSILON: usize = 4;
/** Batch norm's moving-average momentum. */
export const LAYER_MOMENTUM: usize = 8;
export const LAYER_BYTES: usize = 16;

// Optimizer block (f64 slots, OPT_BYTES): Adam's settings (adam.ts adam_step) and the gradient
// clipping limit (clip.ts), written once per fit.
export const OPT_LEARNING_RATE: usize = 0;
export const OPT_DECAY: usize = 8;
export const OPT_BETA1: usize = 16;
export const OPT_BETA2: usize = 24;
export const OPT_EPSILON: usize = 32;
/** The L2 penalty on dense kernels (config.l2). */
export const OPT_L2: usize = 40;
/** Keras global_clipnorm; <= 0: never clip. */
export const OPT_CLIP_NORM: usize = 48;
export const OPT_BYTES: usize = 64;
