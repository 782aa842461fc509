import { it } from "vitest";
import { MDN } from "../src/index.js";
import { testRng } from "./util.js";
function bishopData(seed: number, N: number) {
  const rng = testRng(seed); const x = new Float32Array(N); const t = new Float32Array(N);
  for (let i = 0; i < N; i++) { t[i] = rng(); x[i] = t[i]! + 0.3 * Math.sin(2 * Math.PI * t[i]!) + (rng() * 0.2 - 0.1); }
  return { x, t };
}
it("exp", async () => {
  const truth = [0.2096, 0.5, 0.7904];
  const out: string[] = [];
  for (let seed = 0; seed < 8; seed++) {
    const N = 2000; const train = bishopData(1, N);
    const model = await MDN.create({ inputDim: 1, outputDim: 1, components: 5, hidden: [{ units: 32, activation: "tanh" }, { units: 32, activation: "tanh" }], seed });
    await model.fit({ data: train.x, shape: [N, 1] }, { data: train.t, shape: [N, 1] }, { epochs: 100, batchSize: 64, optimizer: { learningRate: 5e-3 } });
    const r = model.modes([[0.5]])[0]!;
    const pts = Array.from(r.points).filter((_, i) => r.density[i]! >= 0.2 * r.density[0]!).sort((a, b) => a - b);
    const err = pts.length === 3 ? Math.max(...pts.map((p, i) => Math.abs(p - truth[i]!))) : NaN;
    out.push(`seed ${seed}: n=${pts.length} maxerr=${err.toFixed(3)}`);
  }
  console.log(out.join("\n"));
});
