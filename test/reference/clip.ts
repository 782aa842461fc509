// Float64 reference of gradient clipping by global norm (assembly/clip.ts), written for clarity.

/** g * min(1, c / |g|), |g| the Euclidean norm of all of g; c <= 0: g unchanged. */
export function clipGlobalNorm(g: ArrayLike<number>, c: number): Float64Array {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  const norm = Math.sqrt(s);
  const f = c > 0 && norm > c ? c / norm : 1;
  return Float64Array.from(g, (v) => v * f);
}
