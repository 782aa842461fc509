// Point 5: the spikes over several seeds, summarised from traceRun (spikes.mjs). For every epoch
// e >= 32 whose training loss rises by more than 1 nat: which batch of epoch e - 1 had the largest
// gradient norm (batch 3 is the 25-row remainder of 409 rows), how large against the run's median,
// and where the rise comes from: rows whose responsible component's mean is far from y
// (|y - mu| > 0.5: the right component lost the row) or rows with the right mean but a large
// z = |y - mu|^2 / sigma^2 (precision).
//   FROM=3000 N=10 node dev/fits/spike-summary.mjs
import { traceRun } from "./spikes.mjs";
import { median, spread } from "./common.mjs";

const SEEDS = Array.from({ length: Number(process.env.N ?? 10) }, (_, i) => Number(process.env.FROM ?? 3000) + i);
const byBatch = [[], [], [], []];
const argmaxBatch = [0, 0, 0, 0];
const ratios = [], nextUpd = [], updRatios = [], vRatios = [], farShare = [], sigmaMin = [], floorRows = [];
let spikes = 0;
for (const seed of SEEDS) {
  const { history, trace } = await traceRun(seed);
  const L = history.history.loss;
  const B = 4;
  const late = trace.slice(32 * B);
  late.forEach((t, i) => byBatch[(i + 32 * B) % B].push(t.grad.all));
  const med = median(late.map((t) => t.grad.all));
  const medU = median(late.map((t) => t.update));
  const medV = median(late.map((t) => t.sqrtVmax));
  for (const t of late) {
    sigmaMin.push(t.sigmaMin);
    floorRows.push(t.rows.filter((r) => r.sigma <= 1.0001e-4).length / t.rows.length);
  }
  for (let e = 32; e < L.length; e++) {
    if (L[e] - L[e - 1] <= 1) continue;
    spikes++;
    const prev = trace.slice((e - 1) * B, e * B);
    let b = 0;
    prev.forEach((t, i) => t.grad.all > prev[b].grad.all && (b = i));
    argmaxBatch[b]++;
    ratios.push(prev[b].grad.all / med);
    updRatios.push(prev[b].update / medU);
    // The 4 steps after it: Adam's first moment still carries that gradient (beta1 0.9).
    const after = trace.slice((e - 1) * B + b + 1, (e - 1) * B + b + 5);
    nextUpd.push(after.reduce((a, t) => a + t.update, 0) / after.length / medU);
    vRatios.push(prev[b].sqrtVmax / medV);
    // Excess nll of epoch e over e - 1, split by row kind.
    const sum = (ts, f) => ts.reduce((a, t) => a + t.rows.filter(f).reduce((c, r) => c + r.nll, 0), 0);
    const cur = trace.slice(e * B, (e + 1) * B);
    const far = (r) => r.dy > 0.5;
    const near = (r) => r.dy <= 0.5;
    const dFar = sum(cur, far) - sum(prev, far), dNear = sum(cur, near) - sum(prev, near);
    farShare.push(dFar / (dFar + dNear));
  }
}
console.log(`seeds ${SEEDS[0]}-${SEEDS.at(-1)}: ${spikes} loss rises > 1 nat after epoch 32`);
console.log(`  batch of the previous epoch with the largest gradient norm: ${argmaxBatch.map((c, b) => `b${b}: ${c}`).join(", ")} (b3 = the 25-row last batch)`);
console.log(`  that norm / the run's median norm (epochs >= 32): ${spread(ratios, 1)}`);
console.log(`  that step's Adam update norm / the run's median update: ${spread(updRatios, 1)}; largest sqrt(v) after it / median: ${spread(vRatios, 1)}; mean update of the 4 steps after it / median: ${spread(nextUpd, 1)}`);
console.log(`  gradient norm by batch index, epochs >= 32: ${byBatch.map((g, b) => `b${b} ${spread(g, 0)}`).join("; ")}`);
console.log(`  share of the rise from rows whose responsible mean is > 0.5 from y: ${spread(farShare, 2)}`);
console.log(`  smallest sigma in a batch (epochs >= 32): ${spread(sigmaMin, 5)}; rows at the floor 1e-4: ${spread(floorRows, 3)}`);
