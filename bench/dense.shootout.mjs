// Shoot-out for the dense kernels (not a test): GFLOP/s of dense_forward / dense_backward and their
// scalar twins, on one or more builds of the module, so tile shapes can be compared.
//   node bench/dense.shootout.mjs [a.wasm b.wasm ...]   (default: build/mdn.wasm)
import { readFileSync } from "node:fs";

const SHAPES = [
  [256, 256, 256],
  [128, 256, 256],
  [128, 2, 32], // the seed model's first layer
  [128, 32, 32],
];

function bench(fn, flops) {
  // Warm up, then time batches until ~0.3 s has passed; report the best batch.
  for (let r = 0; r < 50; r++) fn();
  let best = Infinity;
  const end = performance.now() + 300;
  let reps = Math.max(1, Math.round(2e6 / flops));
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return flops / (best * 1e6); // GFLOP/s
}

const files = process.argv.length > 2 ? process.argv.slice(2) : ["build/mdn.wasm"];
for (const file of files) {
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  const k = instance.exports;
  let top = k.heap_base();
  const alloc = (n) => {
    const p = top;
    top += Math.ceil((n * 4) / 16) * 16;
    const need = top - k.memory.buffer.byteLength;
    if (need > 0) k.memory.grow(Math.ceil(need / 65536));
    new Float32Array(k.memory.buffer, p, n).forEach((_, j, a) => (a[j] = Math.sin(j) * 0.5));
    return p;
  };
  console.log(file);
  for (const [N, I, O] of SHAPES) {
    top = k.heap_base();
    const [out, inp, w, b, dout, dinp, dw, db] = [N * O, N * I, I * O, O, N * O, N * I, I * O, O].map(alloc);
    const fl = 2 * N * I * O;
    const row = [`  N=${N} I=${I} O=${O}`];
    row.push(`fwd ${bench(() => k.dense_forward(out, inp, w, b, N, I, O), fl).toFixed(1)}`);
    row.push(`fwd_scalar ${bench(() => k.dense_forward_scalar(out, inp, w, b, N, I, O), fl).toFixed(1)}`);
    row.push(`bwd ${bench(() => k.dense_backward(dinp, dw, db, dout, inp, w, N, I, O), 2 * fl).toFixed(1)}`);
    row.push(`bwd(no dinp) ${bench(() => k.dense_backward(0, dw, db, dout, inp, w, N, I, O), fl).toFixed(1)}`);
    console.log(row.join("  ") + "  GFLOP/s");
  }
}
