// The step kernels with float settings in memory (assembly/step.ts) against the kernels they wrap,
// called with the same settings as arguments: bit for bit, at sizes below, at and past 4 lanes.
import { beforeAll, describe, expect, it } from "vitest";
import type { TestKernels, Ptr } from "../src/engine/kernels.js";
import { ACT_RELU, ACT_TANH, DROPOUT_WORK_BYTES, LAYER_EPSILON, LAYER_MOMENTUM, LAYER_RATE } from "../src/engine/kernels.js";
import { Heap, loadKernels, testRng, uniform } from "./util.js";

let k: TestKernels;
beforeAll(async () => {
  k = await loadKernels();
});

/** Run `call` on fresh copies of `inputs` (same values each time); return every buffer after it. */
function runOn(inputs: Float64Array[], call: (h: Heap, p: Ptr[]) => void): number[][] {
  const h = new Heap(k);
  const p = inputs.map((x) => h.put(x));
  call(h, p);
  return p.map((q, i) => Array.from(h.f32(q, inputs[i]!.length)));
}

const RATE = 0.2, EPS = 1e-3, MOMENTUM = 0.99;

/** A layer settings block (LAYER_*) holding RATE, EPS and MOMENTUM. */
function layerBlock(h: Heap): Ptr {
  const ls = h.alloc(4);
  const f32 = h.f32(ls, 4);
  f32[LAYER_RATE / 4] = RATE;
  f32[LAYER_EPSILON / 4] = EPS;
  f32[LAYER_MOMENTUM / 4] = MOMENTUM;
  return ls;
}

describe("step kernels read their float settings from memory", () => {
  for (const n of [1, 3, 4, 5, 33]) {
    it(`act_dropout_forward_at = act_dropout_forward, n = ${n} (relu and tanh)`, () => {
      for (const act of [ACT_RELU, ACT_TANH]) {
        const rng = testRng(n + act);
        const inputs = [new Float64Array(n), new Float64Array(n), uniform(rng, n, -2, 2), new Float64Array([1, 2, 3, 4])];
        const a = runOn(inputs, (h, [o, d, x, s]) => k.act_dropout_forward_at(o!, d!, x!, n, act, layerBlock(h), s!, h.alloc(DROPOUT_WORK_BYTES / 4)));
        const b = runOn(inputs, (h, [o, d, x, s]) => k.act_dropout_forward(o!, d!, x!, n, act, RATE, s!, h.alloc(DROPOUT_WORK_BYTES / 4)));
        expect(a).toEqual(b);
      }
    });

    it(`batch norm's forward (training and inference), backward and moving-statistics update at N = ${n}, C = ${n + 2}`, () => {
      const N = n, C = n + 2;
      const rng = testRng(40 + n);
      const bufs = () => [
        new Float64Array(N * C), new Float64Array(C), new Float64Array(C), uniform(rng, N * C, -2, 2), uniform(rng, C, 0.5, 1.5), uniform(rng, C),
      ];
      const fwd = bufs();
      const a = runOn(fwd, (h, [o, m, v, x, g, b]) => k.batchnorm_forward_train_at(o!, m!, v!, x!, g!, b!, N, C, layerBlock(h)));
      const b = runOn(fwd, (_h, [o, m, v, x, g, b2]) => k.batchnorm_forward_train(o!, m!, v!, x!, g!, b2!, N, C, EPS));
      expect(a).toEqual(b);
      const inf = [new Float64Array(N * C), uniform(rng, N * C, -2, 2), uniform(rng, C, 0.5, 1.5), uniform(rng, C), uniform(rng, C), uniform(rng, C, 0.5, 2)];
      const ia = runOn(inf, (h, [o, x, g, b2, mm, mv]) => k.batchnorm_forward_infer_at(o!, x!, g!, b2!, mm!, mv!, N, C, layerBlock(h)));
      const ib = runOn(inf, (_h, [o, x, g, b2, mm, mv]) => k.batchnorm_forward_infer(o!, x!, g!, b2!, mm!, mv!, N, C, EPS));
      expect(ia).toEqual(ib);
      const [, mean, vari, x, gamma] = a.map((r) => Float64Array.from(r));
      const back = [new Float64Array(N * C), new Float64Array(C), new Float64Array(C), new Float64Array(3 * C), uniform(rng, N * C), x!, mean!, vari!, gamma!, uniform(rng, N * C, 0, 1.25)];
      const c = runOn(back, (h, p) => k.batchnorm_backward_at(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, p[8]!, p[9]!, N, C, layerBlock(h)));
      const d = runOn(back, (_h, p) => k.batchnorm_backward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, p[8]!, p[9]!, N, C, EPS));
      expect(c).toEqual(d);
      const mov = [uniform(rng, C), uniform(rng, C, 0.5, 2), mean!, vari!];
      const e = runOn(mov, (h, [mm, mv, m, v]) => k.batchnorm_update_moving_at(mm!, mv!, m!, v!, C, layerBlock(h)));
      const f = runOn(mov, (_h, [mm, mv, m, v]) => k.batchnorm_update_moving(mm!, mv!, m!, v!, C, MOMENTUM));
      expect(e).toEqual(f);
    });
  }
});
