// Inference in chunks: the one loop that runs rows through the network in inference mode, at most
// `cap` rows at a time, for predict, the densities, evaluate, sampling, the validation loss and
// the probe batch. Rows are independent in inference, so the chunk size changes no result.

import type { Checked } from "../core/data.js";
import { MdnError } from "../core/errors.js";
import type { InferBuffers, Scratch } from "./arena.js";
import type { Ptr } from "./kernels.js";
import type { Network } from "./network.js";

/** Rows to stage: a host matrix's row-major values, or the address of rows already in memory. */
export type Rows = Checked["data"] | Ptr;

/** What inference needs: the network, rows per chunk, and inference buffers for that many. */
export interface Engine {
  net: Network;
  cap: number;
  buffers(): InferBuffers;
}

/** Raw head parameters for N rows, float32 as the kernels give them; scale is (N, K, Sk). */
export interface HeadParams {
  N: number;
  pi: Float32Array;
  mu: Float32Array;
  scale: Float32Array;
}

/**
 * Rows [0, N) of x (and y, unless null) through the network in chunks of s.cap: stage, forward
 * in inference mode, then (when `check`) refuse a row whose head outputs overflow, then each(start,
 * n) with the chunk's head output at s.a.
 */
export function inferChunks(net: Network, s: Scratch, N: number, x: Rows, y: Rows | null, check: boolean, each: (start: number, n: number) => void): void {
  const { inputDim: I, outputDim: D } = net.cfg;
  for (let start = 0; start < N; start += s.cap) {
    const n = Math.min(s.cap, N - start);
    stage(net, s.x, x, start * I, n * I);
    if (y !== null) stage(net, s.y, y, start * D, n * D);
    net.forward(s, n, false);
    if (check) checkHeadFinite(net, s, n, start);
    each(start, n);
  }
}

/** count values of rows from value `from` to `at`. */
function stage(net: Network, at: Ptr, rows: Rows, from: number, count: number): void {
  if (typeof rows === "number") {
    net.k.copy_bytes(at, rows + 4 * from, 4 * count);
    return;
  }
  const f32 = net.view();
  const o = at >>> 2;
  // A few values go faster by index than through set(subarray(...)).
  if (count <= 64) for (let i = 0; i < count; i++) f32[o + i] = rows[from + i]!;
  else f32.set(from === 0 && count === rows.length ? rows : rows.subarray(from, from + count), o);
}

/**
 * Throws MdnError NON_FINITE naming the row of x when the network's outputs for one of the n rows
 * (from row `start`) at s.a overflow float32: then no mixture, density or sample of it is finite.
 */
export function checkHeadFinite(net: Network, s: Scratch, n: number, start: number): void {
  const bad = net.badHeadRow(s, n);
  if (bad >= 0) {
    throw new MdnError("NON_FINITE", `x[${start + bad}]`, "an input row whose network outputs are finite in float32", "a row for which they overflow (an input far outside the range of the training data)");
  }
}

/**
 * The head's parameters for the rows of xs, as copies (`slice`) the caller owns. When every row
 * fits one chunk (single-row predict) the copies are the results themselves.
 */
export function headParams(e: Engine, xs: Checked): HeadParams {
  const { net } = e;
  const { components: K, outputDim: D } = net.cfg;
  const N = xs.rows;
  const S = net.S;
  const b = e.buffers();
  const pi = b.pi >>> 2, mu = b.mu >>> 2, sc = b.sigma >>> 2;
  let out: HeadParams | null = null;
  inferChunks(net, b.scratch, N, xs.data, null, true, (start, n) => {
    net.mixtureParams(b.scratch, n, b.pi, b.mu, b.sigma);
    const f32 = net.view();
    if (N <= e.cap) {
      out = { N, pi: f32.slice(pi, pi + N * K), mu: f32.slice(mu, mu + N * K * D), scale: f32.slice(sc, sc + N * S) };
      return;
    }
    out ??= { N, pi: new Float32Array(N * K), mu: new Float32Array(N * K * D), scale: new Float32Array(N * S) };
    out.pi.set(f32.subarray(pi, pi + n * K), start * K);
    out.mu.set(f32.subarray(mu, mu + n * K * D), start * K * D);
    out.scale.set(f32.subarray(sc, sc + n * S), start * S);
  });
  return out!;
}

/** Per-row log density log p(y | x) (N) and responsibilities (N, K), from the loss kernel. */
export function jointOf(e: Engine, xs: Checked, ys: Checked): { logProb: Float32Array; gamma: Float32Array } {
  const { net } = e;
  const K = net.cfg.components;
  const logProb = new Float32Array(xs.rows);
  const gamma = new Float32Array(xs.rows * K);
  const s = e.buffers().scratch;
  inferChunks(net, s, xs.rows, xs.data, ys.data, true, (start, n) => {
    net.mixtureLoss(s, n);
    const f32 = net.view();
    for (let i = 0; i < n; i++) logProb[start + i] = -f32[(s.nll >>> 2) + i]!;
    gamma.set(f32.subarray(s.gamma >>> 2, (s.gamma >>> 2) + n * K), start * K);
  });
  return { logProb, gamma };
}

/** Mean NLL of N rows (evaluate, the validation loss); `check` refuses rows whose head overflows. */
export function meanLoss(net: Network, s: Scratch, N: number, x: Rows, y: Rows, check: boolean): number {
  let sum = 0;
  inferChunks(net, s, N, x, y, check, (_start, n) => {
    sum += net.mixtureLoss(s, n);
  });
  return sum / N;
}
