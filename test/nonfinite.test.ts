// The non-finite guard keeps only weights that predict finite numbers: with learning rates of 1e30
// or 3e38 (each first step moves every weight by about the learning rate) fit ends with a report,
// and the model it leaves predicts finite numbers on the probe batch and on its training rows.
import { describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { PROBE_ROWS, probeRows } from "../src/engine/probe.js";
import { hashWeights, regression } from "./util.js";

function expectFinitePredictions(m: MDN, x: { data: Float32Array; shape: [number, number] }, at: string): void {
  for (const rows of [x, { data: probeRows(2, m.normalization), shape: [PROBE_ROWS, 2] as [number, number] }]) {
    const p = m.predict(rows);
    for (const [name, a] of [["pi", p.pi], ["mu", p.mu], ["sigma", p.sigma]] as const) {
      const bad = a.findIndex((v) => !Number.isFinite(v));
      expect(bad, `${at}: ${name}[${bad}] = ${a[bad]}`).toBe(-1);
    }
  }
  expect(Number.isFinite(m.evaluate(x, regression(x.shape[0], 1).y)), `${at}: evaluate`).toBe(true);
}

describe("the non-finite guard keeps weights that predict finite numbers", () => {
  it("learning rates 1e30 and 3e38 (isotropic, diagonal, full; with and without normalisation; batch norm and dropout)", async () => {
    const { x, y } = regression(96, 1);
    const causes: Record<string, number> = {};
    for (const learningRate of [1e30, 3e38]) {
      for (const covariance of ["isotropic", "diagonal", "full"] as const) {
        for (const normalize of [false, true]) {
          for (const batchSize of [16, 96]) {
            const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 3, covariance, normalize, seed: 7, hidden: [{ units: 8, dropout: 0.1, batchNorm: true }, 8] });
            const h = await m.fit(x, y, { epochs: 5, batchSize, optimizer: { learningRate } });
            const at = `lr ${learningRate} ${covariance} normalize ${normalize} batch ${batchSize}`;
            expect(h.nonFinite, at).toBeDefined();
            causes[h.nonFinite!.cause] = (causes[h.nonFinite!.cause] ?? 0) + 1;
            expectFinitePredictions(m, x, at);
            // And it saves to a file that loads.
            expect(hashWeights((await MDN.load(m.save())).getWeights()), at).toBe(hashWeights(m.getWeights()));
          }
        }
      }
    }
    console.log(`lr 1e30 / 3e38: 24 fits ended by the guard with finite predictions; causes ${JSON.stringify(causes)}`);
  });

  it('a step whose weights predict non-finite numbers is undone even when every loss was finite ("prediction")', async () => {
    // One batch per epoch: the first step's 1e20-sized weights are never seen by a training loss,
    // only by the check at the end of the epoch, where the forward overflows float32. (A rate of
    // 1e5 no longer does: the sigma ceiling keeps its 1e5-sized weights' predictions finite.)
    const { x, y } = regression(64, 2);
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, hidden: [8], seed: 3, meanInit: "zeros" });
    const before = hashWeights(m.getWeights());
    let applied = 0;
    const h = await m.fit(x, y, { epochs: 3, batchSize: 64, optimizer: { learningRate: 1e20 }, onBatchEnd: () => void applied++ });
    expect(applied).toBe(1);
    expect(h.nonFinite).toEqual({ epoch: 0, batch: 0, cause: "prediction", keptBatches: 0 });
    expect(h.epoch).toEqual([]);
    // The weights the epoch started from: the model's own, as created.
    expect(hashWeights(m.getWeights())).toBe(before);
    expectFinitePredictions(m, x, "lr 1e20");
  });
});
