// The kernels whose float settings come from a layer block (settings.ts LAYER_*): the host passes
// only integers (pointers, counts, codes), in training and inference alike. Each wrapper loads its
// settings and calls the kernel it names, so it computes exactly what that kernel does (tested bit
// for bit in test/step.test.ts). The mixture kernels read theirs from the head's block (lanes.ts),
// Adam and clipping from the optimizer block (adam.ts, clip.ts).

import { act_dropout_forward } from "./dropout";
import { batchnorm_backward, batchnorm_forward_infer, batchnorm_forward_train, batchnorm_update_moving } from "./batchnorm";
import { LAYER_EPSILON, LAYER_MOMENTUM, LAYER_RATE } from "./settings";

/** act_dropout_forward with rate = ls's LAYER_RATE; work (DROPOUT_WORK_BYTES) its scratch. */
export function act_dropout_forward_at(out: usize, deriv: usize, inp: usize, n: i32, act: i32, ls: usize, state: usize, work: usize): void {
  act_dropout_forward(out, deriv, inp, n, act, load<f32>(ls, LAYER_RATE), state, work);
}

/** batchnorm_forward_train with eps = ls's LAYER_EPSILON. */
export function batchnorm_forward_train_at(out: usize, mean: usize, vari: usize, inp: usize, gamma: usize, beta: usize, N: i32, C: i32, ls: usize): void {
  batchnorm_forward_train(out, mean, vari, inp, gamma, beta, N, C, load<f32>(ls, LAYER_EPSILON));
}

/** batchnorm_forward_infer with eps = ls's LAYER_EPSILON. */
export function batchnorm_forward_infer_at(out: usize, inp: usize, gamma: usize, beta: usize, movingMean: usize, movingVar: usize, N: i32, C: i32, ls: usize): void {
  batchnorm_forward_infer(out, inp, gamma, beta, movingMean, movingVar, N, C, load<f32>(ls, LAYER_EPSILON));
}

/** batchnorm_backward with eps = ls's LAYER_EPSILON. */
export function batchnorm_backward_at(
  dinp: usize, dgamma: usize, dbeta: usize, work: usize,
  dout: usize, inp: usize, mean: usize, vari: usize, gamma: usize, deriv: usize,
  N: i32, C: i32, ls: usize,
): void {
  batchnorm_backward(dinp, dgamma, dbeta, work, dout, inp, mean, vari, gamma, deriv, N, C, load<f32>(ls, LAYER_EPSILON));
}

/** batchnorm_update_moving with momentum = ls's LAYER_MOMENTUM. */
export function batchnorm_update_moving_at(movingMean: usize, movingVar: usize, mean: usize, vari: usize, C: i32, ls: usize): void {
  batchnorm_update_moving(movingMean, movingVar, mean, vari, C, load<f32>(ls, LAYER_MOMENTUM));
}
