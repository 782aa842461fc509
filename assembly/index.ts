// mdn-wasm kernels: the shipped module (build/mdn.wasm), every export a kernel over one linear
// memory. It exports what the host calls; the _scalar twins, the simdmath array kernels and the
// standalone activations (the host runs them fused with dropout, dropout.ts) are test oracles and
// ship only in the test build (assembly/full.ts -> build/mdn.full.wasm), which keeps them out of
// the default entry's size budget.
//
// The pointer contract (every file in assembly/ follows it):
// - Every buffer argument is a byte offset into this module's linear memory (`usize`).
// - Buffers are row-major float32, 16-byte aligned, and their shapes are written next to each
//   kernel as `name (rows, cols)`; counts are in elements, never bytes.
// - The TypeScript host owns all memory: it lays out one arena above `heap_base()`, grows memory
//   itself, and validates every shape before a call. No kernel allocates.
// - Debug builds assert the contract; release builds (-O3, --noAssert) trust the host.
// - Backward kernels accumulate (`+=`) into their gradient outputs, and the host zeroes those once
//   per step with `fill_zero`; a gradient with a single writer is written (`=`) instead and needs no
//   zeroing (act_dropout_backward's dinp, batchnorm_backward's dinp), as each kernel's comment says.
// - Pointer 0 is never a valid buffer (the arena starts above the data segment), so an optional
//   output may be passed as 0 to skip it.

export { heap_base, fill_zero, copy_bytes, gather_rows, all_finite } from "./memory";
export { rng_seed, rng_next_u32, rng_uniform, rng_uniform_f64, rng_below, rng_fill_uniform, rng_shuffle, iota_u32 } from "./random";
export { dense_forward, dense_backward } from "./dense";
export { act_dropout_backward } from "./dropout";
export { batchnorm_forward_infer } from "./batchnorm";
export { mixture_iso_forward, mixture_iso_params, mixture_diag_forward, mixture_diag_params, mixture_full_forward, mixture_full_params } from "./mixture";
export { mixture_sample } from "./sample";
export { adam_step, sum_squares } from "./adam";
export { clip_global_norm } from "./clip";
export { act_dropout_forward_at, batchnorm_forward_train_at, batchnorm_backward_at, batchnorm_update_moving_at } from "./step";
