// The test build (build/mdn.full.wasm and the asserting build/mdn.debug.wasm): everything the
// shipped module exports (assembly/index.ts) plus every _scalar twin and the simdmath array
// kernels, so tests can compare each SIMD kernel with its twin in one instance; and, as globals,
// the work sizes and settings offsets, so tests can check the host's mirrors of them
// (src/engine/kernels.ts TestKernels).

export * from "./random";
export * from "./dense";
// activation exports only its kernels: tanh_f32x4 takes a v128, which JS cannot pass.
export {
  relu_forward, relu_forward_scalar, relu_backward, relu_backward_scalar,
  tanh_forward, tanh_forward_scalar, tanh_backward, tanh_backward_scalar,
  linear_forward, linear_forward_scalar, linear_backward, linear_backward_scalar,
} from "./activation";
export * from "./dropout";
export * from "./batchnorm";
export * from "./mixture";
export * from "./sample";
export * from "./adam";
export * from "./clip";
export * from "./memory";
export * from "./step";
export * from "./settings";
// simdmath exports only its array kernels: its f32x4 helpers take v128, which JS cannot pass.
export {
  exp_f32_array, exp_f32_array_scalar,
  log_f32_array, log_f32_array_scalar,
  softplus_f32_array, softplus_f32_array_scalar,
  sigmoid_f32_array, sigmoid_f32_array_scalar,
} from "./simdmath";
