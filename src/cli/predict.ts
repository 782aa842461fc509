// mdn-wasm predict: the mixture for every row of a CSV file, or its mean, as a CSV file.

import type { Prediction } from "../node.js";
import { choice, type Command, str, type Values } from "./args.js";
import { writeCsv } from "./csv.js";
import { EXIT_OK } from "./errors.js";
import { CSV_HELP, CSV_OPTIONS, modelColumns, outputDelimiter, readTable, writeOutput } from "./io.js";
import { loadModel, targetNames } from "./modelfile.js";

const help = `Usage: mdn-wasm predict <model.mdn> <data.csv> [--what params|mean] [--out out.csv]

One output row per data row, in the same order.

  --what params        (default) the mixture: pi_<k>, mu_<k>_<target>, sigma_<k> for components
                       k = 0..K-1 (sigma_<k>_<target> when the model has one sigma per target).
  --what mean          the mixture's mean, sum_k pi_k mu_k: one column per target.
  --x COLS             Input columns; default the ones the model was trained on.
  -o, --out FILE       Output CSV; default stdout.
${CSV_HELP}`;

export const predict: Command = {
  name: "predict",
  summary: "mixture parameters or mean for each row of a CSV file",
  help,
  positionals: ["model.mdn", "data.csv"],
  options: { ...CSV_OPTIONS, x: { type: "string" }, what: { type: "string" }, out: { type: "string", short: "o" } },
  run: runPredict,
};

async function runPredict(v: Values, [modelPath, dataPath]: string[]): Promise<number> {
  const what = choice(v, "what", ["params", "mean"] as const, "params");
  const { model, facts } = await loadModel(modelPath!);
  const table = await readTable(dataPath!, v);
  const { x } = modelColumns(table, v, facts, "x");
  const p = model.predict(x);
  const csv = what === "params" ? paramsCsv(p, targetNames(facts, model.outputDim), outputDelimiter(v)) : meanCsv(p, targetNames(facts, model.outputDim), outputDelimiter(v));
  model.dispose();
  await writeOutput(str(v, "out"), csv);
  return EXIT_OK;
}

/** Every field of a prediction flattened per row; trailing axes of size D named by target. */
function paramsCsv(p: Prediction, targets: string[], delimiter: string): string {
  const fields = (["pi", "mu", "sigma"] as const).map((name) => ({ name, data: p[name], shape: p.shapes[name] as readonly number[] }));
  const header: string[] = [];
  for (const f of fields) {
    const [, K, ...rest] = f.shape;
    for (let k = 0; k < K!; k++) {
      if (rest.length === 0) header.push(`${f.name}_${k}`);
      else for (let j = 0; j < rest.reduce((a, b) => a * b, 1); j++) header.push(`${f.name}_${k}_${rest.length === 1 && rest[0] === targets.length ? targets[j] : j}`);
    }
  }
  const N = p.shapes.pi[0];
  const rows = function* () {
    for (let r = 0; r < N; r++) {
      const row: number[] = [];
      for (const f of fields) {
        const per = f.data.length / N;
        for (let j = 0; j < per; j++) row.push(f.data[r * per + j]!);
      }
      yield row;
    }
  };
  return writeCsv(header, rows(), delimiter);
}

function meanCsv(p: Prediction, targets: string[], delimiter: string): string {
  const [N, K, D] = p.shapes.mu;
  const rows = function* () {
    for (let r = 0; r < N; r++) {
      const m = new Array<number>(D).fill(0);
      for (let k = 0; k < K; k++) for (let d = 0; d < D; d++) m[d]! += p.pi[r * K + k]! * p.mu[(r * K + k) * D + d]!;
      yield m;
    }
  };
  return writeCsv(targets, rows(), delimiter);
}
