// mdn-wasm sample: draws from p(y | x) for every row of a CSV file.

import { type Command, int, num, str, type Values } from "./args.js";
import { writeCsv } from "./csv.js";
import { EXIT_OK } from "./errors.js";
import { CSV_HELP, CSV_OPTIONS, modelColumns, outputDelimiter, readTable, writeOutput } from "./io.js";
import { loadModel, targetNames } from "./modelfile.js";

const help = `Usage: mdn-wasm sample <model.mdn> <data.csv> [--n 10] [--temperature 1] [--out samples.csv]

Draw samples of the targets for every row's inputs (model.sample). Output columns: row (0-based
data row), sample (0..n-1), component (the one each draw came from), then one column per target;
n output rows per data row.

  -n, --n N            Samples per row, default 10.
  --temperature T      Temperature on the mixing weights, default 1: they become
                       softmax(log pi / T), so below 1 sharpens towards the likeliest component
                       and above 1 flattens towards uniform.
  --sigma-temperature S  Factor on every variance, default 1 (each sigma times sqrt(S)); 0 returns
                       the chosen component's mean.
  --seed N             Seed for the draws, default 0: the same seed gives the same samples.
  --x COLS             Input columns; default the ones the model was trained on.
  -o, --out FILE       Output CSV; default stdout.
${CSV_HELP}`;

export const sample: Command = {
  name: "sample",
  summary: "draw samples of the targets for each row of a CSV file",
  help,
  positionals: ["model.mdn", "data.csv"],
  options: {
    ...CSV_OPTIONS,
    x: { type: "string" },
    n: { type: "string", short: "n" },
    temperature: { type: "string" },
    "sigma-temperature": { type: "string" },
    seed: { type: "string" },
    out: { type: "string", short: "o" },
  },
  run: runSample,
};

async function runSample(v: Values, [modelPath, dataPath]: string[]): Promise<number> {
  const n = int(v, "n", 10, 1, 1e6);
  const temperature = num(v, "temperature", 1, 1e-6, 1e6);
  const sigmaTemperature = num(v, "sigma-temperature", 1, 0, 1e6);
  const seed = int(v, "seed", 0, 0);
  const { model, facts } = await loadModel(modelPath!);
  const table = await readTable(dataPath!, v);
  const { x } = modelColumns(table, v, facts, "x");
  const { samples, components } = model.sample(x, { n, temperature, sigmaTemperature, seed });
  const names = targetNames(facts, model.outputDim);
  const D = names.length;
  const rows = function* () {
    for (let r = 0; r < table.rows.length; r++) {
      for (let s = 0; s < n; s++) {
        const at = (r * n + s) * D;
        yield [String(r), String(s), String(components[r * n + s]), ...samples.subarray(at, at + D)];
      }
    }
  };
  model.dispose();
  await writeOutput(str(v, "out"), writeCsv(["row", "sample", "component", ...names], rows(), outputDelimiter(v)));
  return EXIT_OK;
}
