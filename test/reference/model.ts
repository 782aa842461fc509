// Float64 reference of the whole network in training mode without dropout: hidden layers
// dense -> activation -> (batch norm with batch statistics), then the mixture head and the mean
// NLL. Composed from the per-kernel references, for the whole-model gradient check.

import type { ResolvedConfig } from "../../src/core/config.js";
import { SIGMA_EXP, SIGMA_SOFTPLUS } from "../../src/engine/kernels.js";
import { reluForward, tanhForward, linearForward } from "./activation.js";
import { batchnormForwardTrain } from "./batchnorm.js";
import { denseForward } from "./dense.js";
import { mixtureLoss } from "./mixture.js";
import { diagLoss } from "./mixture_diag.js";
import { fullLoss, triSize } from "./mixture_full.js";

/** A trainable tensor's place in the flat parameter vector. */
export interface Slot {
  name: string;
  size: number;
}

/**
 * Mean NLL of (x, y) for the trainable weights `theta`, laid out as `slots` (the Network's
 * trainable tensors in layer order). Dropout must be off in `cfg`.
 */
export function referenceLoss(cfg: ResolvedConfig, slots: Slot[], theta: Float64Array, x: ArrayLike<number>, y: ArrayLike<number>, N: number): number {
  const get = new Map<string, Float64Array>();
  let off = 0;
  for (const s of slots) {
    get.set(s.name, theta.subarray(off, off + s.size));
    off += s.size;
  }
  let h: ArrayLike<number> = x;
  let inDim = cfg.inputDim;
  let bn = 0;
  cfg.hidden.forEach((l, i) => {
    if (l.dropout > 0) throw new Error("referenceLoss: dropout must be off");
    const z = denseForward(h, get.get(`dense_${i + 1}/kernel`)!, get.get(`dense_${i + 1}/bias`)!, N, inDim, l.units);
    h = l.activation === "relu" ? reluForward(z) : l.activation === "tanh" ? tanhForward(z) : linearForward(z);
    if (l.batchNorm) {
      bn++;
      const n = `batch_normalization_${bn}`;
      h = batchnormForwardTrain(h, get.get(`${n}/gamma`)!, get.get(`${n}/beta`)!, N, l.units, l.batchNorm.epsilon).out;
    }
    inDim = l.units;
  });
  const { components: K, outputDim: D } = cfg;
  const Sk = cfg.covariance === "isotropic" ? 1 : cfg.covariance === "diagonal" ? D : triSize(D);
  const P = K + K * D + K * Sk;
  const a = denseForward(h, get.get("mixture/kernel")!, get.get("mixture/bias")!, N, inDim, P);
  const sigmaAct = cfg.sigma.activation === "exp" ? SIGMA_EXP : SIGMA_SOFTPLUS;
  const loss = cfg.covariance === "isotropic" ? mixtureLoss : cfg.covariance === "diagonal" ? diagLoss : fullLoss;
  return loss(a, y, { N, K, D, floor: cfg.sigma.floor, sigmaAct }, 1 / N);
}
