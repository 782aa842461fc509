// 1-D regression with standardisation: flat prices in euros against sizes in square metres, whose
// spread grows with the size. `normalize: true` learns each column's mean and deviation from the
// training rows; everything handed back is in euros. One-column data go in as flat arrays.
// Run: node examples/regression-1d.mjs
// #region regression
import { dataRng, MDN } from "mdn-wasm";

const rng = dataRng(1); // a small seeded generator for example data
const price = (size) => 40_000 + 3_000 * size; // the true mean, euros
const spread = (size) => 200 * size; // the true standard deviation, euros
const draw = (n) => {
  const x = [], y = [];
  for (let i = 0; i < n; i++) {
    const size = 30 + 170 * rng.uniform();
    x.push(size);
    y.push(price(size) + spread(size) * rng.normal());
  }
  return { x, y };
};
const train = draw(2000), test = draw(1000);

const model = await MDN.create({
  inputDim: 1, outputDim: 1, components: 2, normalize: true, seed: 1,
  hidden: [{ units: 16, activation: "tanh" }, { units: 16, activation: "tanh" }],
});
const history = await model.fit(train.x, train.y, {
  epochs: 200, batchSize: 64, validationSplit: 0.2,
  earlyStopping: true, // patience 50 on val_loss, best weights restored
});
console.log(`trained ${history.epoch.length} epochs, best val_loss ${Math.min(...(history.history.val_loss ?? [])).toFixed(3)}`);

const sizes = [50, 100, 150];
const mean = model.mean(sizes); // Float64Array (N, D): E[y | x]
const variance = model.covariance(sizes); // Float64Array (N, D, D)
for (const [i, size] of sizes.entries()) {
  console.log(`${size} m2: ${Math.round(mean[i])} +- ${Math.round(Math.sqrt(variance[i]))} euros ` +
    `(true ${price(size)} +- ${spread(size)})`);
}
// Held-out calibration: the fraction of rows inside each central interval of p(y | x).
for (const { level, observed } of model.calibration(test.x, test.y).coverage) {
  console.log(`${Math.round(level * 100)}% interval holds ${(observed * 100).toFixed(1)}% of the test rows`);
}
model.dispose();
// #endregion
