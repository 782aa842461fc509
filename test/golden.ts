// Fits and inference results whose bits must not change unless a commit says why: the guard for
// refactors that promise "no behaviour change" (the redesign, threads). Each case trains a small
// model from a fixed seed and hashes its weights and the outputs of every inference path.
// Regenerate test/fixtures/golden.json after a deliberate change with
// `MDN_GOLDEN_UPDATE=1 npx vitest run test/golden.test.ts --project node`.
import { MDN, type MDNConfig, seedClusters } from "../src/index.js";
import { hashWeights, regression } from "./util.js";

interface Case {
  name: string;
  config: MDNConfig;
  data: () => { x: Float32Array; y: Float32Array; I: number; D: number; n: number };
  fit: Record<string, unknown>;
}

function seedData() {
  const d = seedClusters(1024, 0);
  return { x: d.x.subarray(0, 1024), y: d.y.subarray(0, 1024), I: 2, D: 2, n: 512 };
}

function regressionData(n: number, seed: number) {
  const { x, y } = regression(n, seed);
  return { x: x.data, y: y.data, I: 2, D: 2, n };
}

/** Targets in D dimensions: a cluster centre tiled to D plus noise (the W3 shape, small). */
function tiledData(n: number, D: number) {
  const d = seedClusters(n, 3);
  const y = new Float32Array(n * D);
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) y[i * D + j] = d.y[i * 2 + (j % 2)]! + 0.1 * (u() - 0.5);
  return { x: d.x, y, I: 2, D, n };
}

const hidden = (units: number, dropout: number, batchNorm: boolean, activation: "relu" | "tanh" | "linear" = "relu") => ({ units, dropout, batchNorm, activation });

export const CASES: Case[] = [
  {
    name: "seed task, isotropic exp",
    config: { inputDim: 2, outputDim: 2, components: 4, hidden: [hidden(32, 0.2, true), hidden(32, 0.2, true)], seed: 0 },
    data: seedData,
    fit: { epochs: 40, batchSize: 128, validationSplit: 0.2, optimizer: { learningRate: 1e-3, epsilon: 1e-8 }, earlyStopping: { minDelta: 0.1, patience: 32 } },
  },
  {
    name: "isotropic softplus tanh l2 normalize",
    config: { inputDim: 2, outputDim: 2, components: 3, hidden: [hidden(17, 0.1, false, "tanh"), hidden(5, 0, true)], sigma: { activation: "softplus", floor: 1e-3 }, l2: 1e-3, normalize: true, seed: 5 },
    data: () => regressionData(200, 1),
    fit: { epochs: 6, batchSize: 33, validationSplit: 0.1 },
  },
  {
    name: "diagonal exp normalize",
    config: { inputDim: 2, outputDim: 2, components: 5, covariance: "diagonal", hidden: [hidden(24, 0.2, true), hidden(8, 0, false, "linear")], normalize: true, seed: 7 },
    data: () => regressionData(300, 2),
    fit: { epochs: 6, batchSize: 64, earlyStopping: { monitor: "loss", patience: 2, restoreBestWeights: true } },
  },
  {
    name: "full D=3",
    config: { inputDim: 2, outputDim: 3, components: 3, covariance: "full", hidden: [hidden(12, 0, true)], seed: 9 },
    data: () => tiledData(256, 3),
    fit: { epochs: 6, batchSize: 50 },
  },
  {
    name: "full D=2 softplus normalize",
    config: { inputDim: 2, outputDim: 2, components: 2, covariance: "full", hidden: [hidden(9, 0.3, false)], sigma: { activation: "softplus" }, normalize: true, seed: 11 },
    data: () => regressionData(150, 3),
    fit: { epochs: 5, batchSize: 16 },
  },
  {
    name: "W3-like K=16 D=16",
    config: { inputDim: 2, outputDim: 16, components: 16, hidden: [hidden(32, 0.2, true), hidden(32, 0.2, true)], seed: 13 },
    data: () => tiledData(512, 16),
    fit: { epochs: 4, batchSize: 128 },
  },
];

const hashOf = (...arrays: ArrayLike<number>[]) => hashWeights(arrays.map((a) => ({ data: Float32Array.from(a) })));

/** Weights after the fit, and the bits of each inference path on 37 rows. */
export async function goldenRun(c: Case, module?: WebAssembly.Module): Promise<Record<string, string>> {
  const d = c.data();
  const model = await MDN.create(c.config, module ? { module } : {});
  const x = { data: d.x.subarray(0, d.n * d.I), shape: [d.n, d.I] };
  const y = { data: d.y.subarray(0, d.n * d.D), shape: [d.n, d.D] };
  const h = await model.fit(x, y, c.fit);
  const m = 37;
  const xt = { data: d.x.subarray(0, m * d.I), shape: [m, d.I] };
  const yt = { data: d.y.subarray(0, m * d.D), shape: [m, d.D] };
  const p = model.predict(xt);
  const s = model.sample(xt, { n: 3, seed: 1 });
  const out = {
    weights: hashWeights(model.getWeights()),
    losses: hashOf(h.history.loss, h.history.val_loss ?? []),
    predict: hashOf(p.pi, p.mu, p.sigma),
    logProb: hashOf(model.logProb(xt, yt), [model.evaluate(xt, yt)]),
    responsibilities: hashOf(model.responsibilities(xt, yt)),
    mean: hashOf(model.mean(xt), model.covariance(xt)),
    sample: hashOf(s.samples, s.components),
  };
  model.dispose();
  return out;
}
