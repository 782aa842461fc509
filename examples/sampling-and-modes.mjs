// Sampling and modes on Bishop's inverse problem: t ~ U(0, 1), x = t + 0.3 sin(2 pi t) + noise,
// and the model learns p(t | x). Around x = 0.5 three values of t fit, so the conditional mean
// falls between branches, while the modes find each branch and samples come from all of them.
// Run: node examples/sampling-and-modes.mjs
// #region sampling
import { dataRng, MDN } from "mdn-wasm";

const rng = dataRng(2);
const x = [], t = [];
for (let i = 0; i < 2000; i++) {
  const ti = rng.uniform();
  t.push(ti);
  x.push(ti + 0.3 * Math.sin(2 * Math.PI * ti) + 0.2 * rng.uniform() - 0.1);
}

const model = await MDN.create({ inputDim: 1, outputDim: 1, components: 5, hidden: [{ units: 32, activation: "tanh" }, { units: 32, activation: "tanh" }], seed: 2 });
await model.fit(x, t, { epochs: 200, batchSize: 64, optimizer: { learningRate: 3e-3 } });

const at = [0.5];
console.log(`E[t | x = 0.5] = ${model.mean(at)[0].toFixed(3)}: one number for three answers`);
const [{ points, density }] = model.modes(at); // every local maximum of p(t | x), highest first
console.log(`modes of p(t | x = 0.5): ${Array.from(points, (m, i) => `${m.toFixed(3)} (density ${density[i].toFixed(2)})`).join(", ")}`);

// 1,000 draws from p(t | x = 0.5); seed makes them repeatable. temperature < 1 favours likely components.
const { samples } = model.sample(at, { n: 1000, seed: 1 });
const near = (c) => samples.filter((s) => Math.abs(s - c) < 0.1).length;
console.log(`of 1000 samples: ${near(0.21)} near 0.21, ${near(0.5)} near 0.5, ${near(0.79)} near 0.79`);
const { samples: cold } = model.sample(at, { n: 1000, seed: 1, temperature: 0, sigmaTemperature: 0 });
console.log(`temperature 0, sigmaTemperature 0: every draw is the likeliest component's mean, ${cold[0].toFixed(3)}`);
model.dispose();
// #endregion
