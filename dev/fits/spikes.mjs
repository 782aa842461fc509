// Point 5: why the seed demo's training loss jumps by 1-3 nats late in training. Trains the
// notebook's model with per-batch instrumentation (hooks on the network's trainLoss, backward and
// adamStep; dev only, the library is unchanged) and prints, around each epoch whose training loss
// rises by more than 1 nat: every batch's loss, its worst rows (cluster, nll, its share from
// -log pi and from the Gaussian, sigma of the responsible component, |y - mu|), the gradient norm
// by block and the Adam update's norm.
//   node dev/fits/spikes.mjs [seed ...]   (options as JSON in FIT='{"clipNorm":1}')
import { seedClusters, NOTEBOOK_FIT, NOTEBOOK_HIDDEN, MDN } from "./common.mjs";

const FLOOR = 1e-4;
const extraFit = JSON.parse(process.env.FIT ?? "{}");
const extraCfg = JSON.parse(process.env.CFG ?? "{}");

export async function traceRun(seed, { quiet = false } = {}) {
  const d = seedClusters(1024, seed);
  const n = 512;
  const key = (a, b) => `${a},${b}`;
  const rowOf = new Map();
  for (let r = 0; r < n; r++) rowOf.set(key(d.x[2 * r], d.x[2 * r + 1]), r);
  const model = await MDN.create({ inputDim: 2, outputDim: 2, components: 4, hidden: NOTEBOOK_HIDDEN, sigma: { activation: "exp" }, seed, ...extraCfg });
  const net = model.net;
  const K = 4, D = 2, P = net.P;
  const trace = [];
  let cur = null;
  const f32 = () => new Float32Array(net.k.memory.buffer);
  const origLoss = net.trainLoss.bind(net);
  net.trainLoss = (s, m) => {
    const loss = origLoss(s, m);
    const mem = f32();
    const rows = [];
    for (let i = 0; i < m; i++) {
      const x0 = mem[(s.x >> 2) + 2 * i], x1 = mem[(s.x >> 2) + 2 * i + 1];
      const a = (s.a >> 2) + i * P;
      const nll = mem[(s.nll >> 2) + i];
      let g = 0;
      for (let k = 1; k < K; k++) if (mem[(s.gamma >> 2) + i * K + k] > mem[(s.gamma >> 2) + i * K + g]) g = k;
      const logits = Array.from({ length: K }, (_, k) => mem[a + k]);
      const mx = Math.max(...logits);
      const lse = mx + Math.log(logits.reduce((t, l) => t + Math.exp(l - mx), 0));
      const sigma = Math.max(Math.exp(mem[a + K + K * D + g]), FLOOR);
      const dy = Math.hypot(mem[(s.y >> 2) + 2 * i] - mem[a + K + g * D], mem[(s.y >> 2) + 2 * i + 1] - mem[a + K + g * D + 1]);
      rows.push({ row: rowOf.get(key(x0, x1)), nll, comp: g, negLogPi: lse - logits[g], sigma, dy, z: (dy / sigma) ** 2 });
    }
    const sig = rows.map((r) => r.sigma).sort((p, q) => p - q);
    cur = { loss: loss / m, rows, sigmaMed: sig[m >> 1], sigmaMin: sig[0] };
    return loss;
  };
  const origBack = net.backward.bind(net);
  const pb = net.paramBytes;
  const headK = net.head.kernel, headB = net.head.bias;
  const H = headK.shape[0];
  net.backward = (s, m, head) => {
    origBack(s, m, head);
    const mem = f32();
    const g0 = (net.params + pb) >> 2;
    let all = 0;
    for (let i = 0; i < pb >> 2; i++) all += mem[g0 + i] ** 2;
    const blk = { pi: 0, mu: 0, sigma: 0 };
    const col = (c) => (c < K ? "pi" : c < K + K * D ? "mu" : "sigma");
    for (let h = 0; h <= H; h++) for (let c = 0; c < P; c++) {
      const gv = h < H ? mem[((headK.ptr + pb) >> 2) + h * P + c] : mem[((headB.ptr + pb) >> 2) + c];
      blk[col(c)] += gv * gv;
    }
    cur.grad = { all: Math.sqrt(all), pi: Math.sqrt(blk.pi), mu: Math.sqrt(blk.mu), sigma: Math.sqrt(blk.sigma), hidden: Math.sqrt(Math.max(0, all - blk.pi - blk.mu - blk.sigma)) };
    cur.before = mem.slice(net.params >> 2, (net.params + pb) >> 2);
  };
  const origAdam = net.adamStep.bind(net);
  net.adamStep = (o) => {
    const ok = origAdam(o);
    const mem = f32();
    let u = 0, vmax = 0;
    const w0 = net.params >> 2, v0 = (net.params + 3 * pb) >> 2;
    for (let i = 0; i < pb >> 2; i++) {
      u += (mem[w0 + i] - cur.before[i]) ** 2;
      vmax = Math.max(vmax, mem[v0 + i]);
    }
    cur.update = Math.sqrt(u);
    cur.sqrtVmax = Math.sqrt(vmax);
    delete cur.before;
    trace.push(cur);
    return ok;
  };
  const history = await model.fit({ data: d.x.subarray(0, 2 * n), shape: [n, 2] }, { data: d.y.subarray(0, 2 * n), shape: [n, 2] }, { ...NOTEBOOK_FIT, ...extraFit });
  model.dispose();
  return { history, trace, z: d.z };
}

function show(seed, { history, trace, z }) {
  const L = history.history.loss, V = history.history.val_loss;
  const B = trace.length / L.length;
  console.log(`seed ${seed}: ${L.length} epochs, ${B} batches each; final loss ${L.at(-1).toFixed(2)} val ${V.at(-1).toFixed(2)}`);
  for (let e = 1; e < L.length; e++) {
    if (L[e] - L[e - 1] <= 1) continue;
    console.log(`  epoch ${e}: loss ${L[e - 1].toFixed(2)} -> ${L[e].toFixed(2)}, val ${V[e - 1].toFixed(2)} -> ${V[e].toFixed(2)}`);
    for (let t = (e - 1) * B; t < (e + 1) * B; t++) {
      const b = trace[t];
      const worst = [...b.rows].sort((p, q) => q.nll - p.nll).slice(0, 3);
      const fmt = (r) => `row ${r.row} (cl ${z[r.row]}, comp ${r.comp}) nll ${r.nll.toFixed(1)} = -log pi ${r.negLogPi.toFixed(1)} + gauss; sigma ${r.sigma.toExponential(1)} |y-mu| ${r.dy.toExponential(1)} z ${r.z.toFixed(0)}`;
      console.log(`    step ${t} (ep ${Math.floor(t / B)} b ${t % B}): loss ${b.loss.toFixed(2)} sigma med ${b.sigmaMed.toExponential(1)} min ${b.sigmaMin.toExponential(1)} | grad ${b.grad.all.toExponential(1)} (hid ${b.grad.hidden.toExponential(1)} pi ${b.grad.pi.toExponential(1)} mu ${b.grad.mu.toExponential(1)} sig ${b.grad.sigma.toExponential(1)}) update ${b.update.toExponential(1)}`);
      for (const r of worst) console.log(`        ${fmt(r)}`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const s of process.argv.slice(2).map(Number)) show(s, await traceRun(s));
}
