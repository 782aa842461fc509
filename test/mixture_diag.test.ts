// assembly/mixture_diag.ts: the diagonal-covariance head (suite in test/head-suite.ts).
import { headSuite } from "./head-suite.js";
import { diagBackward, diagForward, diagSigma } from "./reference/mixture_diag.js";
import { loadKernels } from "./util.js";

headSuite({ covariance: "diagonal", k: await loadKernels(), isScale: () => true, refForward: diagForward, refBackward: diagBackward, refScale: diagSigma });
