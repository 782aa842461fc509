// Float64 reference for assembly/dense.ts, written for clarity: plain loops, no tiling.
// Dimensions: N rows, I inputs, O outputs. Buffers are row-major: inp (N, I), w (I, O), b (O).

/** out (N, O) = inp (N, I) . w (I, O) + b (O). */
export function denseForward(
  inp: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, N: number, I: number, O: number,
): Float64Array {
  const out = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b[o]!;
      for (let i = 0; i < I; i++) s += inp[n * I + i]! * w[i * O + o]!;
      out[n * O + o] = s;
    }
  }
  return out;
}

export interface DenseGrads {
  dinp: Float64Array; // (N, I)
  dw: Float64Array; // (I, O)
  db: Float64Array; // (O)
}

/** Gradients for dout (N, O): dinp = dout . w^T, dw = inp^T . dout, db = sum over rows of dout. */
export function denseBackward(
  dout: ArrayLike<number>, inp: ArrayLike<number>, w: ArrayLike<number>, N: number, I: number, O: number,
): DenseGrads {
  const dinp = new Float64Array(N * I);
  const dw = new Float64Array(I * O);
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const d = dout[n * O + o]!;
      db[o] = db[o]! + d;
      for (let i = 0; i < I; i++) {
        dinp[n * I + i] = dinp[n * I + i]! + d * w[i * O + o]!;
        dw[i * O + o] = dw[i * O + o]! + inp[n * I + i]! * d;
      }
    }
  }
  return { dinp, dw, db };
}
