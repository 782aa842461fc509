// Point 1: the seed task on fresh data seeds (default 1000-1019) with the notebook's settings and
// variants, and the Bayes-optimal classifier's ARI on the same test rows.
// node dev/fits/seed-baseline.mjs [variant ...]   variants: notebook, restore, zeros, zeros-restore
import { adjustedRandScore, argmaxRows, bayesPosterior, seedClusters, seedTask, spread } from "./common.mjs";

const SEEDS = Array.from({ length: Number(process.env.N ?? 20) }, (_, i) => Number(process.env.FROM ?? 1000) + i);
const VARIANTS = {
  notebook: {},
  restore: { fit: { earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32, restoreBestWeights: true } } },
  zeros: { config: { meanInit: "zeros" } },
  "zeros-restore": { config: { meanInit: "zeros" }, fit: { earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32, restoreBestWeights: true } } },
  "no-es": { fit: { earlyStopping: false } },
};

const bayes = SEEDS.map((s) => {
  const d = seedClusters(1024, s);
  const z = argmaxRows(bayesPosterior(d, 512, 1024), 512, 4);
  return adjustedRandScore(d.z.subarray(512), z);
});
console.log(`bayes-optimal ARI over seeds ${SEEDS[0]}-${SEEDS.at(-1)}: ${spread(bayes)}`);
console.log(`  per seed: ${bayes.map((a) => a.toFixed(3)).join(" ")}`);

for (const name of process.argv.slice(2).length ? process.argv.slice(2) : ["notebook"]) {
  const v = VARIANTS[name];
  const rs = [];
  for (const s of SEEDS) rs.push(await seedTask({ dataSeed: s, ...v }));
  const ari = rs.map((r) => r.ari);
  console.log(`${name}: ARI ${spread(ari)}; gap to bayes ${spread(ari.map((a, i) => bayes[i] - a))}; NMI ${spread(rs.map((r) => r.nmi))}`);
  console.log(`  test NLL ${spread(rs.map((r) => r.testNll), 2)}; epochs ${spread(rs.map((r) => r.history.epoch.length), 0)}; 3-or-fewer components used in ${rs.filter((r) => r.used < 4).length}/${rs.length}`);
  console.log(`  per seed ARI: ${ari.map((a) => a.toFixed(3)).join(" ")}`);
}
