// One ABI type per build (src/engine/kernels.ts): ShippedKernels declares exactly the exports of
// build/mdn.wasm, TestKernels exactly those of build/mdn.full.wasm and mdn.debug.wasm. The name
// tables below are checked by TypeScript against the types (`satisfies` fails on a missing or an
// extra name), and the tests check them against the modules' real exports, both ways. Then: the
// constants the host mirrors equal the kernels' own, and no kernel writes scratch to a static
// address.
import { beforeAll, describe, expect, it } from "vitest";
import * as abi from "../src/engine/kernels.js";
import type { ShippedKernels, TestKernels } from "../src/engine/kernels.js";
import { buildFile, Heap, loadKernels, testRng, uniform } from "./util.js";

const SHIPPED = {
  memory: 0, heap_base: 0, fill_zero: 0, copy_bytes: 0, gather_rows: 0, all_finite: 0,
  rng_seed: 0, rng_uniform_f64: 0, rng_fill_uniform: 0, rng_shuffle: 0, iota_u32: 0,
  dense_forward: 0, dense_backward: 0, act_dropout_backward: 0,
  mixture_iso_forward: 0, mixture_iso_params: 0, mixture_diag_forward: 0, mixture_diag_params: 0, mixture_full_forward: 0, mixture_full_params: 0,
  mixture_sample: 0, adam_step: 0, sum_squares: 0, clip_global_norm: 0,
  act_dropout_forward_at: 0, batchnorm_forward_train_at: 0, batchnorm_forward_infer_at: 0, batchnorm_backward_at: 0, batchnorm_update_moving_at: 0,
} satisfies Record<keyof ShippedKernels, 0>;

const TEST_ONLY = {
  rng_next_u32: 0, rng_uniform: 0, rng_below: 0, dense_forward_scalar: 0, dense_backward_scalar: 0,
  relu_forward: 0, relu_forward_scalar: 0, relu_backward: 0, relu_backward_scalar: 0,
  tanh_forward: 0, tanh_forward_scalar: 0, tanh_backward: 0, tanh_backward_scalar: 0,
  linear_forward: 0, linear_forward_scalar: 0, linear_backward: 0, linear_backward_scalar: 0,
  act_dropout_forward: 0, act_dropout_forward_scalar: 0, act_dropout_backward_scalar: 0,
  batchnorm_forward_train: 0, batchnorm_forward_train_scalar: 0, batchnorm_forward_infer: 0, batchnorm_forward_infer_scalar: 0,
  batchnorm_backward: 0, batchnorm_backward_scalar: 0, batchnorm_update_moving: 0, batchnorm_update_moving_scalar: 0,
  mixture_iso_forward_scalar: 0, mixture_iso_params_scalar: 0, mixture_diag_forward_scalar: 0, mixture_diag_params_scalar: 0,
  mixture_full_forward_scalar: 0, mixture_full_params_scalar: 0,
  adam_lr_t: 0, adam_update: 0, adam_update_scalar: 0, adam_flush_moments: 0, adam_flush_moments_scalar: 0, flush_period: 0,
  sum_squares_scalar: 0, clip_global_norm_scalar: 0,
  exp_f32_array: 0, exp_f32_array_scalar: 0, log_f32_array: 0, log_f32_array_scalar: 0,
  softplus_f32_array: 0, softplus_f32_array_scalar: 0, sigmoid_f32_array: 0, sigmoid_f32_array_scalar: 0,
  ACT_RELU: 0, ACT_TANH: 0, ACT_LINEAR: 0, DENSE_WORK_BYTES: 0, DROPOUT_WORK_BYTES: 0,
  LAYER_RATE: 0, LAYER_EPSILON: 0, LAYER_MOMENTUM: 0, LAYER_BYTES: 0,
  OPT_LEARNING_RATE: 0, OPT_DECAY: 0, OPT_BETA1: 0, OPT_BETA2: 0, OPT_EPSILON: 0, OPT_L2: 0, OPT_CLIP_NORM: 0, OPT_BYTES: 0,
} satisfies Record<Exclude<keyof TestKernels, keyof ShippedKernels>, 0>;

async function exportsOf(file: string): Promise<string[]> {
  return WebAssembly.Module.exports(await WebAssembly.compile(await buildFile(file))).map((e) => e.name).sort();
}

/** Names in `want` that `got` lacks, and names in `got` that `want` lacks. */
function difference(got: string[], want: string[]) {
  return { missing: want.filter((n) => !got.includes(n)), undeclared: got.filter((n) => !want.includes(n)) };
}

describe("one ABI type per build", () => {
  it("build/mdn.wasm exports exactly ShippedKernels", async () => {
    expect(difference(await exportsOf("mdn.wasm"), Object.keys(SHIPPED))).toEqual({ missing: [], undeclared: [] });
  });

  for (const file of ["mdn.full.wasm", "mdn.debug.wasm"]) {
    it(`build/${file} exports exactly TestKernels`, async () => {
      expect(difference(await exportsOf(file), [...Object.keys(SHIPPED), ...Object.keys(TEST_ONLY)])).toEqual({ missing: [], undeclared: [] });
    });
  }

  it("the comparison sees a missing and an undeclared name", () => {
    expect(difference(["a", "c"], ["a", "b"])).toEqual({ missing: ["b"], undeclared: ["c"] });
  });
});

describe("the host's mirrors of the kernels' constants", () => {
  let k: TestKernels;
  beforeAll(async () => {
    k = await loadKernels();
  });

  it("work sizes, settings offsets and activation codes equal the test build's globals", () => {
    const names = Object.keys(TEST_ONLY).filter((n) => /^[A-Z]/.test(n)) as Array<keyof typeof TEST_ONLY & keyof typeof abi>;
    expect(names.length).toBe(17);
    for (const name of names) expect(abi[name], name).toBe((k[name] as WebAssembly.Global).value);
    expect(abi.THREAD_WORK_BYTES).toBe(abi.DENSE_WORK_BYTES + abi.DROPOUT_WORK_BYTES);
  });
});

describe("no kernel keeps scratch at a static address", () => {
  // Everything below heap_base is the module's static data. Kernels that need scratch take a work
  // pointer (dense: packed blocks of a large product; dropout: the streams and the tail block), so
  // that two instances over one shared memory can run them at once.
  it("dense_forward, dense_backward and act_dropout_forward leave the static data as it was", async () => {
    const k = await loadKernels();
    const h = new Heap(k);
    const base = k.heap_base();
    const before = new Uint8Array(k.memory.buffer, 0, base).slice();
    const rng = testRng(3);
    // Large enough for the cache-blocked product and dinp's transposed blocks (M >= 16, K * P > 16384).
    const N = 64, I = 200, O = 136;
    const inp = h.put(uniform(rng, N * I)), w = h.put(uniform(rng, I * O)), b = h.put(uniform(rng, O));
    const out = h.alloc(N * O), dinp = h.alloc(N * I), dw = h.alloc(I * O), db = h.alloc(O);
    const dense = h.alloc(abi.DENSE_WORK_BYTES / 4);
    k.dense_forward(out, inp, w, b, N, I, O, dense);
    k.dense_backward(dinp, dw, db, out, inp, w, N, I, O, dense);
    const state = h.alloc(4);
    k.rng_seed(state, 5n);
    // 13 floats: a whole block of 8 and the tail block.
    k.act_dropout_forward(h.alloc(13), h.alloc(13), h.put(uniform(rng, 13)), 13, abi.ACT_RELU, 0.2, state, h.alloc(abi.DROPOUT_WORK_BYTES / 4));
    const after = new Uint8Array(k.memory.buffer, 0, base);
    expect(after.findIndex((v, i) => v !== before[i])).toBe(-1);
    // The work regions were used: the packing wrote into dense's.
    expect(new Float32Array(k.memory.buffer, dense, abi.DENSE_WORK_BYTES / 4).some((v) => v !== 0)).toBe(true);
  });
});
