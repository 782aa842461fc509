// assembly/mixture_diag.ts: the diagonal-covariance head (suite in test/head-suite.ts).
import { loadKernels } from "./util.js";
import { headSuite } from "./head-suite.js";
import { diagBackward, diagForward, diagSigma } from "./reference/mixture_diag.js";

const k = await loadKernels();
headSuite({
  name: "mixture_diag",
  k,
  Sk: (D) => D,
  isScale: () => true,
  forward: k.mixture_diag_forward,
  forwardScalar: k.mixture_diag_forward_scalar,
  backward: k.mixture_diag_backward,
  backwardScalar: k.mixture_diag_backward_scalar,
  params: k.mixture_diag_params,
  refForward: diagForward,
  refBackward: diagBackward,
  refScale: diagSigma,
});
