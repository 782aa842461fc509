// Point 5: how often the training and validation losses jump (by more than 1 nat from one epoch
// to the next, in the second half of training), by variant, over data seeds; plus held-out NLL
// and test ARI. Variants: the notebook; "full": 384 training rows (3 full batches of 128, the
// same 103 validation rows) to remove the 25-row last batch; and JSON: { trainRows, fit, config,
// clipNorm (optimizer.clipNorm), autoClip (a dev hook, below) }. Paired against the first variant.
//   FROM=3000 N=20 node dev/fits/spike-count.mjs notebook full 'clip:{"clipNorm":300}' 'even:{"fit":{"evenBatches":true}}'
import { adjustedRandScore, argmaxRows, MDN, NOTEBOOK_FIT, NOTEBOOK_HIDDEN, seedClusters, spread } from "./common.mjs";

const SEEDS = Array.from({ length: Number(process.env.N ?? 20) }, (_, i) => Number(process.env.FROM ?? 3000) + i);

/**
 * Adaptive clipping (dev only): clip the global norm at `factor` times an exponential moving
 * average (rate 1 - beta) of the clipped norms seen so far; the first step is not clipped.
 */
export function hookAutoClip(model, factor, beta = 0.98) {
  const net = model.net;
  const orig = net.backward.bind(net);
  let ema = 0, t = 0;
  net.backward = (s, m, head) => {
    orig(s, m, head);
    const n = net.paramBytes >> 2;
    const g0 = net.grad(net.params);
    let norm = Math.sqrt(net.k.sum_squares(g0, n));
    t++;
    if (t > 1 && norm > factor * ema / (1 - beta ** (t - 1))) {
      const c = factor * ema / (1 - beta ** (t - 1));
      const g = new Float32Array(net.k.memory.buffer, g0, n);
      const f = Math.fround(c / norm);
      for (let i = 0; i < n; i++) g[i] = Math.fround(g[i] * f);
      norm = c;
    }
    ema = beta * ema + (1 - beta) * norm;
  };
}

export async function run(seed, { trainRows = 409, fit = {}, config = {}, clipNorm = 0, autoClip = 0 } = {}) {
  const d = seedClusters(1024, seed);
  const sub = (a, from, to) => ({ data: a.subarray(2 * from, 2 * to), shape: [to - from, 2] });
  const model = await MDN.create({ inputDim: 2, outputDim: 2, components: 4, hidden: NOTEBOOK_HIDDEN, sigma: { activation: "exp" }, seed, ...config });
  if (autoClip) hookAutoClip(model, autoClip);
  try {
    const { validationSplit, ...rest } = NOTEBOOK_FIT;
    // clipNorm: the library's optimizer.clipNorm (Keras global_clipnorm) on the notebook's Adam.
    const optimizer = { ...rest.optimizer, ...(clipNorm ? { clipNorm } : {}) };
    const history = await model.fit(sub(d.x, 0, trainRows), sub(d.y, 0, trainRows), { ...rest, optimizer, validationData: [sub(d.x, 409, 512), sub(d.y, 409, 512)], ...fit });
    const p = model.predict(sub(d.x, 512, 1024));
    const ari = adjustedRandScore(d.z.subarray(512), argmaxRows(p.pi, 512, 4));
    const testNll = model.evaluate(sub(d.x, 512, 1024), sub(d.y, 512, 1024));
    return { history, ari, testNll };
  } finally {
    model.dispose();
  }
}

export function jumps(series, from = 0, by = 1) {
  let c = 0;
  for (let e = Math.max(1, from); e < series.length; e++) if (series[e] - series[e - 1] > by) c++;
  return c;
}
/** Mean absolute epoch-to-epoch change of the second half: a roughness measure. */
export function roughness(series) {
  const h = Math.floor(series.length / 2);
  let s = 0;
  for (let e = h + 1; e < series.length; e++) s += Math.abs(series[e] - series[e - 1]);
  return s / Math.max(1, series.length - h - 1);
}

const VARIANTS = { notebook: {}, full: { trainRows: 384 } };
if (import.meta.url === `file://${process.argv[1]}`) {
  let base = null;
  for (const arg of process.argv.slice(2)) {
    const [name, json] = arg.includes(":") ? [arg.slice(0, arg.indexOf(":")), arg.slice(arg.indexOf(":") + 1)] : [arg, null];
    const v = json ? JSON.parse(json) : VARIANTS[name];
    const rs = [];
    for (const s of SEEDS) rs.push(await run(s, v));
    const L = rs.map((r) => r.history.history.loss), VL = rs.map((r) => r.history.history.val_loss);
    if (!base) base = rs;
    const dN = rs.map((r, i) => r.testNll - base[i].testNll), dA = rs.map((r, i) => r.ari - base[i].ari);
    console.log(`${name.padEnd(10)} vs first: test NLL diff mean ${(dN.reduce((a, b) => a + b) / dN.length).toFixed(3)} median ${spread(dN, 2)}; ARI diff mean ${(dA.reduce((a, b) => a + b) / dA.length).toFixed(4)} median ${spread(dA)}`);
    console.log(`${name.padEnd(10)} loss jumps>1 ${spread(L.map((l) => jumps(l, 64)), 0)} | val jumps>1 ${spread(VL.map((l) => jumps(l, 64)), 0)} | val roughness ${spread(VL.map(roughness), 2)} | final val ${spread(VL.map((l) => l.at(-1)), 2)} | test NLL ${spread(rs.map((r) => r.testNll), 2)} | ARI ${spread(rs.map((r) => r.ari))}`);
  }
}
