// Point 4: what should `earlyStopping: true` mean? Held-out NLL (a separate test draw) of
//   none          all epochs
//   today         Keras' defaults (what `true` meant before): patience 0, nothing restored
//   true          what `true` means now: patience 50 with restoreBestWeights
//   pN            patience N, no restore       pNr  patience N with restoreBestWeights
// on the PROBLEMS of data.mjs, validationSplit 0.2, over data draws and model seeds that nothing
// was tuned on. Paired differences against "p50r".
//   node dev/fits/earlystop.mjs problem [epochs] [draws]
import { MDN, mean, spread } from "./common.mjs";
import { PROBLEMS } from "./data.mjs";

const [name, epochsArg, drawsArg] = process.argv.slice(2);
const P = PROBLEMS[name];
const EPOCHS = Number(epochsArg ?? 300);
const DRAWS = Number(drawsArg ?? 8);
const FROM = Number(process.env.FROM ?? 100);
const VARIANTS = {
  none: false,
  today: {}, // what `true` meant before: Keras' EarlyStopping() defaults
  true: true, // what it means now (src/model/mdn.ts EARLY_STOPPING_TRUE)
  p10r: { patience: 10, restoreBestWeights: true },
  p20r: { patience: 20, restoreBestWeights: true },
  p30r: { patience: 30, restoreBestWeights: true },
  p50r: { patience: 50, restoreBestWeights: true },
  p100r: { patience: 100, restoreBestWeights: true },
  p20: { patience: 20 },
};
const out = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, { nll: [], epochs: [] }]));
const truth = [];
for (let i = 0; i < DRAWS; i++) {
  const seed = FROM + i;
  const train = P.make(2 * seed, P.trainRows);
  const test = P.make(2 * seed + 1, P.testRows);
  if (P.trueNll) truth.push(P.trueNll(test));
  for (const [v, es] of Object.entries(VARIANTS)) {
    const model = await MDN.create({ ...P.config, seed });
    const h = await model.fit(train.x, train.y, { ...P.fit, epochs: EPOCHS, validationSplit: 0.2, earlyStopping: es });
    out[v].nll.push(model.evaluate(test.x, test.y));
    out[v].epochs.push(h.epoch.length);
    model.dispose();
  }
}
console.log(`${name}: ${P.trainRows} rows (80% train, 20% validation), up to ${EPOCHS} epochs, ${DRAWS} draws (seeds ${FROM}-${FROM + DRAWS - 1})${truth.length ? `; true density's NLL ${spread(truth)}` : ""}`);
for (const [v, r] of Object.entries(out)) {
  const d = r.nll.map((x, i) => x - out.p50r.nll[i]);
  console.log(`  ${v.padEnd(6)} held-out NLL ${spread(r.nll)}  minus p50r: mean ${mean(d).toFixed(3)}, ${spread(d)}  epochs ${spread(r.epochs, 0)}`);
}
