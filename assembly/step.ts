// The training step's kernels with their float settings read from memory: the host passes only
// integers (pointers, counts, codes) on every call of a step.
//
// Why: V8 boxes every float argument of a JS -> wasm call it does not inline, and it stops
// inlining a call site once that site has seen two instances' functions (two live models in one
// realm), so each float argument became a heap allocation per step. Here a setting is an f32 at
// an address the host wrote once (rate, epsilon, momentum). Each wrapper only loads its settings
// and calls the kernel it names, so it computes exactly what that kernel does (tested bit for bit
// in test/step.test.ts). The mixture kernels need no wrapper: they read their floats (sigma floor,
// 1 / n) from the head's settings block in training and inference alike (mixture.ts).

import { act_dropout_forward } from "./dropout";
import { batchnorm_backward, batchnorm_forward_train, batchnorm_update_moving } from "./batchnorm";

/** act_dropout_forward with rate = f32 at rateAt. */
export function act_dropout_forward_at(out: usize, deriv: usize, inp: usize, n: i32, act: i32, rateAt: usize, state: usize): void {
  act_dropout_forward(out, deriv, inp, n, act, load<f32>(rateAt), state);
}

/** batchnorm_forward_train with eps = f32 at epsAt. */
export function batchnorm_forward_train_at(out: usize, mean: usize, vari: usize, inp: usize, gamma: usize, beta: usize, N: i32, C: i32, epsAt: usize): void {
  batchnorm_forward_train(out, mean, vari, inp, gamma, beta, N, C, load<f32>(epsAt));
}

/** batchnorm_backward with eps = f32 at epsAt. */
export function batchnorm_backward_at(
  dinp: usize, dgamma: usize, dbeta: usize, work: usize,
  dout: usize, inp: usize, mean: usize, vari: usize, gamma: usize, deriv: usize,
  N: i32, C: i32, epsAt: usize,
): void {
  batchnorm_backward(dinp, dgamma, dbeta, work, dout, inp, mean, vari, gamma, deriv, N, C, load<f32>(epsAt));
}

/** batchnorm_update_moving with momentum = f32 at momentumAt. */
export function batchnorm_update_moving_at(movingMean: usize, movingVar: usize, mean: usize, vari: usize, C: i32, momentumAt: usize): void {
  batchnorm_update_moving(movingMean, movingVar, mean, vari, C, load<f32>(momentumAt));
}
