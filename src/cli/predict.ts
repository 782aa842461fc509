// mdn-wasm predict: the mixture for every row of a CSV file, or its mean, as a CSV file.

import type { Prediction, RowModes } from "../node.js";
import { choice, type Command, str, type Values } from "./args.js";
import { writeCsv } from "./csv.js";
import { EXIT_OK } from "./errors.js";
import { CSV_HELP, CSV_OPTIONS, modelColumns, outputDelimiter, readTable, writeOutput } from "./io.js";
import { loadModel, targetNames } from "./modelfile.js";

const help = `Usage: mdn-wasm predict <model.mdn> <data.csv> [--what params|mean|modes] [--out out.csv]

One output row per data row, in the same order.

  --what params        (default) the mixture: pi_<k>, mu_<k>_<target>, sigma_<k> for components
                       k = 0..K-1; for a diagonal model sigma_<k>_<target>, for a full one the
                       Cholesky factor of the covariance, sigma_<k>_<row target>_<column target>.
  --what mean          E[y | x], sum_k pi_k mu_k: one column per target.
  --what modes         every local mode of p(y | x) (mean-shift from each component), highest
                       density first: columns row, mode, density, then the targets; one output
                       row per mode, so a row may have several.
  --x COLS             Input columns; default the ones the model was trained on.
  -o, --out FILE       Output CSV; default stdout.
${CSV_HELP}`;

export const predict: Command = {
  name: "predict",
  summary: "mixture parameters, mean or modes for each row of a CSV file",
  help,
  positionals: ["model.mdn", "data.csv"],
  options: { ...CSV_OPTIONS, x: { type: "string" }, what: { type: "string" }, out: { type: "string", short: "o" } },
  run: runPredict,
};

async function runPredict(v: Values, [modelPath, dataPath]: string[]): Promise<number> {
  const what = choice(v, "what", ["params", "mean", "modes"] as const, "params");
  const { model, facts } = await loadModel(modelPath!);
  const table = await readTable(dataPath!, v);
  const { x } = modelColumns(table, v, facts, "x");
  const names = targetNames(facts, model.outputDim);
  const delimiter = outputDelimiter(v);
  const csv =
    what === "params" ? paramsCsv(model.predict(x), names, delimiter)
    : what === "mean" ? meanCsv(model.mean(x), names, delimiter)
    : modesCsv(model.modes(x), names, delimiter);
  model.dispose();
  await writeOutput(str(v, "out"), csv);
  return EXIT_OK;
}

/**
 * Every field of a prediction flattened per row. Axes after the component's are target axes
 * (size D), named by target: mu_<k>_<t>, diagonal sigma_<k>_<t>, full sigma_<k>_<i>_<j>.
 */
function paramsCsv(p: Prediction, targets: string[], delimiter: string): string {
  const fields = (["pi", "mu", "sigma"] as const).map((name) => ({ name, data: p[name], axes: (p.shapes[name] as readonly number[]).length - 2 }));
  const header: string[] = [];
  const suffixes = (axes: number): string[] => (axes === 0 ? [""] : suffixes(axes - 1).flatMap((s) => targets.map((t) => `${s}_${t}`)));
  for (const f of fields) for (let k = 0; k < p.shapes.pi[1]; k++) for (const s of suffixes(f.axes)) header.push(`${f.name}_${k}${s}`);
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

function meanCsv(mean: Float64Array, targets: string[], delimiter: string): string {
  const D = targets.length;
  const rows = function* () {
    for (let r = 0; r < mean.length / D; r++) yield Array.from(mean.subarray(r * D, (r + 1) * D));
  };
  return writeCsv(targets, rows(), delimiter);
}

function modesCsv(modes: RowModes[], targets: string[], delimiter: string): string {
  const D = targets.length;
  const rows = function* () {
    for (const [r, m] of modes.entries()) {
      for (let j = 0; j < m.shape[0]; j++) yield [String(r), String(j), m.density[j]!, ...m.points.subarray(j * D, (j + 1) * D)];
    }
  };
  return writeCsv(["row", "mode", "density", ...targets], rows(), delimiter);
}
