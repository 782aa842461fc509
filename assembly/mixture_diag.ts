// The diagonal component of the mixture driver (mixture.ts): one sigma per component and target
// dimension, covariance diag(sigma_k^2). Sigma block: s_k (D), Sk = D.
//
//   sigma_kd = min(max(act(s_kd), floor), ceiling)
//   z_k      = sum_d ((y_d - mu_kd) / sigma_kd)^2
//   log N_k  = -sum_d log sigma_kd - (D/2) log(2 pi) - z_k / 2
//   with t_d = (mu_kd - y_d) / sigma_kd (Bishop 5.156-5.157 per dimension):
//   d (-log N_k) / d mu_kd = t_d / sigma_kd
//   d (-log N_k) / d s_kd  = (1 - t_d^2) * d log sigma_kd / d s_kd   (0 where a bound is active)
//
// Fused step: logN4 leaves 1/sigma_kd in place of s_kd and d log sigma_kd / d s_kd in its cache,
// so grad4 needs no exp, softplus or sigmoid.

import { softplus_f32x4, sigmoid_f32x4, exp_f32x4 } from "./simdmath";
import { bound_f32x4, dlog_sigma_f32, log_sigma_f32, log_sigma_f32x4, SIGMA_CEIL, sigma_f32, sigma_f32x4, SIGMA_EXP } from "./lanes";

// @ts-ignore: decorator
@final @unmanaged
export class Diag {
  // @ts-ignore: decorator
  @inline size(D: i32): i32 {
    return D;
  }

  /** d log sigma_kd / d s_kd (0 where a bound holds), one vector per dimension. */
  // @ts-ignore: decorator
  @inline cacheVectors(D: i32): i32 {
    return D;
  }

  // @ts-ignore: decorator
  @inline sharedVectors(D: i32): i32 {
    return 0;
  }

  // @ts-ignore: decorator
  @inline logN4(mu_k: usize, s_k: usize, c_k: usize, w: usize, Y: usize, D: i32, sigmaAct: i32, floorV: v128, logFloor: v128, cV: v128, keep: bool): v128 {
    let sumLog = f32x4.splat(0);
    let z = f32x4.splat(0);
    for (let d = 0; d < D; d++) {
      const od = <usize>d << 4;
      const s = v128.load(s_k + od);
      // sigma_f32x4 and dlog_sigma_f32x4 (lanes.ts), sharing one activation.
      const act = sigmaAct == SIGMA_EXP ? exp_f32x4(s) : softplus_f32x4(s);
      const sigma = f32x4.pmin(f32x4.pmax(act, floorV), f32x4.splat(SIGMA_CEIL));
      const logSigma = log_sigma_f32x4(s, sigma, sigmaAct, logFloor);
      sumLog = f32x4.add(sumLog, logSigma);
      // z divides before squaring so a zero difference stays 0 however small sigma is.
      const t = f32x4.div(f32x4.sub(v128.load(Y + od), v128.load(mu_k + od)), sigma);
      z = f32x4.add(z, f32x4.mul(t, t));
      if (keep) {
        const bound = sigmaAct == SIGMA_EXP ? bound_f32x4(logSigma, s) : bound_f32x4(sigma, act);
        const dlog = v128.bitselect(f32x4.splat(0), sigmaAct == SIGMA_EXP ? f32x4.splat(1) : f32x4.div(sigmoid_f32x4(s), act), bound);
        v128.store(c_k + od, dlog);
        v128.store(s_k + od, f32x4.div(f32x4.splat(1), sigma));
      }
    }
    return f32x4.sub(f32x4.sub(f32x4.neg(sumLog), cV), f32x4.mul(f32x4.splat(0.5), z));
  }

  // @ts-ignore: decorator
  @inline grad4(mu_k: usize, s_k: usize, c_k: usize, w: usize, Y: usize, D: i32, sigmaAct: i32, floorV: v128, logFloor: v128, sg: v128): void {
    const one = f32x4.splat(1);
    for (let d = 0; d < D; d++) {
      const od = <usize>d << 4;
      const inv = v128.load(s_k + od);
      const t = f32x4.mul(f32x4.sub(v128.load(mu_k + od), v128.load(Y + od)), inv);
      v128.store(mu_k + od, f32x4.mul(f32x4.mul(sg, t), inv));
      v128.store(s_k + od, f32x4.mul(f32x4.mul(sg, f32x4.sub(one, f32x4.mul(t, t))), v128.load(c_k + od)));
    }
  }

  // @ts-ignore: decorator
  @inline activate4(s_k: usize, D: i32, sigmaAct: i32, floorV: v128): void {
    for (let d = 0; d < D; d++) v128.store(s_k + (<usize>d << 4), sigma_f32x4(v128.load(s_k + (<usize>d << 4)), sigmaAct, floorV));
  }

  // @ts-ignore: decorator
  @inline logN(mu_k: usize, s_k: usize, y_n: usize, w: usize, D: i32, sigmaAct: i32, floor: f32, logFloor: f32, cD: f32): f32 {
    let sumLog: f32 = 0;
    let z: f32 = 0;
    for (let d = 0; d < D; d++) {
      const od = <usize>d << 2;
      const s = load<f32>(s_k + od);
      const sigma = sigma_f32(s, sigmaAct, floor);
      sumLog += log_sigma_f32(s, sigma, sigmaAct, logFloor);
      const t = (load<f32>(y_n + od) - load<f32>(mu_k + od)) / sigma;
      z += t * t;
    }
    return (-sumLog - cD) - <f32>0.5 * z;
  }

  // @ts-ignore: decorator
  @inline grad(dmu_k: usize, ds_k: usize, mu_k: usize, s_k: usize, y_n: usize, w: usize, D: i32, sigmaAct: i32, floor: f32, logFloor: f32, sg: f32): void {
    for (let d = 0; d < D; d++) {
      const od = <usize>d << 2;
      const s = load<f32>(s_k + od);
      const inv = <f32>1.0 / sigma_f32(s, sigmaAct, floor);
      // t = (mu - y) / sigma: d mu = gamma t / sigma, d log sigma = gamma (1 - t^2).
      const t = (load<f32>(mu_k + od) - load<f32>(y_n + od)) * inv;
      store<f32>(dmu_k + od, load<f32>(dmu_k + od) + sg * t * inv);
      store<f32>(ds_k + od, load<f32>(ds_k + od) + sg * (<f32>1.0 - t * t) * dlog_sigma_f32(s, sigmaAct, logFloor, floor));
    }
  }

  // @ts-ignore: decorator
  @inline activate(out_k: usize, s_k: usize, D: i32, sigmaAct: i32, floor: f32): void {
    for (let d = 0; d < D; d++) store<f32>(out_k + (<usize>d << 2), sigma_f32(load<f32>(s_k + (<usize>d << 2)), sigmaAct, floor));
  }
}
