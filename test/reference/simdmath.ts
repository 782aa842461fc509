// Float64 references for assembly/simdmath.ts: the textbook formulas, evaluated in double precision.

/** softplus(a) = log(1 + e^a), written so neither e^a nor log(1 + tiny) loses the answer. */
export function softplus(a: number): number {
  return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
}

/** sigmoid(a) = 1 / (1 + e^-a) = d softplus / da. */
export function sigmoid(a: number): number {
  return a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a));
}
