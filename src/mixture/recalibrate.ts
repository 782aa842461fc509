// Post-hoc recalibration: a scale s on every component's spread (each sigma, or Cholesky factor L,
// times s) and a temperature T on the mixing weights (pi_k proportional to pi_k^(1/T), i.e. the
// logits divided by T), fitted by maximum likelihood on held-out rows (Guo et al. 2017's
// temperature scaling, extended to the spread; Kuleshov et al. 2018 discuss both for regression).
//
// With q_nk = |L_nk^-1 (y_n - mu_nk)|^2 and c_nk = -log det L_nk - (D/2) log 2 pi, at s = e^a and
// T = e^b the mean NLL of N held-out rows is
//   f(a, b) = -1/N sum_n logsumexp_k [ log pi_nk / T - logsumexp_j (log pi_nj / T)
//                                      + c_nk - D a - q_nk e^(-2a) / 2 ]
// computed in float64 on the model's mixture. It is minimised by golden-section search on each
// coordinate in turn (a, then b, until neither moves by 1e-6), each on [-log 8, log 8]: two
// parameters, a cheap smooth objective, no derivatives to get wrong, and a deterministic result.
// f is convex in a for one component and was unimodal in a and b on every model measured
// (dev/fits/calib.mjs checks a grid); a minimum on a bracket's edge is returned as is.
//
// The result is folded into the head's weights, so every method and the model file carry it with
// no new state: the logit columns (kernel and bias) are divided by T; for sigma = exp(s_raw), log s
// is added to each sigma's bias (isotropic, diagonal; L's diagonal for full), and L's linear
// off-diagonal columns are multiplied by s. Where the floor holds (exp(s_raw) < floor) the folded
// sigma is max(s exp(s_raw), floor) rather than s * floor. Softplus sigmas cannot be scaled by a
// shift, so recalibrate refuses them.

import type { ResolvedConfig } from "../core/config.js";
import { HALF_LOG_2PI, type Mixture, whiten } from "./density.js";
import { triIndex } from "../engine/head.js";
import type { Network } from "../engine/network.js";

export interface Recalibration {
  /** The factor applied to every sigma (or Cholesky factor L). */
  scale: number;
  /** The temperature applied to the mixing weights (1 when not fitted). */
  temperature: number;
  /** Mean NLL of the held-out rows before and after, in the targets' units. */
  nll: { before: number; after: number };
}

const BRACKET = Math.log(8);
const TOL = 1e-6;
const MAX_SWEEPS = 50;

/** The per-row, per-component terms f needs: log pi, c and q (each N * K). */
interface Terms {
  N: number;
  K: number;
  D: number;
  logPi: Float64Array;
  c: Float64Array;
  q: Float64Array;
}

function termsOf(m: Mixture, y: Float32Array | Float64Array): Terms {
  const { N, K, D } = m;
  const logPi = new Float64Array(N * K), c = new Float64Array(N * K), q = new Float64Array(N * K);
  const u = new Float64Array(D + 1);
  for (let n = 0; n < N; n++) {
    const yn = y.subarray(n * D, (n + 1) * D);
    for (let k = 0; k < K; k++) {
      q[n * K + k] = whiten(m, n, k, yn, u);
      c[n * K + k] = -u[D]! - D * HALF_LOG_2PI;
      logPi[n * K + k] = Math.log(m.pi[n * K + k]!);
    }
  }
  return { N, K, D, logPi, c, q };
}

/** f(a, b): the mean NLL at s = e^a, T = e^b. */
function nllAt(t: Terms, a: number, b: number): number {
  const { N, K, D } = t;
  const invT = Math.exp(-b);
  const halfInvS2 = 0.5 * Math.exp(-2 * a);
  const l = new Float64Array(K);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const o = n * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, t.logPi[o + k]! * invT);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(t.logPi[o + k]! * invT - mx);
    const lz = mx + Math.log(z);
    let M = -Infinity;
    for (let k = 0; k < K; k++) M = Math.max(M, (l[k] = t.logPi[o + k]! * invT - lz + t.c[o + k]! - D * a - t.q[o + k]! * halfInvS2));
    let S = 0;
    for (let k = 0; k < K; k++) S += Math.exp(l[k]! - M);
    total -= M + Math.log(S);
  }
  return total / N;
}

/** Golden-section search for a minimum of f on [lo, hi], to width TOL. */
function golden(f: (v: number) => number, lo: number, hi: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = lo, b = hi;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = f(c), fd = f(d);
  while (b - a > TOL) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return (a + b) / 2;
}

/** Fit s (and T when `temperature`) on the mixture m of held-out rows with targets y (N, D). */
export function fitRecalibration(m: Mixture, y: Float32Array | Float64Array, temperature: boolean): Recalibration {
  const t = termsOf(m, y);
  let a = 0, b = 0;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    const a0 = a, b0 = b;
    a = golden((v) => nllAt(t, v, b), -BRACKET, BRACKET);
    if (!temperature) break;
    b = golden((v) => nllAt(t, a, v), -BRACKET, BRACKET);
    if (Math.abs(a - a0) < TOL && Math.abs(b - b0) < TOL) break;
  }
  return { scale: Math.exp(a), temperature: Math.exp(b), nll: { before: nllAt(t, 0, 0), after: nllAt(t, a, b) } };
}

/** Fold s and T into the head's weights (sigma activation "exp"; see the header). */
export function foldRecalibration(net: Network, cfg: ResolvedConfig, s: number, T: number): void {
  const { components: K, outputDim: D, covariance } = cfg;
  const P = net.P;
  const mem = net.k.memory.buffer;
  const H = net.head.kernel.shape[0]!;
  const kernel = new Float32Array(mem, net.head.kernel.ptr, H * P);
  const bias = new Float32Array(mem, net.head.bias.ptr, P);
  const scaleColumn = (col: number, f: number) => {
    for (let h = 0; h < H; h++) kernel[h * P + col] = kernel[h * P + col]! * f;
    bias[col] = bias[col]! * f;
  };
  for (let k = 0; k < K; k++) scaleColumn(k, 1 / T);
  const logS = Math.log(s);
  const first = K + K * D;
  const Sk = net.S / K;
  for (let k = 0; k < K; k++) {
    for (let e = 0; e < Sk; e++) {
      const col = first + k * Sk + e;
      // Which entries are diagonal: all for isotropic and diagonal; L_ii for full.
      const diagonal = covariance !== "full" || Array.from({ length: D }, (_, i) => triIndex(i, i)).includes(e);
      if (diagonal) bias[col] = bias[col]! + logS;
      else scaleColumn(col, s);
    }
  }
}
