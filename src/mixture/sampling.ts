// Sampling y ~ p(y | x) with temperatures, through the wasm sampler (assembly/sample.ts) and the
// library's seeded generator.
//
// Semantics (keras-mdn's, stated once here and in the README):
// - temperature T reweights the components: w_k = softmax_k(log pi_k / T) = pi_k^(1/T) / sum_j
//   pi_j^(1/T). T = 1 samples the model; T < 1 sharpens towards the most likely component, T > 1
//   flattens towards uniform; T = 0 always takes the most likely component (the first on ties).
// - sigmaTemperature tau scales every covariance by tau (each sigma, or L, by sqrt(tau)); tau = 0
//   returns the component mean itself. So T = 0 with tau = 0 gives the most likely component's mean.
// - Without a seed, draws continue one sampling stream per model, seeded from config.seed (so a
//   session is reproducible), separate from the training generator: sampling never changes what
//   a later fit does. With a seed, the call is reproducible on its own and the stream is untouched.

import { positiveInt } from "../core/config.js";
import type { Checked } from "../core/data.js";
import { describe, MdnError } from "../core/errors.js";
import { ensureMemory, planSampling } from "../engine/arena.js";
import { headOf } from "../engine/head.js";
import { type Engine, inferChunks } from "../engine/infer.js";
import type { Network } from "../engine/network.js";
import { type Normalization, unscaleHead } from "../engine/normalize.js";

export interface SampleOptions {
  /** Draws per row; default 1. */
  n?: number;
  /** Temperature on the mixing weights, >= 0; default 1. */
  temperature?: number;
  /** Factor on every covariance, >= 0; default 1. */
  sigmaTemperature?: number;
  /** Seed for this call only; default: the model's sampling stream. */
  seed?: number;
}

/** n draws for each of N rows; arrays the caller owns. */
export interface Samples {
  /** (N, n, D): draws of row r are samples[(r * n + i) * D + d]. */
  samples: Float32Array;
  /** (N, n): the component each draw came from, in [0, K). */
  components: Int32Array;
  shape: [number, number, number];
}

export function resolveSampleOptions(o: unknown): Required<Omit<SampleOptions, "seed">> & { seed: number | undefined } {
  if (typeof o !== "object" || o === null) throw new MdnError("INVALID_ARGUMENT", "options", "an object", describe(o));
  const r = o as SampleOptions;
  const n = r.n === undefined ? 1 : positiveInt(r.n, "options.n", 1 << 24);
  const temp = (v: unknown, name: string): number => {
    if (v === undefined) return 1;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new MdnError("INVALID_CONFIG", name, "a finite number >= 0", describe(v));
    return v;
  };
  const temperature = temp(r.temperature, "options.temperature");
  const sigmaTemperature = temp(r.sigmaTemperature, "options.sigmaTemperature");
  if (r.seed !== undefined && (typeof r.seed !== "number" || !Number.isSafeInteger(r.seed) || r.seed < 0)) {
    throw new MdnError("INVALID_CONFIG", "options.seed", "a non-negative safe integer", describe(r.seed));
  }
  return { n, temperature, sigmaTemperature, seed: r.seed };
}

/** Tempered weights softmax(log pi / T) for one row (T = 0: one-hot on the first largest pi). */
export function temperedWeights(pi: ArrayLike<number>, T: number): Float64Array {
  const K = pi.length;
  const w = new Float64Array(K);
  let best = 0;
  for (let k = 1; k < K; k++) if (pi[k]! > pi[best]!) best = k;
  if (T === 0) {
    w[best] = 1;
    return w;
  }
  // Differences of logs first: each is <= 0 and finite, so dividing by any T > 0 gives a value in
  // [-Infinity, 0] and the largest weight is exactly 1 (log pi / T alone overflows for tiny T).
  const top = Math.log(pi[best]!);
  let s = 0;
  for (let k = 0; k < K; k++) {
    w[k] = pi[k]! > 0 ? Math.exp((Math.log(pi[k]!) - top) / T) : 0;
    s += w[k]!;
  }
  for (let k = 0; k < K; k++) w[k] = w[k]! / s;
  return w;
}

/** The per-model sampling stream's generator state (4 u32), kept outside the arena. */
const streams = new WeakMap<Network, Uint32Array>();
/** Offsets config.seed so the sampling stream differs from the training generator's. */
const STREAM_SALT = 0x5a3c_96e1n;

/**
 * Draws for the rows of xs (standardised as the network sees them, norm the way back). Per chunk
 * the head's parameters stay in wasm memory, in the inference buffers: mapped back to original
 * units and tempered there in place, then read by the sampler where they are; only the draws come
 * out. The generator runs on across chunks, so chunking is invisible.
 */
export function sampleRows(e: Engine, xs: Checked, norm: Normalization | null, o: ReturnType<typeof resolveSampleOptions>): Samples {
  const { net } = e;
  const k = net.k;
  const { components: K, outputDim: D, covariance } = net.cfg;
  const T = (D * (D + 1)) / 2;
  const N = xs.rows;
  const S = o.n;
  const samples = new Float32Array(N * S * D);
  const components = new Int32Array(N * S);
  const b = e.buffers();
  // Rows per sampler call, for bounded memory.
  const rows = Math.max(1, Math.min(e.cap, Math.floor((1 << 22) / (S * (D + 1) + K * (1 + D + T)))));
  const sp = planSampling(b.end, rows, K, D, S);
  ensureMemory(k, sp.end, "x");

  const state = sp.state;
  if (o.seed !== undefined) {
    k.rng_seed(state, BigInt(o.seed));
  } else {
    let st = streams.get(net);
    if (!st) {
      k.rng_seed(state, BigInt(net.cfg.seed) ^ STREAM_SALT);
      st = new Uint32Array(k.memory.buffer, state, 4).slice();
      streams.set(net, st);
    }
    new Uint32Array(k.memory.buffer, state, 4).set(st);
  }
  const lscale = Math.sqrt(o.sigmaTemperature);
  const head = headOf(covariance);
  const Sk = head.blockSize(D);
  const L64 = new Float64Array(T);
  inferChunks(net, b.scratch, N, xs.data, null, true, (start, n) => {
    net.mixtureParams(b.scratch, n, b.pi, b.mu, b.sigma);
    const f32 = net.view();
    const pi = f32.subarray(b.pi >>> 2, (b.pi >>> 2) + n * K);
    const h = { N: n, pi, mu: f32.subarray(b.mu >>> 2, (b.mu >>> 2) + n * K * D), scale: f32.subarray(b.sigma >>> 2, (b.sigma >>> 2) + n * K * Sk) };
    if (norm) unscaleHead(norm, h, covariance, D, start);
    for (let r = 0; r < n; r++) pi.set(temperedWeights(pi.subarray(r * K, (r + 1) * K), o.temperature), r * K);
    for (let at = 0; at < n; at += rows) {
      const m = Math.min(rows, n - at);
      const L = f32.subarray(sp.L >>> 2, (sp.L >>> 2) + m * K * T);
      for (let c = 0; c < m * K; c++) {
        L64.fill(0);
        head.factor(h.scale, at * K + c, D, L64, 0);
        for (let j = 0; j < T; j++) L[c * T + j] = L64[j]! * lscale;
      }
      k.mixture_sample(sp.out, sp.comp, b.pi + 4 * at * K, b.mu + 4 * at * K * D, sp.L, m, S, K, D, state);
      samples.set(new Float32Array(k.memory.buffer, sp.out, m * S * D), (start + at) * S * D);
      components.set(new Int32Array(k.memory.buffer, sp.comp, m * S), (start + at) * S);
    }
  });
  if (o.seed === undefined) streams.get(net)!.set(new Uint32Array(k.memory.buffer, state, 4));
  return { samples, components, shape: [N, S, D] };
}
