// Float64 reference for assembly/dropout.ts (activation then inverted dropout), written for
// clarity, with its own transcription of the library's generator (xoshiro128**, Blackman & Vigna
// 2018) and of the four-stream mask, so the tests check the draw order and the keep rule
// independently of the wasm code.

export type Act = "relu" | "tanh" | "linear";

/** One xoshiro128** step on state (4) u32 in place; returns the next 32 random bits. */
export function xoshiroNext(s: Uint32Array): number {
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1]! << 9) >>> 0;
  s[2]! ^= s[0]!;
  s[3]! ^= s[1]!;
  s[1]! ^= s[2]!;
  s[0]! ^= s[3]!;
  s[2]! ^= t;
  s[3] = rotl(s[3]!, 11);
  return result;
}

/**
 * The dropout mask for n elements at rate > 0: 16 draws from `state` (advanced in place) seed four
 * xoshiro128** streams, lane j from draws 4j .. 4j+3 (all zero -> first word 1). Elements go in
 * blocks of 8: the t-th output x of lane j decides element 8t + j by its low 16 bits and element
 * 8t + 4 + j by its high 16 bits. A half h gives u = (h XOR 0x8000) / 65536, and the element is
 * kept, with value 1 / (1 - rate), when u >= rate.
 */
export function dropoutMask(n: number, rate: number, state: Uint32Array): Float64Array {
  const lanes = [0, 1, 2, 3].map(() => {
    const s = Uint32Array.from([xoshiroNext(state), xoshiroNext(state), xoshiroNext(state), xoshiroNext(state)]);
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
    return s;
  });
  const mask = new Float64Array(n);
  for (let b = 0; b < n; b += 8) {
    for (let j = 0; j < 4; j++) {
      const x = xoshiroNext(lanes[j]!);
      const halves = [x & 0xffff, x >>> 16];
      for (let half = 0; half < 2; half++) {
        const i = b + 4 * half + j;
        const u = (halves[half]! ^ 0x8000) / 65536;
        if (i < n) mask[i] = u >= rate ? 1 / (1 - rate) : 0;
      }
    }
  }
  return mask;
}

export function act(a: Act, x: number): number {
  if (a === "relu") return Math.max(x, 0);
  if (a === "tanh") return Math.tanh(x);
  return x;
}

/** d act / dx; relu's kink at 0 gets 0, as in Keras. */
export function actDeriv(a: Act, x: number): number {
  if (a === "relu") return x > 0 ? 1 : 0;
  if (a === "tanh") return 1 - Math.tanh(x) ** 2;
  return 1;
}

export interface ActDropout {
  mask: Float64Array; // (n): 0 or 1 / (1 - rate); all 1 at rate 0
  out: Float64Array; // (n) = act(inp) * mask
  deriv: Float64Array; // (n) = act'(inp) * mask
}

/** act(inp) then inverted dropout; rate 0 draws nothing and keeps everything. */
export function actDropoutForward(a: Act, inp: ArrayLike<number>, rate: number, state: Uint32Array): ActDropout {
  const n = inp.length;
  const mask = rate > 0 ? dropoutMask(n, rate, state) : new Float64Array(n).fill(1);
  const out = new Float64Array(n);
  const deriv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = act(a, inp[i]!) * mask[i]!;
    deriv[i] = actDeriv(a, inp[i]!) * mask[i]!;
  }
  return { mask, out, deriv };
}

/** dinp = dout * deriv (the chain rule through the fused forward). */
export function actDropoutBackward(dout: ArrayLike<number>, deriv: ArrayLike<number>): Float64Array {
  const dinp = new Float64Array(dout.length);
  for (let i = 0; i < dinp.length; i++) dinp[i] = dout[i]! * deriv[i]!;
  return dinp;
}
