// The data-dependent start of the component means (config.meanInit).
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/core/config.js";
import { kmeansCentres } from "../src/engine/init.js";
import { MDN, seedClusters } from "../src/index.js";
import { Network } from "../src/engine/network.js";
import { loadKernels } from "./util.js";

const cfg = { inputDim: 2, outputDim: 2, components: 4, hidden: [8], seed: 5 };

describe("meanInit", () => {
  it("k-means++ on the seed targets finds the four cluster centres", async () => {
    const d = seedClusters(600, 3);
    const net = new Network(await loadKernels(), resolveConfig(cfg));
    net.initialize();
    const c = kmeansCentres(net, { data: d.y, rows: 600, cols: 2 }, 4);
    const found = [0, 1, 2, 3].map((k) => `${c[2 * k]},${c[2 * k + 1]}`).sort();
    expect(found).toEqual(["-2,-2", "-2,2", "2,-2", "2,2"]);
  });

  it("returns converged centres: one more Lloyd step from them changes no bit", async () => {
    // Overlapping noisy clusters in 3-D, so assignments settle over several steps (the loop stops
    // once a step reassigns nothing, which must give exactly the centres all steps would).
    let u = 12345;
    const rand = () => ((u = (Math.imul(u, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const n = 900, D = 3, K = 5;
    const y = new Float32Array(n * D);
    for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) y[i * D + d] = (i % K) * 1.5 * (d + 1) + (rand() + rand() + rand() - 1.5);
    const net = new Network(await loadKernels(), resolveConfig({ ...cfg, outputDim: D, components: K }));
    net.initialize();
    const c = kmeansCentres(net, { data: y, rows: n, cols: D }, K);
    const sums = new Float64Array(K * D), counts = new Float64Array(K);
    for (let j = 0; j < n; j++) {
      let best = 0, bestD = Infinity;
      for (let k = 0; k < K; k++) {
        let dd = 0;
        for (let d = 0; d < D; d++) dd += (y[j * D + d]! - c[k * D + d]!) ** 2;
        if (dd < bestD) [bestD, best] = [dd, k];
      }
      counts[best]!++;
      for (let d = 0; d < D; d++) sums[best * D + d]! += y[j * D + d]!;
    }
    const next = Array.from(c, (v, i) => (counts[Math.floor(i / D)]! > 0 ? sums[i]! / counts[Math.floor(i / D)]! : v));
    expect(Array.from(c)).toEqual(next);
  });

  it("puts the means' biases on target centres at the first fit only; 'zeros' keeps Keras' start", async () => {
    const d = seedClusters(256, 1);
    const x = { data: d.x, shape: [256, 2] as [number, number] };
    const y = { data: d.y, shape: [256, 2] as [number, number] };
    const tiny = { epochs: 1, optimizer: { learningRate: 1e-12 } };
    const muBias = (m: MDN) => Array.from(m.getWeights().find((w) => w.name === "mixture/bias")!.data.subarray(4, 12));
    const targets = await MDN.create(cfg);
    await targets.fit(x, y, tiny);
    expect(muBias(targets).map((v) => Math.round(Math.abs(v)))).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    const zeros = await MDN.create({ ...cfg, meanInit: "zeros" });
    await zeros.fit(x, y, tiny);
    for (const v of muBias(zeros)) expect(Math.abs(v)).toBeLessThan(1e-6);
    // Weights a user set are never overwritten, even on a model that has not trained yet.
    const loaded = await MDN.create(cfg);
    loaded.setWeights(zeros.getWeights());
    await loaded.fit(x, y, tiny);
    for (const v of muBias(loaded)) expect(Math.abs(v)).toBeLessThan(1e-6);
  });
});
