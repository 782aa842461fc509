// The training loop's guard against non-finite numbers: runs driven to divergence (huge learning
// rates, extreme targets) end as onNonFinite says, with the last good weights intact and finite.
import { describe, expect, it } from "vitest";
import { type History, MDN, NonFiniteError, type Weight } from "../src/index.js";
import { probeRows } from "../src/engine/probe.js";
import { hashWeights, testRng } from "./util.js";

/**
 * Seed s picks a learning rate from 1e6 to 1e38 (fit refuses rates past float32's range) or targets
 * up to 1e30. (With the sigma ceiling, rates of 1e2 to 1e5 no longer drive every seed to divergence.)
 */
function divergentRun(seed: number) {
  const r = testRng(seed);
  const n = 96;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 2);
  const extremeTargets = seed % 3 === 0;
  const yScale = extremeTargets ? 10 ** (10 + (seed % 21)) : 1;
  for (let i = 0; i < x.length; i++) x[i] = 4 * r() - 2;
  for (let i = 0; i < y.length; i++) y[i] = (2 * r() - 1) * yScale;
  const learningRate = extremeTargets ? 1e-2 : 10 ** (6 + (seed % 33));
  return {
    x: { data: x, shape: [n, 2] as [number, number] },
    y: { data: y, shape: [n, 2] as [number, number] },
    learningRate,
    policy: (seed % 2 === 0 ? "throw" : "stop") as "stop" | "throw",
  };
}

describe("non-finite guard", () => {
  it("50 of 50 runs driven to divergence end as the policy says, with the last good weights intact", async () => {
    const causes: Record<string, number> = {};
    const kinds = { after: 0, start: 0 };
    for (let seed = 1; seed <= 50; seed++) {
      const run = divergentRun(seed);
      const m = await MDN.create({
        inputDim: 2, outputDim: 2, components: 3, seed, meanInit: "zeros",
        hidden: [{ units: 8, dropout: 0.1, batchNorm: true }, 8],
      });
      // The weights at the start of the current epoch, then after each of its applied batches.
      let epochWeights: Weight[][] = [m.getWeights()];
      let history: History | null = null;
      let thrown: NonFiniteError | null = null;
      try {
        history = await m.fit(run.x, run.y, {
          epochs: 20, batchSize: 16, onNonFinite: run.policy,
          optimizer: { name: "adam", learningRate: run.learningRate },
          onBatchEnd: () => {
            epochWeights.push(m.getWeights());
          },
          onEpochEnd: () => {
            epochWeights = [epochWeights[epochWeights.length - 1]!];
          },
        });
      } catch (e) {
        if (!(e instanceof NonFiniteError)) throw e;
        thrown = e;
      }
      const at = `seed ${seed} (${run.policy}, lr ${run.learningRate})`;
      const report = run.policy === "stop" ? history?.nonFinite : thrown?.report;
      expect(report, `${at}: diverged and reported`).toBeDefined();
      if (run.policy === "stop") expect(thrown, at).toBeNull();
      else expect(history, at).toBeNull();
      if (thrown) {
        expect(thrown.code).toBe("NON_FINITE_STEP");
        expect(thrown.history.nonFinite).toEqual(report);
        expect([thrown.epoch, thrown.batch]).toEqual([report!.epoch, report!.batch]);
      }
      causes[report!.cause] = (causes[report!.cause] ?? 0) + 1;
      const hist = history ?? thrown!.history;
      expect(hist.epoch.length, at).toBe(report!.epoch);
      // The kept weights are those after keptBatches of the failing epoch's batches (0: its start),
      // bit for bit as that epoch's batches left them: no bad batch is applied.
      const r = report!;
      const kept = r.cause === "loss" ? Math.max(0, r.batch - 1) : r.batch;
      expect(r.keptBatches === kept || r.keptBatches === 0, `${at}: kept ${r.keptBatches} of ${kept}`).toBe(true);
      const got = m.getWeights();
      expect(hashWeights(got), `${at}: ${r.cause} at epoch ${r.epoch} batch ${r.batch}`).toBe(hashWeights(epochWeights[r.keptBatches]!));
      for (const w of got) expect(w.data.every(Number.isFinite), `${at}: ${w.name} finite`).toBe(true);
      // And they predict finite numbers on the probe batch.
      const p = m.predict({ data: probeRows(2, m.normalization), shape: [5, 2] });
      for (const a of [p.pi, p.mu, p.sigma]) expect(a.every(Number.isFinite), `${at}: predictions finite`).toBe(true);
      kinds[r.keptBatches === kept ? "after" : "start"]++;
      m.dispose();
    }
    console.log(`divergence runs: 50/50 ended by the guard; causes ${JSON.stringify(causes)}; kept ${JSON.stringify(kinds)}`);
    expect(Object.keys(causes).length).toBeGreaterThanOrEqual(2);
  });

  it("a finite run is unaffected: no report, same weights as before the guard existed would give", async () => {
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, seed: 1, hidden: [8] });
    const r = testRng(2);
    const x = Array.from({ length: 64 }, () => [r(), r()]);
    const y = Array.from({ length: 64 }, () => [r(), r()]);
    const h = await m.fit(x, y, { epochs: 3, batchSize: 16 });
    expect(h.nonFinite).toBeUndefined();
    expect(h.epoch).toEqual([0, 1, 2]);
  });
});

describe("yieldEvery", () => {
  const data = () => {
    const r = testRng(5);
    const n = 64;
    const x = new Float32Array(n * 2).map(() => 2 * r() - 1);
    const y = new Float32Array(n * 2).map(() => 2 * r() - 1);
    return { x: { data: x, shape: [n, 2] as [number, number] }, y: { data: y, shape: [n, 2] as [number, number] } };
  };
  /** Event-loop turns taken during a fit of `epochs` epochs: immediates re-armed until fit ends. */
  async function turns(yieldEvery: "auto" | "epoch" | "never" | number | undefined, epochs: number, signal?: AbortSignal): Promise<number> {
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 1 });
    const { x, y } = data();
    let ticks = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      ticks++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await m.fit(x, y, { epochs, batchSize: 64, yieldEvery, signal });
    done = true;
    return ticks;
  }

  it('"epoch" gives the event loop a turn after every epoch, "never" none', async () => {
    expect(await turns("epoch", 40)).toBeGreaterThanOrEqual(39);
    expect(await turns("never", 40)).toBeLessThanOrEqual(1);
  });

  it('"auto" takes turns every 16 ms without a signal and after every batch with one', async () => {
    // 40 tiny epochs take well under 16 ms x 39 = 624 ms: far fewer turns than epochs.
    expect(await turns(undefined, 40)).toBeLessThan(20);
    expect(await turns("auto", 40, new AbortController().signal)).toBeGreaterThanOrEqual(39);
  });

  it("a number is a period in milliseconds: 0 is every epoch", async () => {
    expect(await turns(0, 40)).toBeGreaterThanOrEqual(39);
  });

  it("rejects anything else with INVALID_CONFIG naming options.yieldEvery", async () => {
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [4], seed: 1 });
    const { x, y } = data();
    for (const bad of ["batches", -1, NaN, Infinity, {}]) {
      await expect(m.fit(x, y, { yieldEvery: bad as never })).rejects.toMatchObject({ code: "INVALID_CONFIG", argument: "options.yieldEvery" });
    }
  });
});
