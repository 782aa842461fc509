// Point 2: held-out coverage before and after model.recalibrate (src/mixture/recalibrate.ts), 1-D targets.
// Default: Bishop's inverse problem with the settings of test/bishop.test.ts (2,000 train rows,
// K = 5, tanh 32-32, 200 epochs, batch 64, Adam 5e-3). Draw i: train seed FROM + 3i, calibration
// FROM + 3i + 1 (CAL rows), evaluation FROM + 3i + 2 (2,000 rows), model seed FROM + 1000 + i.
// Rows: before; s (recalibrate with temperature false); s+T (recalibrate); quantile (Kuleshov et
// al. 2018: the evaluation PIT mapped through the empirical CDF of the calibration PIT; intervals
// only, not a density). Also checks that the fitted (s, T) is the only minimum along both axes.
//   FROM=500 DRAWS=8 CAL=1000 node dev/fits/calib.mjs
//   PROBLEM=hetero TRAIN=300 EPOCHS=1000 node dev/fits/calib.mjs
import { MDN, mean, spread } from "./common.mjs";
import { bishop, hetero } from "./data.mjs";

const FROM = Number(process.env.FROM ?? 500), DRAWS = Number(process.env.DRAWS ?? 8), CAL = Number(process.env.CAL ?? 1000);
const EPOCHS = Number(process.env.EPOCHS ?? 200);
// PROBLEM=hetero: the heteroscedastic set of data.mjs with TRAIN rows, K = 3, relu 32-32, Adam 1e-3, batch 32.
const PROBLEM = process.env.PROBLEM ?? "bishop", TRAIN = Number(process.env.TRAIN ?? 2000), K = Number(process.env.K ?? (PROBLEM === "bishop" ? 5 : 3));
const make = PROBLEM === "bishop" ? bishop : hetero;
const cfg = PROBLEM === "bishop"
  ? { hidden: [{ units: 32, activation: "tanh" }, { units: 32, activation: "tanh" }], fit: { batchSize: 64, optimizer: { learningRate: 5e-3 } } }
  : { hidden: [32, 32], fit: { batchSize: 32 } };
const LEVELS = [0.5, 0.8, 0.95];

const coverageOfPit = (pit) => LEVELS.map((l) => pit.filter((p) => p >= (1 - l) / 2 && p <= (1 + l) / 2).length / pit.length);
/** The empirical CDF of the calibration PIT values. */
function quantileMap(calPit) {
  const sorted = Float64Array.from(calPit).sort();
  return (p) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= p) lo = mid + 1;
      else hi = mid;
    }
    return lo / sorted.length;
  };
}

/** Mean NLL on (x, y) of a copy of `model` with (s, T) folded in by hand (isotropic, exp sigma). */
async function nllWith(bytes, s, T, x, y) {
  const m = await MDN.load(bytes);
  const P = K + K + K;
  m.setWeights(m.getWeights().map((w) => {
    if (w.name === "mixture/bias") return { ...w, data: w.data.map((v, i) => (i < K ? v / T : i >= 2 * K ? v + Math.log(s) : v)) };
    if (w.name === "mixture/kernel") return { ...w, data: w.data.map((v, i) => (i % P < K ? v / T : v)) };
    return w;
  }));
  const r = m.evaluate(x, y);
  m.dispose();
  return r;
}

/** Local minima of f on a grid of 41 points of log v over [-1, 1] around the fit (both ends count). */
async function minimaAlong(f) {
  const g = [];
  for (let i = 0; i <= 40; i++) g.push(await f(Math.exp(-1 + i / 20)));
  return g.filter((v, i) => (i === 0 || v < g[i - 1]) && (i === g.length - 1 || v < g[i + 1])).length;
}

const rows = { before: [], s: [], "s+T": [], quantile: [] };
const nll = { before: [], s: [], "s+T": [] };
const par = { s: [], "s+T.s": [], "s+T.T": [] };
let multi = 0;
for (let i = 0; i < DRAWS; i++) {
  const train = make(FROM + 3 * i, TRAIN), cal = make(FROM + 3 * i + 1, CAL), ev = make(FROM + 3 * i + 2, 2000);
  const model = await MDN.create({ inputDim: 1, outputDim: 1, components: K, hidden: cfg.hidden, seed: FROM + 1000 + i });
  await model.fit(train.x, train.y, { epochs: EPOCHS, ...cfg.fit });
  const bytes = model.save();
  const calPit = model.calibration(cal.x, cal.y).pit;
  const evPit = model.calibration(ev.x, ev.y).pit;
  rows.before.push(coverageOfPit(Array.from(evPit)));
  nll.before.push(model.evaluate(ev.x, ev.y));
  const R = quantileMap(calPit);
  rows.quantile.push(coverageOfPit(Array.from(evPit, R)));
  for (const [k, temperature] of [["s", false], ["s+T", true]]) {
    const m = await MDN.load(bytes);
    const r = m.recalibrate(cal.x, cal.y, { temperature });
    rows[k].push(m.calibration(ev.x, ev.y).coverage.map((c) => c.observed));
    nll[k].push(m.evaluate(ev.x, ev.y));
    if (temperature) {
      par["s+T.s"].push(r.scale);
      par["s+T.T"].push(r.temperature);
      const alongS = await minimaAlong((v) => nllWith(bytes, r.scale * v, r.temperature, cal.x, cal.y));
      const alongT = await minimaAlong((v) => nllWith(bytes, r.scale, r.temperature * v, cal.x, cal.y));
      if (alongS !== 1 || alongT !== 1) multi++;
    } else par.s.push(r.scale);
    m.dispose();
  }
  model.dispose();
}
console.log(`${PROBLEM} (${TRAIN} train rows, K ${K}, ${EPOCHS} epochs), ${DRAWS} draws (seeds from ${FROM}), calibration rows ${CAL}, evaluation rows 2000`);
for (const [k, r] of Object.entries(rows)) {
  const cols = LEVELS.map((l, j) => `${l}: ${mean(r.map((x) => x[j])).toFixed(3)} (${Math.min(...r.map((x) => x[j])).toFixed(3)}-${Math.max(...r.map((x) => x[j])).toFixed(3)})`);
  const worst = Math.max(...LEVELS.map((l, j) => Math.abs(mean(r.map((x) => x[j])) - l)));
  console.log(`  ${k.padEnd(8)} coverage mean (min-max): ${cols.join(", ")}; worst |mean - nominal| ${worst.toFixed(3)}${nll[k] ? `; eval NLL ${spread(nll[k])}` : ""}`);
}
console.log(`  fitted: s alone ${spread(par.s)}; with T: s ${spread(par["s+T.s"])}, T ${spread(par["s+T.T"])}`);
console.log(`  eval NLL change: s ${spread(nll.s.map((v, i) => v - nll.before[i]), 4)}; s+T ${spread(nll["s+T"].map((v, i) => v - nll.before[i]), 4)}`);
console.log(`  draws where the calibration NLL had another local minimum along s or T (41-point grids, x e^[-1, 1]): ${multi} of ${DRAWS}`);
