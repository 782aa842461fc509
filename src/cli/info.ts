// mdn-wasm info: what a model file holds: the layer summary, the configuration and the facts of
// its training run.

import { type Command, type Values } from "./args.js";
import { EXIT_OK } from "./errors.js";
import { listNames } from "./io.js";
import { type Facts, factsPath, loadModel } from "./modelfile.js";
import { writeTo } from "./output.js";

const help = `Usage: mdn-wasm info <model.mdn> [--json]

Print the model's layer table and configuration (seed, standardisation) and, from the facts file
train writes beside it (model.mdn.json), how it was trained: data file, input and target columns,
rows, epochs, the best epoch and its losses, whether Ctrl-C ended training.

  --json   One JSON object { config, params, normalization, facts } instead of text.`;

export const info: Command = {
  name: "info",
  summary: "the summary and training facts of a model file",
  help,
  positionals: ["model.mdn"],
  options: { json: { type: "boolean" } },
  run: runInfo,
};

const loss = (v: number | null) => (v === null ? "n/a" : v.toFixed(4));

function factLines(f: Facts): string[] {
  const best = f.bestEpoch < 0 ? "none (stopped within the first epoch)" : `epoch ${f.bestEpoch + 1}, loss ${loss(f.loss)}${f.valLoss === null ? "" : `, val_loss ${loss(f.valLoss)}`}`;
  return [
    `inputs:     ${listNames(f.x)}`,
    `targets:    ${listNames(f.y)}`,
    `trained:    ${f.data}, ${f.rows.train} rows (${f.rows.validation} for validation), ${f.epochs} epochs in ${f.seconds.toFixed(1)} s${f.interrupted ? ", interrupted by Ctrl-C" : ""}`,
    `kept:       ${best}`,
    `created:    ${f.createdAt}`,
  ];
}

async function runInfo(v: Values, [modelPath]: string[]): Promise<number> {
  const { model, facts } = await loadModel(modelPath!);
  const normalization = model.normalization;
  let text: string;
  if (v.json) {
    const norm = normalization && Object.fromEntries(Object.entries(normalization).map(([k, a]) => [k, Array.from(a)]));
    text = JSON.stringify({ config: model.config, params: model.countParams(), normalization: norm, facts }) + "\n";
  } else {
    const lines = [
      model.summary(),
      `seed:       ${model.config.seed}`,
      `normalize:  ${normalization ? "inputs and targets standardised with the training rows' mean and sd" : "no"}`,
      ...(facts ? factLines(facts) : [`facts:      none (${factsPath(modelPath!)} is missing; --x / --y name the columns)`]),
    ];
    text = lines.join("\n") + "\n";
  }
  model.dispose();
  await writeTo(undefined, (out) => out.write(text));
  return EXIT_OK;
}
