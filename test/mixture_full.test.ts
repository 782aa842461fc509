// assembly/mixture_full.ts: the full-covariance (Cholesky) head (suite in test/head-suite.ts).
import { loadKernels } from "./util.js";
import { headSuite } from "./head-suite.js";
import { fullBackward, fullForward, fullL, triIndex, triSize } from "./reference/mixture_full.js";

const k = await loadKernels();
const diagonalOf = new Map<number, Set<number>>();
headSuite({
  name: "mixture_full",
  k,
  Sk: triSize,
  isScale: (j, D) => {
    if (!diagonalOf.has(D)) diagonalOf.set(D, new Set(Array.from({ length: D }, (_, i) => triIndex(i, i))));
    return diagonalOf.get(D)!.has(j);
  },
  forward: k.mixture_full_forward,
  forwardScalar: k.mixture_full_forward_scalar,
  backward: k.mixture_full_backward,
  backwardScalar: k.mixture_full_backward_scalar,
  params: k.mixture_full_params,
  refForward: fullForward,
  refBackward: fullBackward,
  refScale: fullL,
});
