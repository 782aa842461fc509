// mdn-wasm evaluate: mean negative log-likelihood of a CSV file's targets under a model, and the
// clustering scores ARI / NMI of the components against a label column when one is named.

import { adjustedRandScore, normalizedMutualInfoScore } from "../node.js";
import { choice, type Command, str, type Values } from "./args.js";
import { CliError, EXIT_OK, UsageError } from "./errors.js";
import { BLOCK_ROWS, columnsOf, CSV_HELP, CSV_OPTIONS, matrix, modelAndTable } from "./io.js";
import { writeTo } from "./output.js";

const help = `Usage: mdn-wasm evaluate <model.mdn> <data.csv> [options]

Mean negative log-likelihood (natural log, per row) of the target columns given the inputs.
Rows stream through the model a block at a time (8,192 rows), so memory does not grow with the
file beyond 8 bytes a row for --labels; over several blocks the mean is their row-weighted mean,
equal to model.evaluate on all rows up to rounding.

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
  const { model, table, x: xCols, y: yCols } = await modelAndTable(modelPath!, dataPath!, v, "xy");
  const labelSpec = str(v, "labels");
  let labelCol: number | null = null;
  if (labelSpec !== undefined) {
    const cols = columnsOf(table, labelSpec, "--labels");
    if (cols.length !== 1) throw new UsageError(`--labels: expected one column, got ${cols.length}`);
    labelCol = cols[0]!;
  }
  // The mean NLL over blocks, weighted by their rows. For the scores, each row's true class as a
  // small integer (by first appearance) and its component: 8 bytes a row, not the label's text.
  let weighted = 0;
  const blockNll: number[] = [];
  const classes = new Map<string, number>();
  const truth = new Codes();
  const assigned = new Codes();
  for await (const block of table.blocks(BLOCK_ROWS)) {
    const n = block.rows.length;
    const x = matrix(table, block, xCols);
    const y = matrix(table, block, yCols!);
    const nll = model.evaluate(x, y);
    blockNll.push(nll);
    weighted += nll * n;
    if (labelCol === null) continue;
    for (let r = 0; r < n; r++) {
      const cell = block.rows[r]![labelCol]!.trim();
      if (cell === "") throw new CliError(`${table.file}, line ${block.lines[r]}, ${table.label(labelCol)}: missing label`);
      let code = classes.get(cell);
      if (code === undefined) classes.set(cell, (code = classes.size));
      truth.push(code);
    }
    assigned.pushAll(assign === "posterior" ? model.labels(x, y) : argmaxPi(model.predict(x).pi, model.components));
  }
  const rows = table.rowCount;
  // One block is model.evaluate exactly; more are its weighted mean (equal up to rounding).
  const result: Record<string, number | string> = { rows, nll: blockNll.length === 1 ? blockNll[0]! : weighted / rows };
  if (labelCol !== null) {
    result.ari = adjustedRandScore(truth.take(), assigned.take());
    result.nmi = normalizedMutualInfoScore(truth.take(), assigned.take());
    result.assignment = assign === "posterior" ? "argmax of the responsibilities" : "argmax of pi";
  }
  model.dispose();
  let text: string;
  if (v.json) {
    text = JSON.stringify(result) + "\n";
  } else {
    const lines = [`rows      ${result.rows}`, `mean NLL  ${(result.nll as number).toFixed(6)}`];
    if (result.ari !== undefined) {
      lines.push(`ARI       ${(result.ari as number).toFixed(4)}  (components by ${result.assignment})`, `NMI       ${(result.nmi as number).toFixed(4)}`);
    }
    text = lines.join("\n") + "\n";
  }
  await writeTo(undefined, (out) => out.write(text));
  return EXIT_OK;
}

/** Int32 codes appended block by block. */
class Codes {
  private data = new Int32Array(1024);
  private length = 0;
  push(v: number): void {
    if (this.length === this.data.length) this.grow(1);
    this.data[this.length++] = v;
  }
  pushAll(v: Int32Array): void {
    if (this.length + v.length > this.data.length) this.grow(v.length);
    this.data.set(v, this.length);
    this.length += v.length;
  }
  take(): Int32Array {
    return this.data.subarray(0, this.length);
  }
  private grow(extra: number): void {
    const next = new Int32Array(Math.max(this.data.length * 2, this.length + extra));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

function argmaxPi(pi: Float32Array, K: number): Int32Array {
  const out = new Int32Array(pi.length / K);
  for (let r = 0; r < out.length; r++) for (let k = 1; k < K; k++) if (pi[r * K + k]! > pi[r * K + out[r]!]!) out[r] = k;
  return out;
}
