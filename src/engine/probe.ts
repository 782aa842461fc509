// The probe batch: a few input rows on which every model this library holds predicts finite
// numbers. MDN.load refuses a file whose model does not (ModelFormatError CANNOT_PREDICT),
// setWeights refuses weights that do not, and fit keeps only weights that do (README "Non-finite
// numbers"), so a model that saves also loads.
//
// The rows, in original units, sit where the model was trained: with centre c and scale s the
// input standardisation's mean and standard deviation (normalize: true), else 0 and 1, they are
// c + z * s for z = 0, +1, -1, (+1, -1, +1, ...) and (-1, +1, -1, ...): every input weight meets a
// non-zero input of either sign. The check runs them exactly as predict does (standardise,
// forward in inference mode, the head's parameter kernel, back to original units), so "predicts
// finite numbers on the probe batch" means predict's own numbers.

import type { InferBuffers } from "./arena.js";
import { MdnError } from "../core/errors.js";
import { type Covariance, headOf, triIndex } from "./head.js";
import { inferChunks } from "./infer.js";
import type { Network } from "./network.js";
import { type Normalization, standardize, unscaleHead } from "./normalize.js";

export const PROBE_ROWS = 5;
const F32_MAX = 3.4028234663852886e38;

/** The probe batch (PROBE_ROWS, I), row-major, in original units. */
export function probeRows(inputDim: number, norm: Normalization | null): Float32Array {
  const out = new Float32Array(PROBE_ROWS * inputDim);
  for (let i = 0; i < inputDim; i++) {
    const alt = i % 2 === 0 ? 1 : -1;
    const zs = [0, 1, -1, alt, -alt];
    const c = norm ? norm.xMean[i]! : 0;
    const s = norm ? norm.xStd[i]! : 1;
    for (let r = 0; r < PROBE_ROWS; r++) out[r * inputDim + i] = Math.max(-F32_MAX, Math.min(F32_MAX, c + zs[r]! * s));
  }
  return out;
}

/** The probe batch as the network sees it: standardised as predict standardises its inputs. */
export function probeInputs(inputDim: number, norm: Normalization | null): Float32Array {
  const x = probeRows(inputDim, norm);
  return norm ? (standardize({ data: x, rows: PROBE_ROWS, cols: inputDim }, norm.xMean, norm.xStd).data as Float32Array) : x;
}

/**
 * Why the network's weights do not predict finite numbers on the probe batch x (probeInputs), or
 * null: every mixing weight, mean and scale entry in original units must be finite and every
 * standard deviation (L's diagonal for full covariance) positive. Without normalisation the
 * kernels' finiteness checks decide (a finite sigma is at least the floor); with it the mixture is
 * mapped back in place, in the buffers, as predict maps it.
 */
export function probeProblem(net: Network, norm: Normalization | null, b: InferBuffers, x: Float32Array): string | null {
  const k = net.k;
  const { components: K, outputDim: D, covariance } = net.cfg;
  const n = PROBE_ROWS;
  inferChunks(net, b.scratch, n, x, null, false, () => net.mixtureParams(b.scratch, n, b.pi, b.mu, b.sigma));
  const finite = k.all_finite(b.pi, n * K) === 1 && k.all_finite(b.mu, n * K * D) === 1 && k.all_finite(b.sigma, n * net.S) === 1;
  if (finite && !norm) return null;
  const mem = k.memory.buffer;
  const h = { N: n, pi: new Float32Array(mem, b.pi, n * K), mu: new Float32Array(mem, b.mu, n * K * D), scale: new Float32Array(mem, b.sigma, n * net.S) };
  if (norm) {
    try {
      unscaleHead(norm, h, covariance, D);
    } catch (e) {
      if (e instanceof MdnError) return `the mixture overflows float32 in the targets' units on the probe batch (${e.argument})`;
      throw e;
    }
  }
  return mixtureProblem(h, covariance, D);
}

/** The first non-finite entry or non-positive standard deviation of head parameters, or null. */
function mixtureProblem(h: { pi: Float32Array; mu: Float32Array; scale: Float32Array }, covariance: Covariance, D: number): string | null {
  for (const [name, a] of [["pi", h.pi], ["mu", h.mu], ["sigma", h.scale]] as const) {
    const i = a.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) return `${name}[${i}] is ${a[i]} on the probe batch`;
  }
  const Sk = headOf(covariance).blockSize(D);
  for (let b = 0; b < h.scale.length; b += Sk) {
    for (let i = 0; i < (covariance === "isotropic" ? 1 : D); i++) {
      const at = b + (covariance === "full" ? triIndex(i, i) : i);
      if (!(h.scale[at]! > 0)) return `sigma[${at}] is ${h.scale[at]} on the probe batch, not a positive standard deviation`;
    }
  }
  return null;
}
