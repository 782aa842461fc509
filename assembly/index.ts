// mdn-wasm kernels: the shipped module (build/mdn.wasm), every export a kernel over one linear
// memory. It exports what the host calls (src/engine/kernels.ts ShippedKernels, checked against
// this module's exports by test/abi.test.ts); the _scalar twins, the simdmath array kernels and the
// standalone activations (the host runs them fused with dropout, dropout.ts) are test oracles and
// ship only in the test build (assembly/full.ts -> build/mdn.full.wasm), which keeps them out of
// the default entry's size budget.
//
// The pointer contract (every file in assembly/ follows it):
// - Every buffer argument is a byte offset into this module's linear memory (`usize`).
// - Buffers are row-major float32, 16-byte aligned, and their shapes are written next to each
//   kernel as `name (rows, cols)`; counts are in elements, never bytes.
// - The TypeScript host owns all memory: it lays out one arena above `heap_base()`, grows memory
//   itself, and validates every shape before a call. No kernel allocates, and no kernel keeps
//   scratch at a static address: a kernel that needs scratch takes a `work` pointer into a region
//   the host plans (dense.ts DENSE_WORK_BYTES, dropout.ts DROPOUT_WORK_BYTES, the mixture's work).
// - Float settings come from blocks in memory (settings.ts, lanes.ts HEAD_*), never as arguments
//   of a kernel the host calls, so every call passes integers only.
// - Debug builds assert the contract; release builds (-O3, --noAssert) trust the host.
// - Backward kernels accumulate (`+=`) into their gradient outputs, and the host zeroes those once
//   per step with `fill_zero`; a gradient with a single writer is written (`=`) instead and needs no
//   zeroing (act_dropout_backward's dinp, batchnorm_backward's dinp), as each kernel's comment says.
// - Pointer 0 is never a valid buffer (the arena starts above the data segment), so an optional
//   output may be passed as 0 to skip it.

export { heap_base, fill_zero, copy_bytes, gather_rows, all_finite } from "./memory";
export { rng_seed, rng_uniform_f64, rng_fill_uniform, rng_shuffle, iota_u32 } from "./random";
export { dense_forward, dense_backward } from "./dense";
export { act_dropout_backward } from "./dropout";
export { mixture_iso_forward, mixture_iso_params, mixture_diag_forward, mixture_diag_params, mixture_full_forward, mixture_full_params } from "./mixture";
export { mixture_sample } from "./sample";
export { adam_step, sum_squares } from "./adam";
export { clip_global_norm } from "./clip";
export { act_dropout_forward_at, batchnorm_forward_train_at, batchnorm_forward_infer_at, batchnorm_backward_at, batchnorm_update_moving_at } from "./step";
