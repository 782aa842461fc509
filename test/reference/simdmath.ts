// Float64 references for assembly/simdmath.ts: the textbook formulas, evaluated in double precision.

/** float32's smallest normal value, 2^-126. */
export const FLT_MIN = 2 ** -126;

/**
 * x, or 0 where |x| < 2^-126: the kernels' results are 0 wherever float32 would hold a subnormal
 * (issue 16: flush-to-zero, which WebAssembly cannot switch on, done by the kernels themselves).
 */
export function flushToZero(x: number): number {
  return Math.abs(x) < FLT_MIN ? 0 : x;
}

/** softplus(a) = log(1 + e^a), written so neither e^a nor log(1 + tiny) loses the answer. */
export function softplus(a: number): number {
  return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
}

/** sigmoid(a) = 1 / (1 + e^-a) = d softplus / da. */
export function sigmoid(a: number): number {
  return a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a));
}
