// Whole-model gradient check: every parameter gradient the kernels produce (dropout off, batch norm
// in training mode) against central differences of the float64 reference model.
import { describe, it } from "vitest";
import { resolveConfig } from "../src/core/config.js";
import { ensureMemory, planActivations } from "../src/engine/arena.js";
import { Network } from "../src/engine/network.js";
import { referenceLoss } from "./reference/model.js";
import { centralDiff, expectClose, loadKernels, normal, testRng, uniform } from "./util.js";

const cases = [
  {
    name: "seed architecture without dropout (relu, batch norm, exp sigma)",
    config: { inputDim: 2, outputDim: 2, components: 4, hidden: [{ units: 5, batchNorm: true }, { units: 6, batchNorm: true }], seed: 1 },
    N: 7,
  },
  {
    name: "tanh and linear layers, softplus sigma, 3-D targets, odd sizes",
    config: { inputDim: 3, outputDim: 3, components: 3, hidden: [{ units: 5, activation: "tanh" }, { units: 3, activation: "linear", batchNorm: true }], sigma: { activation: "softplus" }, seed: 2 },
    N: 5,
  },
  {
    name: "no hidden layers",
    config: { inputDim: 4, outputDim: 1, components: 2, hidden: [], seed: 3 },
    N: 6,
  },
  {
    name: "diagonal covariance, softplus sigma, batch norm",
    config: { inputDim: 2, outputDim: 3, components: 3, hidden: [{ units: 5, batchNorm: true }], covariance: "diagonal", sigma: { activation: "softplus" }, seed: 4 },
    N: 6,
  },
  {
    name: "full covariance, 3-D targets",
    config: { inputDim: 2, outputDim: 3, components: 2, hidden: [{ units: 4, activation: "tanh" }], covariance: "full", seed: 5 },
    N: 5,
  },
] as const;

describe("whole-model gradients", () => {
  // The debug build asserts the pointer contract on every call, so running it here checks that
  // the host honours the contract (alignment, non-null buffers) across a whole training step.
  for (const build of ["release", "debug"] as const) for (const c of cases) {
    it(`${c.name} (${build} build)`, async () => {
      const k = await loadKernels(build);
      const cfg = resolveConfig(c.config);
      const net = new Network(k, cfg);
      net.initialize();
      const rng = testRng(11);
      // Perturb every trainable weight so biases, gammas and betas are not at their trivial inits.
      const trainable = net.tensors.filter((t) => t.trainable);
      for (const t of trainable) new Float32Array(k.memory.buffer, t.ptr, t.size).set(uniform(rng, t.size, -0.6, 0.6).map((v, i) => (t.name.endsWith("gamma") ? 1 + v : v)));
      const N = c.N;
      const x = normal(rng, N * cfg.inputDim);
      const y = normal(rng, N * cfg.outputDim, 0.5);
      const s = planActivations(net, net.fixedEnd, N, true);
      ensureMemory(k, s.end, "test");
      new Float32Array(k.memory.buffer, s.x, x.length).set(x);
      new Float32Array(k.memory.buffer, s.y, y.length).set(y);
      net.zeroGrads(s);
      net.forward(s, N, true);
      net.mixtureLoss(s, N);
      net.backward(s, N);

      const theta = new Float64Array(trainable.reduce((a, t) => a + t.size, 0));
      let off = 0;
      for (const t of trainable) {
        theta.set(new Float32Array(k.memory.buffer, t.ptr, t.size), off);
        off += t.size;
      }
      const slots = trainable.map((t) => ({ name: t.name, size: t.size }));
      const want = centralDiff((th) => referenceLoss(cfg, slots, th, x, y, N), theta, 1e-6);
      off = 0;
      for (const t of trainable) {
        const got = new Float32Array(k.memory.buffer, net.grad(t.ptr), t.size);
        // float32 kernels against float64 differences: relative 2e-3 plus a small absolute floor.
        expectClose(got, want.subarray(off, off + t.size), { atol: 2e-4, rtol: 2e-3 }, t.name);
        off += t.size;
      }
    });
  }
});
