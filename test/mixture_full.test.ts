// assembly/mixture_full.ts: the full-covariance (Cholesky) head (suite in test/head-suite.ts).
import { headSuite } from "./head-suite.js";
import { fullBackward, fullForward, fullL, triIndex } from "./reference/mixture_full.js";
import { loadKernels } from "./util.js";

const diagonalOf = new Map<number, Set<number>>();
headSuite({
  covariance: "full",
  k: await loadKernels(),
  isScale: (j, D) => {
    if (!diagonalOf.has(D)) diagonalOf.set(D, new Set(Array.from({ length: D }, (_, i) => triIndex(i, i))));
    return diagonalOf.get(D)!.has(j);
  },
  refForward: fullForward,
  refBackward: fullBackward,
  refScale: fullL,
});
