// Shoot-out for the dense kernels (not a test): GFLOP/s of dense_forward, of dw + db (dense_backward
// with dinp = 0) and of dinp alone (the difference of the two backward timings), on the end-to-end
// workloads' shapes, for one or more builds of the module, alternated so that load on a shared
// machine hits them alike.
//   node bench/dense.shootout.mjs [a.wasm b.wasm ...]   (default: build/mdn.wasm)
import { readFileSync } from "node:fs";

const SHAPES = [
  [128, 2, 32], // W1 (the seed model): layer 1
  [128, 32, 32], // W1 layer 2
  [128, 32, 16], // W1 head
  [26, 32, 32], // W1's last batches
  [102, 32, 16],
  [256, 2, 256], // W2 layer 1
  [256, 256, 256], // W2 layer 2
  [256, 256, 32], // W2 head (K = 8, D = 2)
];
const ROUNDS = 5;

/** Best time of one call in ms over batches of calls for ~`ms` milliseconds. */
function best(fn, ms) {
  for (let r = 0; r < 20; r++) fn();
  let t = Infinity;
  let reps = 1;
  while (reps < 1e6) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    if (performance.now() - t0 > 0.5) break;
    reps *= 2;
  }
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    t = Math.min(t, (performance.now() - t0) / reps);
  }
  return t;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : ["build/mdn.wasm"];
const mods = [];
for (const file of files) mods.push((await WebAssembly.instantiate(readFileSync(file), {})).instance.exports);

function buffers(k, N, I, O) {
  let top = k.heap_base();
  const alloc = (n) => {
    const p = top;
    top += Math.ceil((n * 4) / 16) * 16;
    const need = top - k.memory.buffer.byteLength;
    if (need > 0) k.memory.grow(Math.ceil(need / 65536));
    new Float32Array(k.memory.buffer, p, n).forEach((_, j, a) => (a[j] = Math.sin(j) * 0.5));
    return p;
  };
  // The last is dense's work region (src/engine/kernels.ts DENSE_WORK_BYTES: 320 KiB).
  return [N * O, N * I, I * O, O, N * O, N * I, I * O, O, 81920].map(alloc);
}

for (const [N, I, O] of SHAPES) {
  const fl = 2 * N * I * O;
  const t = mods.map(() => ({ fwd: Infinity, dw: Infinity, bwd: Infinity }));
  for (let round = 0; round < ROUNDS; round++) {
    mods.forEach((k, j) => {
      const [out, inp, w, b, dout, dinp, dw, db, work] = buffers(k, N, I, O);
      t[j].fwd = Math.min(t[j].fwd, best(() => k.dense_forward(out, inp, w, b, N, I, O, work), 40));
      t[j].dw = Math.min(t[j].dw, best(() => k.dense_backward(0, dw, db, dout, inp, w, N, I, O, work), 40));
      t[j].bwd = Math.min(t[j].bwd, best(() => k.dense_backward(dinp, dw, db, dout, inp, w, N, I, O, work), 40));
    });
  }
  mods.forEach((_, j) => {
    const g = (ms) => (fl / (ms * 1e6)).toFixed(1).padStart(5);
    console.log(`N=${N} I=${I} O=${O}`.padEnd(20) + `${files[j].padEnd(28)} fwd ${g(t[j].fwd)}  dw+db ${g(t[j].dw)}  dinp ${g(t[j].bwd - t[j].dw)}  GFLOP/s`);
  });
}
