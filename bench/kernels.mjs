// Kernel benchmarks, in the orchestrator's process: the SIMD-peak probe (bench/assembly/peak.ts), dense
// forward and backward, the mixture NLL with gradients, Adam. Each tinybench sample is a loop of
// calls long enough (~0.5 ms) for the timer; figures are per call.
import { readFileSync } from "node:fs";
import { headOf } from "../dist/engine/head.js";
import { DENSE_WORK_BYTES } from "../dist/engine/kernels.js";
import { measure } from "./lib.mjs";

const WIDTHS = [32, 128, 256, 512, 1024];
const BATCHES = [128, 256];

/** Raw exports of a module (no loader wrappers: nothing between the timer and the kernel). */
async function load(file) {
  const { instance } = await WebAssembly.instantiate(readFileSync(new URL(file, import.meta.url)), {});
  return instance.exports;
}

/** A bump allocator over a module's memory, filled with small deterministic values. */
function arena(k, base) {
  let top = base;
  return (n) => {
    const p = top;
    top += Math.ceil((n * 4) / 16) * 16;
    const need = top - k.memory.buffer.byteLength;
    if (need > 0) k.memory.grow(Math.ceil(need / 65536));
    const v = new Float32Array(k.memory.buffer, p, n);
    for (let j = 0; j < n; j++) v[j] = Math.sin(j * 0.37) * 0.5;
    return p;
  };
}

/** Calls per sample so that one sample takes about 0.5 ms. */
function repsFor(fn) {
  let reps = 1;
  for (; ;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t0 > 0.5) return reps;
    reps *= 2;
  }
}

/** Median/min/max time of one call, in ms. */
async function perCall(fn, iterations) {
  // Reach the optimising tier: 200 calls, or (for calls of many ms) at least 5 calls and 200 ms.
  for (let i = 0, t0 = performance.now(); i < 200 && (i < 5 || performance.now() - t0 < 200); i++) fn();
  const reps = repsFor(fn);
  const r = await measure(() => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return { overriddenDuration: (performance.now() - t0) / reps };
  }, { iterations, warmup: 3 });
  return r;
}

/** Work per second from per-call times in ms; `work` is one call's work in the unit reported. */
const rate = (r, work) => ({ median: (1e3 * work) / r.median, min: (1e3 * work) / r.max, max: (1e3 * work) / r.min });

/**
 * GFLOP/s of the peak probes: the register peak (`gflops`, the ceiling for the percentages) and the
 * GEMM inner step from L1 with 4 x 8 and 6 x 8 tiles.
 */
export async function peak(quick) {
  const k = await load("./build/peak.wasm");
  const alloc = arena(k, 1024);
  const a = alloc(256 * 8), b = alloc(256 * 8);
  const it = quick ? 40 : 150;
  const reg = rate(await perCall(() => k.peak_reg(a, 8), it), (8 * 256 * 96) / 1e9); // GFLOP/s
  const r48 = rate(await perCall(() => k.peak_4x8(a, b, 8), it), (8 * 256 * 64) / 1e9);
  const r68 = rate(await perCall(() => k.peak_6x8(a, b, 8), it), (8 * 256 * 96) / 1e9);
  return { gflops: reg, register: reg, tile4x8: r48, tile6x8: r68 };
}

export async function kernels(quick) {
  const k = await load("../build/mdn.wasm");
  const it = quick ? 15 : 60;
  const dense = [];
  for (const N of BATCHES) {
    for (const W of WIDTHS) {
      const alloc = arena(k, k.heap_base());
      const [out, inp, w, b, dout, dinp, dw, db, work] = [N * W, N * W, W * W, W, N * W, N * W, W * W, W, DENSE_WORK_BYTES / 4].map(alloc);
      const gf = (2 * N * W * W) / 1e9; // GFLOP per product
      const fwd = rate(await perCall(() => k.dense_forward(out, inp, w, b, N, W, W, work), it), gf);
      // Backward: dinp and dw, two products; db is O(N * W).
      const bwd = rate(await perCall(() => k.dense_backward(dinp, dw, db, dout, inp, w, N, W, W, work), it), 2 * gf);
      dense.push({ N, I: W, O: W, forward: fwd, backward: bwd });
    }
  }
  // Mixture NLL forward + backward (the training step's head), rows/s, for the seed's K = 4, D = 2,
  // W2's K = 8, D = 2 and W3's K = 16, D = 16, isotropic, and the diagonal and full heads.
  const mixture = [];
  for (const [cov, K, D] of [["isotropic", 4, 2], ["isotropic", 8, 2], ["isotropic", 16, 16], ["diagonal", 4, 2], ["diagonal", 16, 16], ["full", 4, 2], ["full", 4, 8]]) {
    const N = 256;
    const head = headOf(cov);
    const P = K + K * D + K * head.blockSize(D);
    const alloc = arena(k, k.heap_base());
    const [loss, nll, gamma, a, y, da, hs, work] = [2, N, N * K, N * P, N * D, N * P, 4, head.workFloats(K, D)].map(alloc);
    // The training step's call: loss and gradient in one pass, with the sigma floor and 1 / N read
    // from the head's settings block as the host writes them.
    new Float32Array(k.memory.buffer, hs, 2).set([1e-4, 1 / N]);
    const step = head.kernels(k).forward;
    const r = await perCall(() => step(loss, nll, gamma, da, a, y, N, K, D, 0, hs, work), it);
    mixture.push({ covariance: cov, K, D, N, rowsPerS: rate(r, N) });
  }
  // Adam over W2's parameter count (about 76k) and a 1M-parameter region, params/s.
  const adam = [];
  for (const n of [76_000, 1_000_000]) {
    const alloc = arena(k, k.heap_base());
    const [w, g, m, v, hp] = [n, n, n, n, 12].map(alloc);
    // The step as the host calls it: settings (lr, decay, beta1, beta2, epsilon, l2) from memory.
    new Float64Array(k.memory.buffer, hp, 6).set([1e-3, 0, 0.9, 0.999, 1e-7, 0]);
    const r = await perCall(() => k.adam_step(w, g, m, v, n, 0, 1, hp), it);
    adam.push({ n, paramsPerS: rate(r, n) });
  }
  return { dense, mixture, adam };
}
