// mdn-wasm kernels: one module, every export a kernel over one linear memory.
//
// The pointer contract (every file in assembly/ follows it):
// - Every buffer argument is a byte offset into this module's linear memory (`usize`).
// - Buffers are row-major float32, 16-byte aligned, and their shapes are written next to each
//   kernel as `name (rows, cols)`; counts are in elements, never bytes.
// - The TypeScript host owns all memory: it lays out one arena above `heap_base()`, grows memory
//   itself, and validates every shape before a call. No kernel allocates.
// - Debug builds assert the contract; release builds (-O3, --noAssert) trust the host.
// - Backward kernels accumulate (`+=`) into their gradient outputs; the host zeroes gradients once
//   per step with `fill_zero`.
// - Pointer 0 is never a valid buffer (the arena starts above the data segment), so an optional
//   output may be passed as 0 to skip it.

export * from "./random";
export * from "./dense";
export * from "./activation";
export * from "./dropout";
export * from "./batchnorm";
export * from "./mixture";
export * from "./mixture_diag";
export * from "./mixture_full";
export * from "./sample";
export * from "./adam";
export * from "./memory";
// simdmath exports only its array kernels: its f32x4 helpers take v128, which JS cannot pass.
export {
  exp_f32_array, exp_f32_array_scalar,
  log_f32_array, log_f32_array_scalar,
  softplus_f32_array, softplus_f32_array_scalar,
  sigmoid_f32_array, sigmoid_f32_array_scalar,
} from "./simdmath";
