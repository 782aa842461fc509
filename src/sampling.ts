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

import { ensureMemory, Planner } from "./arena.js";
import { positiveInt } from "./config.js";
import type { Engine, Mixture } from "./density.js";
import { describe, MdnError } from "./errors.js";
import type { Network } from "./network.js";

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

/** Fill a Samples from the mixture m; wasm memory is used from `base` up. */
export function sampleMixture(e: Engine, m: Mixture, o: ReturnType<typeof resolveSampleOptions>, base: number): Samples {
  const { N, K, D } = m;
  const T = (D * (D + 1)) / 2;
  const S = o.n;
  const samples = new Float32Array(N * S * D);
  const components = new Int32Array(N * S);
  // Rows in chunks of bounded memory; the generator runs on across chunks, so chunking is invisible.
  const chunk = Math.max(1, Math.min(N, Math.floor((1 << 22) / (S * (D + 1) + K * (1 + D + T)))));
  const p = new Planner(base);
  const state = p.take(4);
  const w = p.take(chunk * K);
  const mu = p.take(chunk * K * D);
  const L = p.take(chunk * K * T);
  const out = p.take(chunk * S * D);
  const comp = p.take(chunk * S);
  ensureMemory(e.k, p.top, "x");

  if (o.seed !== undefined) {
    e.k.rng_seed(state, BigInt(o.seed));
  } else {
    let s = streams.get(e.net);
    if (!s) {
      e.k.rng_seed(state, BigInt(e.cfg.seed) ^ STREAM_SALT);
      s = new Uint32Array(e.k.memory.buffer, state, 4).slice();
      streams.set(e.net, s);
    }
    new Uint32Array(e.k.memory.buffer, state, 4).set(s);
  }
  const lscale = Math.sqrt(o.sigmaTemperature);
  for (let start = 0; start < N; start += chunk) {
    const n = Math.min(chunk, N - start);
    const mem = e.k.memory.buffer;
    const wv = new Float32Array(mem, w, n * K);
    for (let r = 0; r < n; r++) wv.set(temperedWeights(m.pi.subarray((start + r) * K, (start + r + 1) * K), o.temperature), r * K);
    new Float32Array(mem, mu, n * K * D).set(m.mu.subarray(start * K * D, (start + n) * K * D));
    const Lv = new Float32Array(mem, L, n * K * T);
    for (let i = 0; i < n * K * T; i++) Lv[i] = m.L[start * K * T + i]! * lscale;
    e.k.mixture_sample(out, comp, w, mu, L, n, S, K, D, state);
    samples.set(new Float32Array(e.k.memory.buffer, out, n * S * D), start * S * D);
    components.set(new Int32Array(e.k.memory.buffer, comp, n * S), start * S);
  }
  if (o.seed === undefined) streams.get(e.net)!.set(new Uint32Array(e.k.memory.buffer, state, 4));
  return { samples, components, shape: [N, S, D] };
}
