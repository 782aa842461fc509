// Writes clusters.csv for examples/cli/run.sh: the seed notebook's four clusters as a CSV file with
// a header: inputs x1,x2, targets y1,y2 (each row's cluster centre), and the cluster id.
// Run: node examples/cli/make-csv.mjs
// #region csv
import { writeFileSync } from "node:fs";
import { seedClusters } from "mdn-wasm";

const { x, y, z } = seedClusters(1024, 0);
const lines = ["x1,x2,y1,y2,cluster"];
for (let i = 0; i < z.length; i++) lines.push(`${x[2 * i]},${x[2 * i + 1]},${y[2 * i]},${y[2 * i + 1]},${z[i]}`);
writeFileSync("clusters.csv", lines.join("\n") + "\n");
console.log(`clusters.csv: ${z.length} rows`);
// #endregion
