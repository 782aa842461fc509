// Float64 reference for batch normalization over x (N, C), Keras semantics, written for clarity:
// plain loops, textbook two-pass statistics, no tricks. See assembly/batchnorm.ts for the math.

export interface BatchnormTrain {
  /** out (N, C) */
  out: Float64Array;
  /** xhat (N, C) */
  xhat: Float64Array;
  /** mean (C) */
  mean: Float64Array;
  /** vari (C), biased (divided by N) */
  vari: Float64Array;
}

/** Training forward: batch statistics, out = gamma * (x - mean) / sqrt(var + eps) + beta. */
export function batchnormForwardTrain(
  x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  N: number, C: number, eps: number,
): BatchnormTrain {
  const out = new Float64Array(N * C);
  const xhat = new Float64Array(N * C);
  const mean = new Float64Array(C);
  const vari = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += x[n * C + c]!;
    const mu = s / N;
    let q = 0;
    for (let n = 0; n < N; n++) q += (x[n * C + c]! - mu) ** 2;
    const va = q / N;
    mean[c] = mu;
    vari[c] = va;
    for (let n = 0; n < N; n++) {
      const xh = (x[n * C + c]! - mu) / Math.sqrt(va + eps);
      xhat[n * C + c] = xh;
      out[n * C + c] = gamma[c]! * xh + beta[c]!;
    }
  }
  return { out, xhat, mean, vari };
}

/** Inference forward with the moving statistics. */
export function batchnormForwardInfer(
  x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  movingMean: ArrayLike<number>, movingVar: ArrayLike<number>,
  N: number, C: number, eps: number,
): Float64Array {
  const out = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      out[i] = (gamma[c]! * (x[i]! - movingMean[c]!)) / Math.sqrt(movingVar[c]! + eps) + beta[c]!;
    }
  }
  return out;
}

/**
 * moving = momentum * moving + (1 - momentum) * batch, returned as a new array; 0 where its
 * magnitude is below 2^-100 (the kernel's flush: no subnormal moving statistics, issue 16).
 */
export function batchnormUpdateMoving(
  moving: ArrayLike<number>, batch: ArrayLike<number>, momentum: number,
): Float64Array {
  const out = new Float64Array(moving.length);
  for (let c = 0; c < moving.length; c++) {
    const x = momentum * moving[c]! + (1 - momentum) * batch[c]!;
    out[c] = Math.abs(x) < 2 ** -100 ? 0 : x;
  }
  return out;
}
