// Draws from a Gaussian mixture per row, with the library's seeded generator (random.ts), so a
// seed reproduces every bit on every engine.
//
// Dimensions: N rows, S draws per row, K components, D target dimensions, T = D (D + 1) / 2.
// Buffers:    out (N, S, D) draws; comp (N, S) i32 the component of each draw
//             w (N, K) non-negative weights, each row with a positive sum (need not sum to 1)
//             mu (N, K, D) means; L (N, K, T) packed lower-triangular factors (row by row,
//             L_ij at i (i + 1) / 2 + j), covariance L L^T; state (4) u32 the generator
//
// Per draw: k = the first component whose running weight sum exceeds u * sum_k w_k, u ~ U[0, 1)
// (53-bit), skipping zero weights, so k never has zero weight and never leaves [0, K), whatever
// rounding does to the running sum (then the last positive weight is taken); eps ~ N(0, I_D);
// y = mu_k + L_k eps. Rows are drawn one after another, each from its own parameters only.
//
// Normal deviates: Marsaglia's polar method (G. Marsaglia and T. A. Bray, SIAM Review 6, 1964):
// (a, b) uniform in the unit disc by rejection, s = a^2 + b^2, then a * f and b * f with
// f = sqrt(-2 log s / s) are two independent N(0, 1). It needs only log and sqrt, no sin/cos;
// AssemblyScript's Math.log is a software (musl) implementation and sqrt is IEEE-exact, so the
// bits are the same on every engine. Scalar only: the generator is sequential.

import { rng_uniform_f64 } from "./random";

// @ts-ignore: decorator
@inline
function tri(i: i32, j: i32): usize {
  return <usize>((i * (i + 1)) / 2 + j) << 2;
}

export function mixture_sample(out: usize, comp: usize, w: usize, mu: usize, L: usize, N: i32, S: i32, K: i32, D: i32, state: usize): void {
  assert(((out | comp | w | mu | L | state) & 15) == 0, "sample: buffers must be 16-byte aligned");
  assert(N >= 0 && S >= 0 && K >= 1 && D >= 1, "sample: sizes");
  const T = (D * (D + 1)) / 2;
  let spare: f64 = 0;
  let hasSpare = false;
  for (let n = 0; n < N; n++) {
    const w_n = w + ((<usize>n * <usize>K) << 2);
    let total: f64 = 0;
    for (let k = 0; k < K; k++) total += <f64>load<f32>(w_n + (<usize>k << 2));
    for (let r = 0; r < S; r++) {
      const t = rng_uniform_f64(state) * total;
      let pick = -1;
      let last = -1;
      let cum: f64 = 0;
      for (let k = 0; k < K; k++) {
        const wk = <f64>load<f32>(w_n + (<usize>k << 2));
        if (wk <= 0) continue;
        last = k;
        cum += wk;
        if (t < cum) {
          pick = k;
          break;
        }
      }
      if (pick < 0) pick = last;
      const nr = <usize>n * <usize>S + <usize>r;
      store<i32>(comp + (nr << 2), pick);
      const mu_k = mu + ((<usize>(n * K + pick) * <usize>D) << 2);
      const L_k = L + ((<usize>(n * K + pick) * <usize>T) << 2);
      const y = out + ((nr * <usize>D) << 2);
      // y_i = mu_i + sum_{j <= i} L_ij eps_j; eps_j is drawn when first needed (j = i), so
      // accumulate column by column: y starts at mu, then each new eps_j adds L_ij eps_j, i >= j.
      for (let i = 0; i < D; i++) store<f32>(y + (<usize>i << 2), load<f32>(mu_k + (<usize>i << 2)));
      for (let j = 0; j < D; j++) {
        let e: f64;
        if (hasSpare) {
          e = spare;
          hasSpare = false;
        } else {
          let a: f64, b: f64, s: f64;
          do {
            a = 2 * rng_uniform_f64(state) - 1;
            b = 2 * rng_uniform_f64(state) - 1;
            s = a * a + b * b;
          } while (s >= 1 || s == 0);
          const f = Math.sqrt(-2 * Math.log(s) / s);
          e = a * f;
          spare = b * f;
          hasSpare = true;
        }
        for (let i = j; i < D; i++) {
          const o = <usize>i << 2;
          store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + <f64>load<f32>(L_k + tri(i, j)) * e));
        }
      }
    }
  }
}
