// The typed ABI of the kernels: one interface per build (ShippedKernels: build/mdn.wasm;
// TestKernels: build/mdn.full.wasm and mdn.debug.wasm), every export's signature and the meaning of
// each argument, and the constants the host mirrors. assembly/ implements it; the host calls only
// through ShippedKernels.
//
// Pointer contract (see assembly/index.ts): every `Ptr` is a byte offset into the module's linear
// memory, row-major float32, 16-byte aligned; shapes are given as `name (rows, cols)`; counts are
// elements. Backward kernels accumulate into gradient outputs unless their comment says written.
// Passing 0 for an optional output pointer skips it. Dimension legend: N rows, I inputs, O outputs,
// C channels, K components, D target dimensions, P = head width.

import { loadModule } from "./wasm.js";

export type Ptr = number;

/** Which function turns the raw head output into sigma (before the floor). */
export const SIGMA_EXP = 0;
export const SIGMA_SOFTPLUS = 1;


/** A hidden layer's activation, for act_dropout_forward (assembly/dropout.ts ACT_*). */
export const ACT_RELU = 0;
export const ACT_TANH = 1;
export const ACT_LINEAR = 2;

// Scratch sizes of the kernels that take a work pointer (assembly/dense.ts, dropout.ts): the host
// plans one region of THREAD_WORK_BYTES per thread of kernels (src/engine/arena.ts).
export const DENSE_WORK_BYTES = 256 * 1024 + 64 * 256 * 4;
export const DROPOUT_WORK_BYTES = 160;
export const THREAD_WORK_BYTES = DENSE_WORK_BYTES + DROPOUT_WORK_BYTES;

// Settings blocks (assembly/settings.ts): byte offsets of their slots. A layer block holds f32s,
// one per hidden layer and mode (training: the layer's dropout rate; inference: rate 0).
export const LAYER_RATE = 0;
export const LAYER_EPSILON = 4;
export const LAYER_MOMENTUM = 8;
export const LAYER_BYTES = 16;
// The optimizer block holds f64s: Adam's settings and the clipping limit, written once per fit.
export const OPT_LEARNING_RATE = 0;
export const OPT_DECAY = 8;
export const OPT_BETA1 = 16;
export const OPT_BETA2 = 24;
export const OPT_EPSILON = 32;
export const OPT_L2 = 40;
export const OPT_CLIP_NORM = 48;
export const OPT_BYTES = 64;

/**
 * The mixture head's kernels in the shipped module (assembly/mixture.ts), one pair per covariance
 * type t (iso, diag, full; src/engine/head.ts binds a type's pair). a (N, P) raw head outputs with
 * P = K + K*D + K*Sk, each row [pi logits (K) | mu (K, D) | sigma block (K, Sk)]; y (N, D)
 * targets. Integers only: floats come from hs, the head's settings block (src/engine/head.ts HEAD_FLOOR,
 * HEAD_SCALE), and work is the scratch of headOf(...).workFloats(K, D) floats the host plans.
 */
export interface MixtureKernels {
  /**
   * loss (one f64, 8-byte aligned) = the sum of nll over rows, nll (N) per row, gamma (N, K)
   * responsibilities (all required); unless da is 0, da (N, P) += scale * d nll / d a in the same
   * pass (training). The sum goes to memory, not a return value: V8 boxes an f64 returned to JS,
   * an allocation per batch.
   */
  mixture_iso_forward(loss: Ptr, nll: Ptr, gamma: Ptr, da: Ptr, a: Ptr, y: Ptr, N: number, K: number, D: number, sigmaAct: number, hs: Ptr, work: Ptr): void;
  /** pi (N, K), mu (N, K, D), sigma (N, K, Sk): sigma after activation and floor (full: L's diagonal). */
  mixture_iso_params(pi: Ptr, mu: Ptr, sigma: Ptr, a: Ptr, N: number, K: number, D: number, sigmaAct: number, hs: Ptr, work: Ptr): void;
  mixture_diag_forward: MixtureKernels["mixture_iso_forward"];
  mixture_diag_params: MixtureKernels["mixture_iso_params"];
  mixture_full_forward: MixtureKernels["mixture_iso_forward"];
  mixture_full_params: MixtureKernels["mixture_iso_params"];
}

/** The scalar twins of MixtureKernels, in the test build only (assembly/full.ts): same arguments. */
export interface MixtureTestKernels {
  mixture_iso_forward_scalar: MixtureKernels["mixture_iso_forward"];
  mixture_iso_params_scalar: MixtureKernels["mixture_iso_params"];
  mixture_diag_forward_scalar: MixtureKernels["mixture_iso_forward"];
  mixture_diag_params_scalar: MixtureKernels["mixture_iso_params"];
  mixture_full_forward_scalar: MixtureKernels["mixture_iso_forward"];
  mixture_full_params_scalar: MixtureKernels["mixture_iso_params"];
}

/**
 * The exports of the shipped module, build/mdn.wasm (assembly/index.ts): exactly these, no more and
 * no fewer (test/abi.test.ts compares them with the module's real exports). The host calls only
 * these. Every float setting comes from a settings block in memory (LAYER_*, OPT_*, head.ts
 * HEAD_*), so every call passes integers only.
 */
export interface ShippedKernels extends MixtureKernels {
  memory: WebAssembly.Memory;

  // memory.ts
  /** First 16-byte aligned free byte; the arena starts here. */
  heap_base(): Ptr;
  fill_zero(ptr: Ptr, nbytes: number): void;
  copy_bytes(dst: Ptr, src: Ptr, nbytes: number): void;
  /** out (count, width) = src[idx[start + r]] with idx (n) u32. */
  gather_rows(out: Ptr, src: Ptr, idx: Ptr, start: number, count: number, width: number): void;
  /** 1 when all n floats at x are finite, else 0. */
  all_finite(x: Ptr, n: number): number;

  // random.ts: state (4) u32, xoshiro128**
  rng_seed(state: Ptr, seed: bigint): void;
  rng_uniform_f64(state: Ptr): number;
  /** w[r*stride + c] = U(-limit, limit) for r < rows, c < cols. */
  rng_fill_uniform(w: Ptr, rows: number, cols: number, stride: number, limit: number, state: Ptr): void;
  rng_shuffle(idx: Ptr, n: number, state: Ptr): void;
  iota_u32(idx: Ptr, n: number): void;

  // dense.ts: out (N, O) = inp (N, I) . w (I, O) + b (O); work (DENSE_WORK_BYTES) the caller's scratch.
  dense_forward(out: Ptr, inp: Ptr, w: Ptr, b: Ptr, N: number, I: number, O: number, work: Ptr): void;
  /** dinp (N, I) += dout . w^T (skipped when dinp is 0); dw (I, O) += inp^T . dout; db (O) += sum_n dout. */
  dense_backward(dinp: Ptr, dw: Ptr, db: Ptr, dout: Ptr, inp: Ptr, w: Ptr, N: number, I: number, O: number, work: Ptr): void;

  // dropout.ts: a hidden layer's activation (ACT_*) then inverted dropout, over n floats. The mask
  // m is 0 or 1/(1-rate) (1 when rate is 0); a call with rate > 0 advances the generator at state
  // by exactly 16 draws, one with rate 0 draws nothing.
  /** dinp = deriv != 0 ? dout * deriv : 0 (written, not accumulated). */
  act_dropout_backward(dinp: Ptr, dout: Ptr, deriv: Ptr, n: number): void;

  // sample.ts: out (N, S, D) draws and comp (N, S) i32 their components, from weights w (N, K)
  // (non-negative, positive row sums), mu (N, K, D) and packed lower-triangular L (N, K, T);
  // y = mu_k + L_k eps with eps ~ N(0, I) (polar method); state (4) u32 the generator.
  mixture_sample(out: Ptr, comp: Ptr, w: Ptr, mu: Ptr, L: Ptr, N: number, S: number, K: number, D: number, state: Ptr): void;

  // adam.ts: one flat loop over the parameters with parallel layouts w, g, m, v.
  /**
   * Adam (Keras) on the first nKernels parameters with the L2 term and the next nRest without, at
   * step t >= 1, settings from the optimizer block hp (OPT_*). Returns 1 when every new parameter
   * and moment is finite, else 0.
   */
  adam_step(w: Ptr, g: Ptr, m: Ptr, v: Ptr, nKernels: number, nRest: number, t: number, hp: Ptr): number;
  /** sum of w^2 over n floats (f64), for the L2 penalty in the reported loss. */
  sum_squares(w: Ptr, n: number): number;

  // clip.ts
  /** g (n) *= c / |g| when |g| = sqrt(sum g^2) > c, c = hp's OPT_CLIP_NORM (c <= 0: never). Returns 1 when it scaled, else 0. */
  clip_global_norm(g: Ptr, n: number, hp: Ptr): number;

  // step.ts: the hidden layers' kernels with their float settings from a layer block ls (LAYER_*).
  /** out (n) = act(inp) * m; deriv (n) = act'(inp) * m unless deriv is 0; rate = ls's LAYER_RATE; work (DROPOUT_WORK_BYTES). */
  act_dropout_forward_at(out: Ptr, deriv: Ptr, inp: Ptr, n: number, act: number, ls: Ptr, state: Ptr, work: Ptr): void;
  // batchnorm.ts through step.ts: x (N, C), per-channel statistics, Keras semantics (biased batch variance).
  /** Training: mean, var (C) caches of the batch statistics; out = gamma * xhat + beta. */
  batchnorm_forward_train_at(out: Ptr, mean: Ptr, vari: Ptr, inp: Ptr, gamma: Ptr, beta: Ptr, N: number, C: number, ls: Ptr): void;
  /** Inference: out = gamma * (inp - moving_mean) / sqrt(moving_var + eps) + beta. */
  batchnorm_forward_infer_at(out: Ptr, inp: Ptr, gamma: Ptr, beta: Ptr, movingMean: Ptr, movingVar: Ptr, N: number, C: number, ls: Ptr): void;
  /**
   * dinp = ... (written, not accumulated; skipped when dinp is 0), dgamma += sum dout * xhat,
   * dbeta += sum dout (training-mode statistics); xhat recomputed from the forward's inp, mean, vari.
   * deriv (N, C), unless 0, is the activation's derivative (act_dropout_forward) and dinp then is
   * the gradient at the activation's input: deriv != 0 ? dinp * deriv : 0. work (3, C) is scratch.
   */
  batchnorm_backward_at(dinp: Ptr, dgamma: Ptr, dbeta: Ptr, work: Ptr, dout: Ptr, inp: Ptr, mean: Ptr, vari: Ptr, gamma: Ptr, deriv: Ptr, N: number, C: number, ls: Ptr): void;
  /** moving = momentum * moving + (1 - momentum) * batch, for mean and variance (C). */
  batchnorm_update_moving_at(movingMean: Ptr, movingVar: Ptr, mean: Ptr, vari: Ptr, C: number, ls: Ptr): void;
}

/**
 * The test build's exports, build/mdn.full.wasm and the asserting build/mdn.debug.wasm
 * (assembly/full.ts): the shipped kernels plus every _scalar twin, the kernels the step wrappers
 * call with float arguments, the standalone activations and simdmath arrays, and as globals the
 * constants the host mirrors (checked against them in test/abi.test.ts).
 */
export interface TestKernels extends ShippedKernels, MixtureTestKernels {
  rng_next_u32(state: Ptr): number;
  rng_uniform(state: Ptr): number;
  rng_below(state: Ptr, bound: number): number;

  dense_forward_scalar: ShippedKernels["dense_forward"];
  dense_backward_scalar: ShippedKernels["dense_backward"];

  // activation.ts: elementwise over n floats (the host runs them fused with dropout). Backward
  // reads the forward output.
  relu_forward(out: Ptr, inp: Ptr, n: number): void;
  relu_forward_scalar(out: Ptr, inp: Ptr, n: number): void;
  /** dinp += dout * (out > 0) */
  relu_backward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  relu_backward_scalar(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  tanh_forward(out: Ptr, inp: Ptr, n: number): void;
  tanh_forward_scalar(out: Ptr, inp: Ptr, n: number): void;
  /** dinp += dout * (1 - out^2) */
  tanh_backward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  tanh_backward_scalar(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  /** out = inp */
  linear_forward(out: Ptr, inp: Ptr, n: number): void;
  linear_forward_scalar(out: Ptr, inp: Ptr, n: number): void;
  /** dinp += dout */
  linear_backward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  linear_backward_scalar(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;

  /** act_dropout_forward_at with the rate as an argument. */
  act_dropout_forward(out: Ptr, deriv: Ptr, inp: Ptr, n: number, act: number, rate: number, state: Ptr, work: Ptr): void;
  act_dropout_forward_scalar: TestKernels["act_dropout_forward"];
  act_dropout_backward_scalar: ShippedKernels["act_dropout_backward"];

  // batchnorm.ts with epsilon and momentum as arguments.
  batchnorm_forward_train(out: Ptr, mean: Ptr, vari: Ptr, inp: Ptr, gamma: Ptr, beta: Ptr, N: number, C: number, eps: number): void;
  batchnorm_forward_train_scalar: TestKernels["batchnorm_forward_train"];
  batchnorm_forward_infer(out: Ptr, inp: Ptr, gamma: Ptr, beta: Ptr, movingMean: Ptr, movingVar: Ptr, N: number, C: number, eps: number): void;
  batchnorm_forward_infer_scalar: TestKernels["batchnorm_forward_infer"];
  batchnorm_backward(dinp: Ptr, dgamma: Ptr, dbeta: Ptr, work: Ptr, dout: Ptr, inp: Ptr, mean: Ptr, vari: Ptr, gamma: Ptr, deriv: Ptr, N: number, C: number, eps: number): void;
  batchnorm_backward_scalar: TestKernels["batchnorm_backward"];
  batchnorm_update_moving(movingMean: Ptr, movingVar: Ptr, mean: Ptr, vari: Ptr, C: number, momentum: number): void;
  batchnorm_update_moving_scalar: TestKernels["batchnorm_update_moving"];

  // adam.ts with its settings as arguments.
  /** Keras step size: lr / (1 + decay * (t - 1)) * sqrt(1 - beta2^t) / (1 - beta1^t), t >= 1. */
  adam_lr_t(lr: number, decay: number, beta1: number, beta2: number, t: number): number;
  /** g' = g + 2 * l2 * w; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2; w -= lrT * m / (sqrt(v) + eps). Returns 1 when all finite. */
  adam_update(w: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lrT: number, beta1: number, beta2: number, eps: number, l2: number): number;
  adam_update_scalar: TestKernels["adam_update"];
  sum_squares_scalar: ShippedKernels["sum_squares"];
  clip_global_norm_scalar: ShippedKernels["clip_global_norm"];
  /** Test build: m (n) = 0 where |m| < 2^-80, v (n) = 0 where v < min(2^-100, (eps 2^-25)^2); adam_step runs it every flush_period steps. */
  adam_flush_moments(m: Ptr, v: Ptr, n: number, eps: number): void;
  adam_flush_moments_scalar(m: Ptr, v: Ptr, n: number, eps: number): void;
  /** Test build: the steps between adam_step's flushes of the moments. */
  flush_period(beta1: number, beta2: number): number;

  // simdmath.ts: elementwise out (n) = f(inp (n)), Cephes-style, SIMD and scalar bit-identical.
  exp_f32_array(out: Ptr, inp: Ptr, n: number): void;
  exp_f32_array_scalar(out: Ptr, inp: Ptr, n: number): void;
  log_f32_array(out: Ptr, inp: Ptr, n: number): void;
  log_f32_array_scalar(out: Ptr, inp: Ptr, n: number): void;
  softplus_f32_array(out: Ptr, inp: Ptr, n: number): void;
  softplus_f32_array_scalar(out: Ptr, inp: Ptr, n: number): void;
  sigmoid_f32_array(out: Ptr, inp: Ptr, n: number): void;
  sigmoid_f32_array_scalar(out: Ptr, inp: Ptr, n: number): void;

  // Constants the host mirrors, as globals (dropout.ts, dense.ts, settings.ts).
  ACT_RELU: WebAssembly.Global;
  ACT_TANH: WebAssembly.Global;
  ACT_LINEAR: WebAssembly.Global;
  DENSE_WORK_BYTES: WebAssembly.Global;
  DROPOUT_WORK_BYTES: WebAssembly.Global;
  LAYER_RATE: WebAssembly.Global;
  LAYER_EPSILON: WebAssembly.Global;
  LAYER_MOMENTUM: WebAssembly.Global;
  LAYER_BYTES: WebAssembly.Global;
  OPT_LEARNING_RATE: WebAssembly.Global;
  OPT_DECAY: WebAssembly.Global;
  OPT_BETA1: WebAssembly.Global;
  OPT_BETA2: WebAssembly.Global;
  OPT_EPSILON: WebAssembly.Global;
  OPT_L2: WebAssembly.Global;
  OPT_CLIP_NORM: WebAssembly.Global;
  OPT_BYTES: WebAssembly.Global;
}

/** The module each instance came from, and at most one spare instance per module. */
const origin = new WeakMap<ShippedKernels, WebAssembly.Module>();
const spare = new WeakMap<WebAssembly.Module, ShippedKernels>();
/** A disposed model's instance is kept for reuse only while its memory is at most this big. */
const SPARE_MAX_BYTES = 64 << 20;

/**
 * Instantiate the kernels: each live model owns one instance and its memory. A disposed model's
 * instance (see releaseKernels) is handed to the next model made from the same module.
 */
export async function instantiateKernels(module?: WebAssembly.Module): Promise<ShippedKernels> {
  const mod = module ?? (await loadModule());
  const reused = spare.get(mod);
  if (reused) {
    spare.delete(mod);
    return reused;
  }
  // The instance's own exports, called directly (no loader: @assemblyscript/loader's wrappers
  // allocated an array on each of the ~30 kernel calls per training step). Release builds import
  // nothing; the asserting debug build imports env.abort, answered here with the message.
  let memory: WebAssembly.Memory | undefined;
  const abort = (message: number, file: number, line: number, column: number): never => {
    throw new Error(`wasm abort: ${asString(memory, message)} at ${asString(memory, file)}:${line}:${column}`);
  };
  const instance = await WebAssembly.instantiate(mod, { env: { abort } });
  const k = instance.exports as unknown as ShippedKernels;
  memory = k.memory;
  origin.set(k, mod);
  return k;
}

/** An AssemblyScript string (UTF-16, its byte length in the 4 bytes before it), for abort messages. */
function asString(memory: WebAssembly.Memory | undefined, ptr: number): string {
  if (!memory || !ptr) return "";
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, new Uint32Array(memory.buffer, ptr - 4, 1)[0]! >>> 1));
}

/**
 * Keep a disposed model's instance, its memory zeroed above heap_base, for the next model from
 * the same module (one per module, memories up to 64 MiB; larger ones are left to the GC). With a
 * fresh instance per model, V8 meets new function objects at every kernel call site: the calls
 * stop being inlined and each instance warms up its own JS-to-wasm wrappers (~6 ms of a 60 ms seed
 * fit). (A step passes only integers, so the calls allocate nothing either way: see step.ts.)
 */
export function releaseKernels(k: ShippedKernels): void {
  const mod = origin.get(k);
  if (mod === undefined || spare.has(mod) || k.memory.buffer.byteLength > SPARE_MAX_BYTES) return;
  const base = k.heap_base();
  k.fill_zero(base, k.memory.buffer.byteLength - base);
  spare.set(mod, k);
}
