// mdn-wasm evaluate: mean negative log-likelihood of a CSV file's targets under a model, and the
// clustering scores ARI / NMI of the components against a label column when one is named.

import { adjustedRandScore, normalizedMutualInfoScore } from "../node.js";
import { choice, type Command, str, type Values } from "./args.js";
import { columnLabel, resolveColumns } from "./csv.js";
import { CliError, EXIT_OK } from "./errors.js";
import { CSV_HELP, CSV_OPTIONS, modelColumns, readTable, writeOutput } from "./io.js";
import { loadModel } from "./modelfile.js";

const help = `Usage: mdn-wasm evaluate <model.mdn> <data.csv> [options]

Mean negative log-likelihood (natural log, per row) of the target columns given the inputs.

  --x COLS, --y COLS   Input and target columns; default the ones the model was trained on
                       (by name, or by index when its training file had no header).
  --labels COL         A column of true classes (numbers or text): adds the adjusted Rand index
                       and normalised mutual information (scikit-learn's definitions) of the
                       component each row is assigned to, chosen by --assign.
  --assign pi          (default) argmax_k pi_k(x), the seed notebook's: from the inputs only.
  --assign posterior   argmax_k of the responsibilities p(k | x, y): from inputs and targets.
  --json               Print one JSON object instead of text.
${CSV_HELP}`;

export const evaluate: Command = {
  name: "evaluate",
  summary: "mean NLL of a CSV file (and ARI / NMI against a label column)",
  help,
  positionals: ["model.mdn", "data.csv"],
  options: { ...CSV_OPTIONS, x: { type: "string" }, y: { type: "string" }, labels: { type: "string" }, assign: { type: "string" }, json: { type: "boolean" } },
  run: runEvaluate,
};

async function runEvaluate(v: Values, [modelPath, dataPath]: string[]): Promise<number> {
  const assign = choice(v, "assign", ["pi", "posterior"] as const, "pi");
  const { model, facts } = await loadModel(modelPath!);
  const table = await readTable(dataPath!, v);
  const { x, y } = modelColumns(table, v, facts, "xy");
  const result: Record<string, number | string> = { rows: table.rows.length, nll: model.evaluate(x, y!) };
  const labelSpec = str(v, "labels");
  if (labelSpec !== undefined) {
    const cols = resolveColumns(table, labelSpec, "--labels");
    if (cols.length !== 1) throw new CliError(`--labels: expected one column, got ${cols.length}`);
    const c = cols[0]!;
    const truth = table.rows.map((row, r) => {
      const cell = row[c]!.trim();
      if (cell === "") throw new CliError(`${table.file}, line ${table.lines[r]}, ${columnLabel(table, c)}: missing label`);
      return cell;
    });
    const assigned = assign === "posterior" ? model.labels(x, y!) : argmaxPi(model.predict(x).pi, model.components);
    result.ari = adjustedRandScore(truth, assigned);
    result.nmi = normalizedMutualInfoScore(truth, assigned);
    result.assignment = assign === "posterior" ? "argmax of the responsibilities" : "argmax of pi";
  }
  model.dispose();
  if (v.json) {
    await writeOutput(undefined, JSON.stringify(result) + "\n");
  } else {
    const lines = [`rows      ${result.rows}`, `mean NLL  ${(result.nll as number).toFixed(6)}`];
    if (result.ari !== undefined) {
      lines.push(`ARI       ${(result.ari as number).toFixed(4)}  (components by ${result.assignment})`, `NMI       ${(result.nmi as number).toFixed(4)}`);
    }
    await writeOutput(undefined, lines.join("\n") + "\n");
  }
  return EXIT_OK;
}

function argmaxPi(pi: Float32Array, K: number): Int32Array {
  const out = new Int32Array(pi.length / K);
  for (let r = 0; r < out.length; r++) for (let k = 1; k < K; k++) if (pi[r * K + k]! > pi[r * K + out[r]!]!) out[r] = k;
  return out;
}
