// Point 1, the account: what limits the seed task's test ARI? On data seeds 1000-1019 (the test
// rows are always rows 512-1023 of seedClusters(1024, seed)):
//   bayes      the true mixture's posterior
//   qda409     plug-in diagonal Gaussians fitted to the 409 training rows' TRUE labels
//   softmax-q  softmax regression on quadratic features, true labels, 409 rows
//   mlp-ce     the notebook's MLP with cross-entropy on the true labels (same Adam, epochs, split)
//   mdn        the notebook's MDN (409 train rows), and with 10x the rows (4096 + 1024 val rows)
import { adjustedRandScore, argmaxRows, bayesPosterior, seedClusters, seedTask, spread } from "./common.mjs";
import { mlpPredict, qdaPredict, softmaxPredict } from "./classifiers.mjs";

const SEEDS = Array.from({ length: Number(process.env.N ?? 20) }, (_, i) => Number(process.env.FROM ?? 1000) + i);
const which = new Set(process.argv.slice(2));
const rows = {};
const add = (k, v) => (rows[k] ??= []).push(v);
for (const s of SEEDS) {
  const d = seedClusters(1024, s);
  const zTest = d.z.subarray(512);
  const xTest = d.x.subarray(1024);
  add("bayes", adjustedRandScore(zTest, argmaxRows(bayesPosterior(d, 512, 1024), 512, 4)));
  add("qda409", adjustedRandScore(zTest, qdaPredict(d.x, d.z, 409, xTest)));
  add("qda512", adjustedRandScore(zTest, qdaPredict(d.x, d.z, 512, xTest)));
  if (which.has("softmax")) {
    add("softmax-lin", adjustedRandScore(zTest, softmaxPredict(d.x, d.z, 409, xTest, false)));
    add("softmax-quad", adjustedRandScore(zTest, softmaxPredict(d.x, d.z, 409, xTest, true)));
  }
  if (which.has("mlp")) {
    add("mlp-ce-128ep", adjustedRandScore(zTest, (await mlpPredict(d.x, d.z, 512, xTest, { seed: s })).z));
  }
  if (which.has("mdn10")) {
    add("mdn-5120rows-128ep", (await seedTask({ dataSeed: s, trainRows: 5120 })).ari);
    add("mdn-5120rows-13ep", (await seedTask({ dataSeed: s, trainRows: 5120, fit: { epochs: 13 } })).ari);
  }
  if (which.has("mdnlong")) add("mdn-512ep", (await seedTask({ dataSeed: s, fit: { epochs: 512 } })).ari);
  add("mdn", (await seedTask({ dataSeed: s })).ari);
}
for (const [k, v] of Object.entries(rows)) {
  const gaps = v.map((a, i) => rows.bayes[i] - a);
  const mg = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const se = Math.sqrt(gaps.reduce((a, b) => a + (b - mg) ** 2, 0) / Math.max(1, gaps.length - 1) / gaps.length);
  console.log(`${k.padEnd(20)} ARI ${spread(v)}  gap to bayes ${spread(gaps)}; mean gap ${mg.toFixed(4)} +- ${se.toFixed(4)}`);
}
