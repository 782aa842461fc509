// dense_forward / dense_backward (and their _scalar twins) against the float64 reference, against
// central differences of that reference, and against each other.

import { beforeAll, describe, it } from "vitest";
import { DENSE_WORK_BYTES, type Ptr, type TestKernels } from "../src/engine/kernels.js";
import { denseBackward, denseForward } from "./reference/dense.js";
import {
  centralDiff, expectClose, expectIdentical, Heap, loadKernels, SIZES, testRng, uniform, type Tol,
} from "./util.js";

type Shape = [N: number, I: number, O: number];

/** Each dimension through every size with the other two at two settings, plus random mixes. */
function shapes(): Shape[] {
  const out: Shape[] = [];
  for (const s of SIZES) {
    for (const [p, q] of [[5, 8], [17, 3]] as const) {
      out.push([s, p, q], [p, s, q], [p, q, s]);
    }
  }
  const rng = testRng(7);
  const pick = (): number => SIZES[Math.floor(rng() * SIZES.length)]!;
  for (let t = 0; t < 12; t++) out.push([pick(), pick(), pick()]);
  return out;
}

const SHAPES = shapes();
/**
 * Larger than any tile in every dimension, with tails in each; the seed model's first layer; one
 * past every cache block (two blocks of k and of columns in forward and dw, a column tail of 6,
 * dinp's blocks of w^T: two of o, of 130 and 129, and three of inputs); inputs that would leave
 * dinp a last block of 3 (67 = 56 + 11 under 256 outputs); and 1-3 rows over 16-column tiles with
 * a tail (predict).
 */
const LARGE: Shape[] = [
  [130, 70, 259], [128, 2, 32], [256, 32, 32], [301, 290, 270], [20, 67, 256], [1, 32, 33], [3, 2, 40],
];

/**
 * The paths for 1-2 inputs (forward with w's rows in registers; dw and db in one pass when O % 4
 * is 0, else gemm): every I = 1..5 (across the switch to gemm), column counts around the 8-column
 * blocks (forward's last block overlapping the one before for O % 8 = 1..7, a block narrower than
 * 8 for O = 4..7; dw's last block of one vector for O % 8 = 4), rows below, at and past 4.
 */
const SMALL_IN: Shape[] = [];
for (const I of [1, 2, 3, 4, 5]) {
  for (const O of [4, 6, 8, 11, 12, 13, 16, 20, 33]) {
    for (const N of [1, 5, 26]) SMALL_IN.push([N, I, O]);
  }
}

/**
 * Float32 sums of K products of values in [-1, 1]: recursive summation errs by about u * K on
 * typical data (u = 2^-24, partial sums growing like sqrt(K) over K roundings), and by at most
 * u * K * (K + 1) in the worst case. 2^-20 * (K + 1) sits 16x above the typical error, while a
 * dropped or doubled term (|term| ~ 0.25) is far larger.
 */
function sumTol(K: number): Tol {
  return { atol: 2 ** -20 * (K + 1), rtol: 0 };
}

interface Case {
  N: number;
  I: number;
  O: number;
  inp: Float64Array; // (N, I)
  w: Float64Array; // (I, O)
  b: Float64Array; // (O)
  dout: Float64Array; // (N, O)
}

function makeCase([N, I, O]: Shape, seed: number): Case {
  const rng = testRng(seed);
  return {
    N, I, O,
    inp: uniform(rng, N * I),
    w: uniform(rng, I * O),
    b: uniform(rng, O),
    dout: uniform(rng, N * O),
  };
}

/** A guard word pattern after every output buffer, to catch writes past its end. */
const GUARD = 8;
function allocGuarded(heap: Heap, n: number, fill: number): Ptr {
  const p = heap.alloc(n + GUARD);
  heap.f32(p, n).fill(fill);
  heap.f32(p + n * 4, GUARD).fill(-12345);
  return p;
}
function expectGuard(heap: Heap, p: Ptr, n: number, label: string): void {
  expectIdentical(heap.f32(p + n * 4, GUARD), new Float32Array(GUARD).fill(-12345), `${label} guard`);
}

type Forward = TestKernels["dense_forward"];
type Backward = TestKernels["dense_backward"];

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

function runForward(fn: Forward, c: Case): Float64Array {
  const heap = new Heap(k);
  const { N, I, O } = c;
  const inp = heap.put(c.inp);
  const w = heap.put(c.w);
  const b = heap.put(c.b);
  // Pre-filled with NaN: the forward pass must overwrite, never accumulate.
  const out = allocGuarded(heap, N * O, NaN);
  const work = allocGuarded(heap, DENSE_WORK_BYTES / 4, NaN);
  fn(out, inp, w, b, N, I, O, work);
  expectGuard(heap, work, DENSE_WORK_BYTES / 4, "work");
  expectGuard(heap, out, N * O, "out");
  return heap.get(out, N * O);
}

interface Grads {
  dinp: Float64Array;
  dw: Float64Array;
  db: Float64Array;
}

/** Run backward `times` times into gradients that start at `start` (or zero). */
function runBackward(fn: Backward, c: Case, times = 1, start?: Grads): Grads {
  const heap = new Heap(k);
  const { N, I, O } = c;
  const dinp = allocGuarded(heap, N * I, 0);
  const dw = allocGuarded(heap, I * O, 0);
  const db = allocGuarded(heap, O, 0);
  if (start) {
    heap.f32(dinp, N * I).set(start.dinp);
    heap.f32(dw, I * O).set(start.dw);
    heap.f32(db, O).set(start.db);
  }
  const dout = heap.put(c.dout);
  const inp = heap.put(c.inp);
  const w = heap.put(c.w);
  const work = allocGuarded(heap, DENSE_WORK_BYTES / 4, NaN);
  for (let t = 0; t < times; t++) fn(dinp, dw, db, dout, inp, w, N, I, O, work);
  expectGuard(heap, work, DENSE_WORK_BYTES / 4, "work");
  expectGuard(heap, dinp, N * I, "dinp");
  expectGuard(heap, dw, I * O, "dw");
  expectGuard(heap, db, O, "db");
  return { dinp: heap.get(dinp, N * I), dw: heap.get(dw, I * O), db: heap.get(db, O) };
}

const name = ([N, I, O]: Shape): string => `N=${N} I=${I} O=${O}`;

describe.each(["dense_forward", "dense_forward_scalar"] as const)("%s", (fn) => {
  it.each([...SHAPES, ...LARGE, ...SMALL_IN].map((s) => [name(s), s] as const))("matches the reference, %s", (_, s) => {
    const c = makeCase(s, 1);
    const got = runForward(k[fn], c);
    expectClose(got, denseForward(c.inp, c.w, c.b, c.N, c.I, c.O), sumTol(c.I), `${fn} ${name(s)}`);
  });
});

describe.each(["dense_backward", "dense_backward_scalar"] as const)("%s", (fn) => {
  it.each([...SHAPES, ...LARGE, ...SMALL_IN].map((s) => [name(s), s] as const))("matches the reference, %s", (_, s) => {
    const c = makeCase(s, 2);
    const got = runBackward(k[fn], c);
    const want = denseBackward(c.dout, c.inp, c.w, c.N, c.I, c.O);
    expectClose(got.dinp, want.dinp, sumTol(c.O), `${fn} dinp ${name(s)}`);
    expectClose(got.dw, want.dw, sumTol(c.N), `${fn} dw ${name(s)}`);
    expectClose(got.db, want.db, sumTol(c.N), `${fn} db ${name(s)}`);
  });

  it.each(SHAPES.map((s) => [name(s), s] as const))("matches central differences, %s", (_, s) => {
    // loss = sum(out * R) with R = dout, so d loss / d out = dout. The loss is linear in each
    // parameter, so float64 central differences are exact up to ~1e-10.
    const c = makeCase(s, 3);
    const { N, I, O } = c;
    const loss = (inp: Float64Array, w: Float64Array, b: Float64Array): number => {
      const out = denseForward(inp, w, b, N, I, O);
      let sum = 0;
      for (let j = 0; j < out.length; j++) sum += out[j]! * c.dout[j]!;
      return sum;
    };
    const got = runBackward(k[fn], c);
    expectClose(got.dinp, centralDiff((x) => loss(x, c.w, c.b), c.inp.slice()), sumTol(O), `${fn} dinp`);
    expectClose(got.dw, centralDiff((x) => loss(c.inp, x, c.b), c.w.slice()), sumTol(N), `${fn} dw`);
    expectClose(got.db, centralDiff((x) => loss(c.inp, c.w, x), c.b.slice()), sumTol(N), `${fn} db`);
  });

  it("accumulates: a second call adds the same contribution again", () => {
    for (const s of [[5, 17, 33], [130, 70, 259], [3, 1, 3], [26, 2, 13], [5, 1, 6]] as Shape[]) {
      const c = makeCase(s, 4);
      const want = denseBackward(c.dout, c.inp, c.w, c.N, c.I, c.O);
      const rng = testRng(5);
      const start = { dinp: uniform(rng, c.N * c.I), dw: uniform(rng, c.I * c.O), db: uniform(rng, c.O) };
      const got = runBackward(k[fn], c, 2, start);
      const twice = (g0: Float64Array, g: Float64Array): Float64Array => g0.map((v, j) => v + 2 * g[j]!);
      // Two sums of K terms plus the start: twice the one-call error, and the start's own term.
      const tol = (K: number): Tol => ({ atol: 2 * sumTol(K + 1).atol, rtol: 0 });
      expectClose(got.dinp, twice(start.dinp, want.dinp), tol(c.O), `${fn} dinp ${name(s)}`);
      expectClose(got.dw, twice(start.dw, want.dw), tol(c.N), `${fn} dw ${name(s)}`);
      expectClose(got.db, twice(start.db, want.db), tol(c.N), `${fn} db ${name(s)}`);
    }
  });

  it("skips dinp when its pointer is 0 and still computes dw and db", () => {
    for (const s of [[5, 17, 33], [17, 3, 5], [4, 8, 3], [26, 2, 32], [3, 1, 11]] as Shape[]) {
      const c = makeCase(s, 6);
      const { N, I, O } = c;
      const heap = new Heap(k);
      const dw = heap.put(new Float64Array(I * O));
      const db = heap.put(new Float64Array(O));
      const dout = heap.put(c.dout);
      const inp = heap.put(c.inp);
      const w = heap.put(c.w);
      const low = new Uint8Array(k.memory.buffer, 0, N * I * 4).slice();
      k[fn](0, dw, db, dout, inp, w, N, I, O, heap.alloc(DENSE_WORK_BYTES / 4));
      expectIdentical(new Uint8Array(k.memory.buffer, 0, N * I * 4), low, `${fn} bytes at 0`);
      const want = denseBackward(c.dout, c.inp, c.w, N, I, O);
      expectClose(heap.get(dw, I * O), want.dw, sumTol(N), `${fn} dw`);
      expectClose(heap.get(db, O), want.db, sumTol(N), `${fn} db`);
    }
  });
});

describe("SIMD kernels against their scalar twins", () => {
  const all = [...SHAPES, ...LARGE, ...SMALL_IN];

  it("dense_forward is bit-identical to dense_forward_scalar (same order of additions)", () => {
    for (const s of all) {
      const c = makeCase(s, 8);
      expectIdentical(runForward(k.dense_forward, c), runForward(k.dense_forward_scalar, c), name(s));
    }
  });

  it("dense_backward is bit-identical to dense_backward_scalar, accumulating onto nonzero gradients", () => {
    for (const s of all) {
      const c = makeCase(s, 9);
      const rng = testRng(11);
      const start = { dinp: uniform(rng, c.N * c.I), dw: uniform(rng, c.I * c.O), db: uniform(rng, c.O) };
      const got = runBackward(k.dense_backward, c, 1, start);
      const want = runBackward(k.dense_backward_scalar, c, 1, start);
      expectIdentical(got.dinp, want.dinp, `dinp ${name(s)}`);
      expectIdentical(got.dw, want.dw, `dw ${name(s)}`);
      expectIdentical(got.db, want.db, `db ${name(s)}`);
    }
  });
});
