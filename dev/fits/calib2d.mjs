// Point 2 on 2-D targets (model.calibration is 1-D only): the correlated set of test/bishop.test.ts
// (y = 0.3 (x + e1, x + 0.9 e1 + 0.436 e2)), diagonal and full covariance, K = 2, hidden [16],
// Adam 5e-3, batch 64. Held-out NLL before / after model.recalibrate on a calibration draw, and
// the coverage of highest-density regions at 50/80/95% (per row, the density threshold is the
// (1 - level) quantile of log p over 400 draws from the row's mixture, host Monte Carlo).
//   TRAIN=2000 EPOCHS=40 node dev/fits/calib2d.mjs
import { MDN, mean, spread } from "./common.mjs";
import { corr2d } from "./data.mjs";
import { dataRng } from "../../dist/index.js";

const FROM = Number(process.env.FROM ?? 700), DRAWS = Number(process.env.DRAWS ?? 6);
const TRAIN = Number(process.env.TRAIN ?? 2000), EPOCHS = Number(process.env.EPOCHS ?? 40);
const LEVELS = [0.5, 0.8, 0.95];

/** Float64 mixture per row from predict(): logPi (N, K), mu (N, K, D), packed L (N, K, T). */
function mixtureFrom(model, x) {
  const p = model.predict(x);
  const { components: K, outputDim: D, covariance } = model.config;
  const N = p.pi.length / K;
  const T = (D * (D + 1)) / 2;
  const L = new Float64Array(N * K * T);
  for (let nk = 0; nk < N * K; nk++) {
    for (let i = 0; i < D; i++) {
      if (covariance === "diagonal") L[nk * T + (i * (i + 1)) / 2 + i] = p.sigma[nk * D + i];
      else for (let j = 0; j <= i; j++) L[nk * T + (i * (i + 1)) / 2 + j] = p.sigma[(nk * D + i) * D + j];
    }
  }
  return { N, K, D, logPi: Float64Array.from(p.pi, Math.log), mu: Float64Array.from(p.mu), L };
}

function logp(m, n, y, s = 1, t = 1) {
  const { K, D } = m;
  const T = (D * (D + 1)) / 2;
  const lp = [];
  for (let k = 0; k < K; k++) lp.push(m.logPi[n * K + k] / t);
  const mx = Math.max(...lp);
  const lz = mx + Math.log(lp.reduce((a, v) => a + Math.exp(v - mx), 0));
  const l = [];
  for (let k = 0; k < K; k++) {
    const o = (n * K + k) * T;
    const r = [];
    let q = 0, ld = 0;
    for (let i = 0; i < D; i++) {
      let v = y[i] - m.mu[(n * K + k) * D + i];
      for (let j = 0; j < i; j++) v -= s * m.L[o + (i * (i + 1)) / 2 + j] * r[j];
      const lii = s * m.L[o + (i * (i + 1)) / 2 + i];
      r[i] = v / lii;
      q += r[i] * r[i];
      ld += Math.log(lii);
    }
    l.push(lp[k] - lz - ld - (D / 2) * Math.log(2 * Math.PI) - q / 2);
  }
  const M = Math.max(...l);
  return M + Math.log(l.reduce((a, v) => a + Math.exp(v - M), 0));
}

function hpdCoverage(m, y, seed, s = 1, t = 1) {
  const { uniform: r, normal: g } = dataRng(seed);
  const { N, K, D } = m;
  const T = (D * (D + 1)) / 2;
  const inside = LEVELS.map(() => 0);
  for (let n = 0; n < N; n++) {
    const w = [];
    for (let k = 0; k < K; k++) w.push(Math.exp(m.logPi[n * K + k] / t));
    const Z = w.reduce((a, b) => a + b, 0);
    const ls = [];
    for (let j = 0; j < 400; j++) {
      let u = r() * Z, k = 0;
      while (k < K - 1 && (u -= w[k]) > 0) k++;
      const e = Array.from({ length: D }, g);
      const o = (n * K + k) * T;
      const smp = [];
      for (let i = 0; i < D; i++) {
        let v = m.mu[(n * K + k) * D + i];
        for (let jj = 0; jj <= i; jj++) v += s * m.L[o + (i * (i + 1)) / 2 + jj] * e[jj];
        smp.push(v);
      }
      ls.push(logp(m, n, smp, s, t));
    }
    ls.sort((a, b) => a - b);
    const ly = logp(m, n, Array.from({ length: D }, (_, i) => y[n * D + i]), s, t);
    LEVELS.forEach((lv, i) => { if (ly >= ls[Math.floor((1 - lv) * ls.length)]) inside[i]++; });
  }
  return inside.map((c) => c / N);
}

for (const covariance of ["diagonal", "full"]) {
  const res = { before: [], s: [], "s+T": [] }, nll = { before: [], s: [], "s+T": [] }, par = { s: [], t: [] };
  for (let i = 0; i < DRAWS; i++) {
    const train = corr2d(FROM + 3 * i, TRAIN), cal = corr2d(FROM + 3 * i + 1, 1000), ev = corr2d(FROM + 3 * i + 2, 2000);
    const model = await MDN.create({ inputDim: 1, outputDim: 2, components: 2, hidden: [16], covariance, seed: FROM + 1000 + i });
    await model.fit(train.x, train.y, { epochs: EPOCHS, batchSize: 64, optimizer: { learningRate: 5e-3 } });
    const bytes = model.save();
    for (const [k, temperature] of [["before", null], ["s", false], ["s+T", true]]) {
      const m = await MDN.load(bytes);
      if (temperature !== null) {
        const r = m.recalibrate(cal.x, cal.y, { temperature });
        if (temperature) { par.s.push(r.scale); par.t.push(r.temperature); }
      }
      nll[k].push(m.evaluate(ev.x, ev.y));
      res[k].push(hpdCoverage(mixtureFrom(m, ev.x), ev.y.data, 99 + i));
      m.dispose();
    }
    model.dispose();
  }
  console.log(`corr2d ${covariance}: ${TRAIN} train rows, ${EPOCHS} epochs, ${DRAWS} draws from ${FROM}; fitted s ${spread(par.s)} T ${spread(par.t)}`);
  for (const k of Object.keys(res)) {
    const cov = LEVELS.map((lv, j) => `${lv}: ${mean(res[k].map((x) => x[j])).toFixed(3)} (${Math.min(...res[k].map((x) => x[j])).toFixed(3)}-${Math.max(...res[k].map((x) => x[j])).toFixed(3)})`).join(", ");
    const d = nll[k].map((v, i) => v - nll.before[i]);
    console.log(`  ${k.padEnd(6)} eval NLL ${spread(nll[k])} change ${spread(d, 4)} | HPD coverage ${cov}`);
  }
}
