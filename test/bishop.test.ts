// End to end on two learning problems (src/mixture/density.ts on trained models):
// - Bishop's inverse problem (PRML, 2006, section 5.6): t ~ U(0, 1), x = t + 0.3 sin(2 pi t) +
//   U(-0.1, 0.1); learning t given x is multi-valued (three branches for x in about (0.35, 0.65)).
// - Correlated 2-D targets: full covariance must beat diagonal on held-out NLL.

import { describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { wasmModule } from "./models.js";
import { normal, testRng } from "./util.js";


/** Every t in [0, 1] with t + 0.3 sin(2 pi t) = x (bisection on a fine bracket grid). */
function branches(x: number): number[] {
  const f = (t: number) => t + 0.3 * Math.sin(2 * Math.PI * t) - x;
  const out: number[] = [];
  const G = 2000;
  for (let i = 0; i < G; i++) {
    let lo = i / G, hi = (i + 1) / G;
    if (f(lo) === 0) out.push(lo);
    if (f(lo) * f(hi) >= 0) continue;
    for (let it = 0; it < 60; it++) {
      const mid = (lo + hi) / 2;
      if (f(lo) * f(mid) <= 0) hi = mid;
      else lo = mid;
    }
    out.push((lo + hi) / 2);
  }
  return out;
}

function bishopData(seed: number, N: number): { x: Float32Array; t: Float32Array } {
  const rng = testRng(seed);
  const x = new Float32Array(N);
  const t = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    t[i] = rng();
    x[i] = t[i]! + 0.3 * Math.sin(2 * Math.PI * t[i]!) + (rng() * 0.2 - 0.1);
  }
  return { x, t };
}

describe("Bishop's inverse problem", () => {
  it("modes(0.5) finds the three branches and the mode curve tracks every branch; held-out calibration", async () => {
    const N = 2000;
    const train = bishopData(1, N);
    const model = await MDN.create({ inputDim: 1, outputDim: 1, components: 5, hidden: [{ units: 32, activation: "tanh" }, { units: 32, activation: "tanh" }], seed: 2 }, { module: wasmModule });
    await model.fit({ data: train.x, shape: [N, 1] }, { data: train.t, shape: [N, 1] }, { epochs: 200, batchSize: 64, optimizer: { learningRate: 5e-3 } });

    // A mode counts when its density is at least 20% of the row's highest mode: a component's
    // tail can leave a low bump that is a mode of the function but not a branch.
    const significant = (r: { points: Float64Array; density: Float64Array }) => Array.from(r.points).filter((_, i) => r.density[i]! >= 0.2 * r.density[0]!);
    const at05 = significant(model.modes([[0.5]])[0]!).sort((a, b) => a - b);
    // Three branches: every noise-free branch 0.2096, 0.5, 0.7904 has a significant mode within
    // 0.08, and every significant mode is nearest to one of them within 0.08. Demanding exactly
    // three modes would be wrong: with +-0.1 noise on x the true p(t | x = 0.5) is flat across the
    // middle branch's neighbourhood, and a fit may put two modes on it (0.43 and 0.57 are seen with
    // the default meanInit), which is still the middle branch.
    const truth05 = branches(0.5);
    expect(truth05).toHaveLength(3);
    for (const b of truth05) expect(Math.min(...at05.map((m) => Math.abs(m - b))), `branch ${b} in modes ${at05}`).toBeLessThan(0.08);
    for (const m of at05) expect(Math.min(...truth05.map((b) => Math.abs(m - b))), `mode ${m}`).toBeLessThan(0.08);

    // The mode curve: x on a grid of 91 points in [0.05, 0.95]. Recall: the fraction of true
    // branches (x, t(x)) of the noise-free inverse with a significant mode within 0.05 in t.
    // Precision: the fraction of significant modes m that the data can explain, i.e. whose forward
    // image g(m) = m + 0.3 sin(2 pi m) lies in the noise band |g(m) - x| <= 0.1, with 0.05 slack.
    // (The true p(t | x) is supported on that band, not only on the noise-free branches: near the
    // folds, x ~ 0.35 and 0.65, it has real modes where branches are about to be born or die.)
    const xs = Array.from({ length: 91 }, (_, i) => [0.05 + i * 0.01]);
    const rows = model.modes(xs);
    let hits = 0, total = 0, good = 0, found = 0;
    xs.forEach(([x], i) => {
      const truth = branches(x!);
      const modes = significant(rows[i]!);
      for (const b of truth) {
        total++;
        if (modes.some((m) => Math.abs(m - b) < 0.05)) hits++;
      }
      for (const m of modes) {
        found++;
        if (Math.abs(m + 0.3 * Math.sin(2 * Math.PI * m) - x!) <= 0.15) good++;
      }
    });
    console.log(`Bishop mode curve: recall ${hits}/${total}, precision ${good}/${found}`);
    expect(hits / total).toBeGreaterThan(0.9);
    expect(good / found).toBeGreaterThan(0.9);

    // Held-out calibration: central intervals cover about their nominal share.
    const test = bishopData(3, 2000);
    const cal = model.calibration({ data: test.x, shape: [2000, 1] }, { data: test.t, shape: [2000, 1] });
    console.log(`Bishop held-out coverage: ${cal.coverage.map((c) => `${c.level}: ${c.observed.toFixed(3)}`).join(", ")}`);
    for (const c of cal.coverage) expect(Math.abs(c.observed - c.level)).toBeLessThan(0.05);
  });
});

describe("full vs diagonal covariance", () => {
  it("on correlated 2-D targets, full beats diagonal on held-out NLL by more than 0.3 nats", async () => {
    // y = (x + e1, x + rho e1 + sqrt(1 - rho^2) e2) * 0.3, rho = 0.9: the best diagonal model
    // loses -0.5 log(1 - rho^2) = 0.83 nats per row to the best full one.
    const make = (seed: number, N: number) => {
      const rng = testRng(seed);
      const x = new Float32Array(N);
      const y = new Float32Array(2 * N);
      for (let i = 0; i < N; i++) {
        x[i] = 2 * rng() - 1;
        const [e1, e2] = normal(rng, 2);
        y[2 * i] = 0.3 * (x[i]! + e1!);
        y[2 * i + 1] = 0.3 * (x[i]! + 0.9 * e1! + Math.sqrt(1 - 0.81) * e2!);
      }
      return { x: { data: x, shape: [N, 1] }, y: { data: y, shape: [N, 2] } };
    };
    const train = make(5, 2000);
    const test = make(6, 2000);
    const nll: Record<string, number> = {};
    for (const covariance of ["diagonal", "full"] as const) {
      const model = await MDN.create({ inputDim: 1, outputDim: 2, components: 2, hidden: [16], covariance, seed: 7 }, { module: wasmModule });
      await model.fit(train.x, train.y, { epochs: 40, batchSize: 64, optimizer: { learningRate: 5e-3 } });
      nll[covariance] = model.evaluate(test.x, test.y);
    }
    console.log(`held-out NLL: diagonal ${nll.diagonal!.toFixed(3)}, full ${nll.full!.toFixed(3)}`);
    expect(nll.diagonal! - nll.full!).toBeGreaterThan(0.3);
  });
});
