// mdn-wasm info: what a model file holds: the layer summary, the configuration and the facts of
// its training run.

import { type Command, type Values } from "./args.js";
import { EXIT_OK } from "./errors.js";
import { writeOutput } from "./io.js";
import { loadModel } from "./modelfile.js";

const help = `Usage: mdn-wasm info <model.mdn> [--json]

Print the model's layer table, its configuration and how it was trained: data file, input and
target columns, rows, epochs, the best epoch and its losses, whether Ctrl-C ended training.

  --json   One JSON object { config, params, facts } instead of text.`;

export const info: Command = {
  name: "info",
  summary: "the summary and training facts stored in a model file",
  help,
  positionals: ["model.mdn"],
  options: { json: { type: "boolean" } },
  run: runInfo,
};

async function runInfo(v: Values, [modelPath]: string[]): Promise<number> {
  const { model, facts } = await loadModel(modelPath!);
  let text: string;
  if (v.json) {
    text = JSON.stringify({ config: model.config, params: model.countParams(), facts }) + "\n";
  } else {
    const f = facts;
    const lines = [
      model.summary(),
      `inputs:   ${f.x.join(", ")}`,
      `targets:  ${f.y.join(", ")}`,
      `trained:  ${f.data}, ${f.rows.train} rows (${f.rows.validation} for validation), ${f.epochs} epochs in ${f.seconds.toFixed(1)} s${f.interrupted ? ", interrupted by Ctrl-C" : ""}`,
      `best:     ${f.bestEpoch < 0 ? "none (stopped within the first epoch)" : `epoch ${f.bestEpoch + 1}, loss ${f.loss.toFixed(4)}${f.valLoss === null ? "" : `, val_loss ${f.valLoss.toFixed(4)}`}`}`,
      `seed:     ${model.config.seed}`,
      `created:  ${f.createdAt}`,
    ];
    text = lines.join("\n") + "\n";
  }
  model.dispose();
  await writeOutput(undefined, text);
  return EXIT_OK;
}
