// Small synthetic data sets, seeded and deterministic, for demos, tests and benchmarks.

import { MAX_RESULT_VALUES, positiveInt } from "../core/config.js";
import { describe, MdnError } from "../core/errors.js";

/** A tiny seeded generator for data (sfc32 seeded by splitmix32); not the model's generator. */
export function dataRng(seed: number): { uniform: () => number; normal: () => number } {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  const uniform = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  const normal = () => {
    // Box-Muller; 1 - u keeps log away from 0.
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

export interface ClusterData {
  /** Inputs (n, 2), row-major. */
  x: Float32Array;
  /** Targets (n, 2): each row is its cluster's centre. */
  y: Float32Array;
  /** The cluster of each row. */
  z: Int32Array;
  pi: number[];
  mu: number[][];
  /** Per-dimension variances: the notebook's `std` list, which it passes as the covariance diagonal. */
  variance: number[][];
}

/**
 * The seed notebook's data: K = 4 clusters with weights 0.2/0.4/0.3/0.1 and centres (2,2), (-2,2),
 * (-2,-2), (2,-2). For each row a cluster k is drawn, x ~ N(mu_k, diag(v_k)) and y = mu_k. The
 * notebook names v_k "std" ([0.5, 0.5], [1, 1], [0.5, 0.5], [1, 1]) but passes it to
 * multivariate_normal as the covariance diagonal, so those numbers are variances; we keep that.
 */
export function seedClusters(n = 1024, seed = 0): ClusterData {
  positiveInt(n, "n", MAX_RESULT_VALUES / 4); // x and y: 2 values each per row
  if (!Number.isSafeInteger(seed) || seed < 0) throw new MdnError("INVALID_ARGUMENT", "seed", "a non-negative safe integer", describe(seed));
  const pi = [0.2, 0.4, 0.3, 0.1];
  const mu = [[2, 2], [-2, 2], [-2, -2], [2, -2]];
  const variance = [[0.5, 0.5], [1, 1], [0.5, 0.5], [1, 1]];
  const rng = dataRng(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 2);
  const z = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let u = rng.uniform();
    let k = 0;
    while (k < pi.length - 1 && u >= pi[k]!) u -= pi[k++]!;
    z[r] = k;
    for (let d = 0; d < 2; d++) {
      x[r * 2 + d] = mu[k]![d]! + Math.sqrt(variance[k]![d]!) * rng.normal();
      y[r * 2 + d] = mu[k]![d]!;
    }
  }
  return { x, y, z, pi, mu, variance };
}
