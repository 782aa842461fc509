// Float64 reference for assembly/activation.ts, written for clarity: plain loops over n values.
// Forward maps inp (n) to out (n); backward returns dinp0 + dout * f'(inp) written, like the
// kernels, in terms of the forward output out (n).

/** out = max(inp, 0); NaN stays NaN (Math.max propagates it). */
export function reluForward(inp: ArrayLike<number>): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) out[i] = Math.max(inp[i]!, 0);
  return out;
}

/** dinp0 + dout * (out > 0): the derivative at the kink (out = 0) is taken as 0. */
export function reluBackward(dinp0: ArrayLike<number>, dout: ArrayLike<number>, out: ArrayLike<number>): Float64Array {
  const dinp = Float64Array.from(dinp0);
  for (let i = 0; i < dinp.length; i++) if (out[i]! > 0) dinp[i]! += dout[i]!;
  return dinp;
}

/** out = tanh(inp), float64. */
export function tanhForward(inp: ArrayLike<number>): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) out[i] = Math.tanh(inp[i]!);
  return out;
}

/** dinp0 + dout * (1 - out^2), since d tanh(x) / dx = 1 - tanh(x)^2. */
export function tanhBackward(dinp0: ArrayLike<number>, dout: ArrayLike<number>, out: ArrayLike<number>): Float64Array {
  const dinp = Float64Array.from(dinp0);
  for (let i = 0; i < dinp.length; i++) dinp[i]! += dout[i]! * (1 - out[i]! * out[i]!);
  return dinp;
}

/** out = inp. */
export function linearForward(inp: ArrayLike<number>): Float64Array {
  return Float64Array.from(inp);
}

/** dinp0 + dout. */
export function linearBackward(dinp0: ArrayLike<number>, dout: ArrayLike<number>): Float64Array {
  const dinp = Float64Array.from(dinp0);
  for (let i = 0; i < dinp.length; i++) dinp[i]! += dout[i]!;
  return dinp;
}
