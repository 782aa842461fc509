// Point 5 beyond the seed task: do the spike remedies keep or improve held-out NLL elsewhere?
// For a problem of data.mjs: fixed epochs, validationSplit 0.2 (validation loss every epoch, for
// the roughness), no early stopping; held-out NLL on a separate draw; paired against the first
// variant. Variants are JSON: { clipNorm (optimizer.clipNorm), autoClip (a hook, spike-count.mjs), fit, config }.
//   node dev/fits/remedies.mjs problem epochs draws 'base:{}' 'clip:{"clipNorm":10}'
import { MDN, mean, spread } from "./common.mjs";
import { PROBLEMS } from "./data.mjs";
import { hookAutoClip, jumps, roughness } from "./spike-count.mjs";

const [name, epochs, draws, ...variants] = process.argv.slice(2);
const P = PROBLEMS[name];
const FROM = Number(process.env.FROM ?? 800);
let base = null;
for (const arg of variants) {
  const i = arg.indexOf(":");
  const label = arg.slice(0, i), v = JSON.parse(arg.slice(i + 1));
  const nll = [], rough = [], vj = [], norms = [];
  for (let d = 0; d < Number(draws); d++) {
    const seed = FROM + d;
    const train = P.make(2 * seed, P.trainRows), test = P.make(2 * seed + 1, P.testRows);
    const model = await MDN.create({ ...P.config, ...(v.config ?? {}), seed });
    if (v.autoClip) hookAutoClip(model, v.autoClip);
    if (v.logNorms) {
      const net = model.net, orig = net.backward.bind(net), ns = [];
      net.backward = (s, m, h) => { orig(s, m, h); ns.push(Math.sqrt(net.k.sum_squares(net.grad(net.params), net.paramBytes >> 2))); };
      norms.push(ns);
    }
    const optimizer = { ...(P.fit.optimizer ?? {}), ...(v.clipNorm ? { clipNorm: v.clipNorm } : {}) };
    const h = await model.fit(train.x, train.y, { ...P.fit, optimizer, epochs: Number(epochs), validationSplit: 0.2, ...(v.fit ?? {}) });
    nll.push(model.evaluate(test.x, test.y));
    rough.push(roughness(h.history.val_loss));
    vj.push(jumps(h.history.val_loss, Math.floor(Number(epochs) / 2), 0.5));
    model.dispose();
  }
  base ??= nll;
  const dd = nll.map((x, j) => x - base[j]);
  console.log(`${name} ${label.padEnd(10)} held-out NLL ${spread(nll)} minus first: mean ${mean(dd).toFixed(3)} ${spread(dd)} | val roughness ${spread(rough, 3)} | val jumps>0.5 (2nd half) ${spread(vj, 0)}`);
  if (norms.length) {
    const all = norms.flat();
    const q = (a, p) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))];
    const late = norms.flatMap((ns) => ns.slice(ns.length >> 1));
    console.log(`   grad norm all steps: median ${q(all, 0.5).toFixed(3)} p90 ${q(all, 0.9).toFixed(3)} max ${Math.max(...all).toFixed(1)}; second half median ${q(late, 0.5).toFixed(3)} p99 ${q(late, 0.99).toFixed(3)}`);
  }
}
