// mdn-wasm predict: the mixture for every row of a CSV file, or its mean, as a CSV file.

import type { Prediction, RowModes } from "../node.js";
import { choice, type Command, str, type Values } from "./args.js";
import { csvLine } from "./csv.js";
import { EXIT_OK } from "./errors.js";
import { BLOCK_ROWS, CSV_HELP, CSV_OPTIONS, delimiterOf, matrix, modelAndTable } from "./io.js";
import { targetNames } from "./modelfile.js";
import { writeTo } from "./output.js";

const help = `Usage: mdn-wasm predict <model.mdn> <data.csv> [--what params|mean|modes] [--out out.csv]

One output row per data row, in the same order. Rows stream through the model a block at a
time, so memory does not grow with the file. With --out the file appears only when complete;
on stdout, rows before an error may already be printed (the exit code says it failed).

  --what params        (default) the mixture: pi_<k>, mu_<k>_<target>, sigma_<k> for components
                       k = 0..K-1; for a diagonal model sigma_<k>_<target>, for a full one the
                       Cholesky factor of the covariance, sigma_<k>_<row target>_<column target>.
  --what mean          E[y | x], sum_k pi_k mu_k: one column per target.
  --what modes         every local mode of p(y | x) (mean-shift from each component), highest
                       density first: columns row, mode, density, then the targets; one output
                       row per mode, so a row may have several.
  --x COLS             Input columns; default the ones the model was trained on.
  -o, --out FILE       Output CSV; default stdout ("-").
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
  const delimiter = delimiterOf(v);
  await writeTo(str(v, "out"), async (out) => {
    const { model, facts, table, x: xCols } = await modelAndTable(modelPath!, dataPath!, v, "x");
    const names = targetNames(facts, model.outputDim);
    let row0 = 0;
    for await (const block of table.blocks(BLOCK_ROWS)) {
      const x = matrix(table, block, xCols);
      const header = row0 === 0;
      await out.write(
        what === "params" ? paramsCsv(model.predict(x), names, delimiter, header)
          : what === "mean" ? meanCsv(model.mean(x), names, delimiter, header)
            : modesCsv(model.modes(x), names, delimiter, header, row0),
      );
      row0 += block.rows.length;
    }
    model.dispose();
  });
  return EXIT_OK;
}

/**
 * Every field of a prediction flattened per row. Axes after the component's are target axes
 * (size D), named by target: mu_<k>_<t>, diagonal sigma_<k>_<t>, full sigma_<k>_<i>_<j>.
 */
function paramsCsv(p: Prediction, targets: string[], delimiter: string, withHeader: boolean): string {
  const fields = (["pi", "mu", "sigma"] as const).map((name) => ({ name, data: p[name], axes: (p.shapes[name] as readonly number[]).length - 2 }));
  let s = "";
  if (withHeader) {
    const header: string[] = [];
    const suffixes = (axes: number): string[] => (axes === 0 ? [""] : suffixes(axes - 1).flatMap((t) => targets.map((name) => `${t}_${name}`)));
    for (const f of fields) for (let k = 0; k < p.shapes.pi[1]; k++) for (const t of suffixes(f.axes)) header.push(`${f.name}_${k}${t}`);
    s = csvLine(header, delimiter);
  }
  const N = p.shapes.pi[0];
  const row: number[] = [];
  for (let r = 0; r < N; r++) {
    row.length = 0;
    for (const f of fields) {
      const per = f.data.length / N;
      for (let j = 0; j < per; j++) row.push(f.data[r * per + j]!);
    }
    s += csvLine(row, delimiter);
  }
  return s;
}

function meanCsv(mean: Float64Array, targets: string[], delimiter: string, withHeader: boolean): string {
  const D = targets.length;
  let s = withHeader ? csvLine(targets, delimiter) : "";
  for (let r = 0; r < mean.length / D; r++) s += csvLine(mean.subarray(r * D, (r + 1) * D), delimiter);
  return s;
}

/** Modes of rows numbered from `row0` (the block's first row in the file's data rows). */
function modesCsv(modes: RowModes[], targets: string[], delimiter: string, withHeader: boolean, row0: number): string {
  const D = targets.length;
  let s = withHeader ? csvLine(["row", "mode", "density", ...targets], delimiter) : "";
  for (const [r, m] of modes.entries()) {
    for (let j = 0; j < m.shape[0]; j++) s += csvLine([String(row0 + r), String(j), m.density[j]!, ...m.points.subarray(j * D, (j + 1) * D)], delimiter);
  }
  return s;
}
