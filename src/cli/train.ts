// mdn-wasm train: fit an MDN to columns of a CSV file and write the model file.
// The model written is the best epoch's (lowest val_loss, or loss without validation rows), also
// when Ctrl-C ends training early: the first SIGINT aborts fit after the batch in progress, the
// best weights seen so far are put back and saved, and the exit code is 130. A second Ctrl-C
// exits at once without writing.

import { MDN, type Weight } from "../node.js";
import { type Command, choice, int, intList, num, required, str, type Values } from "./args.js";
import { numericColumns, resolveColumns } from "./csv.js";
import { EXIT_INTERRUPTED, EXIT_OK, UsageError } from "./errors.js";
import { CSV_HELP, CSV_OPTIONS, readTable } from "./io.js";
import { saveModel } from "./modelfile.js";
import { Progress } from "./progress.js";

/** How often (wall time) training gives the event loop a turn, so Ctrl-C is seen between batches. */
const YIELD_MS = 50;

const help = `Usage: mdn-wasm train <data.csv> --y <columns> --out <model.mdn> [options]

Fit a mixture density network p(y | x) to columns of a CSV file and write the model file.
Columns are names from the header line or 0-based indices, separated by commas.

  --y COLS                 Target columns (required).
  --x COLS                 Input columns; default every column not in --y.
  -o, --out FILE           Where to write the model (required).
  -k, --components K       Mixture components, default 4.
  --covariance C           isotropic (default: one sigma per component), diagonal (one per
                           target) or full (a Cholesky factor per component).
  --hidden UNITS           Hidden layer sizes, default 32,32 ("" for none).
  --activation A           relu (default), tanh or linear.
  --epochs N               Default 100.
  --batch-size N           Default 32.
  --validation-split F     Fraction of rows, the LAST ones in the file, held out; default 0.2.
  --patience N             Stop after N epochs without a better val_loss (loss when the split is 0).
  --learning-rate F        Adam step size, default 0.001.
  --seed N                 Makes the run bit-reproducible; default drawn and stored in the file.
  --normalize              Standardise inputs and targets (mean 0, sd 1) from the training rows;
                           predictions come back in the original units.
${CSV_HELP}

The model saved is the best epoch's. Progress goes to stderr: a bar on a terminal, one line per
epoch otherwise. Ctrl-C stops after the current batch and still writes the best model so far
(exit code 130); a second Ctrl-C quits without writing.`;

export const train: Command = {
  name: "train",
  summary: "fit a model to columns of a CSV file",
  help,
  positionals: ["data.csv"],
  options: {
    ...CSV_OPTIONS,
    x: { type: "string" },
    y: { type: "string" },
    out: { type: "string", short: "o" },
    components: { type: "string", short: "k" },
    covariance: { type: "string" },
    hidden: { type: "string" },
    activation: { type: "string" },
    epochs: { type: "string" },
    "batch-size": { type: "string" },
    "validation-split": { type: "string" },
    patience: { type: "string" },
    "learning-rate": { type: "string" },
    seed: { type: "string" },
    normalize: { type: "boolean" },
  },
  run: runTrain,
};

async function runTrain(v: Values, [path]: string[]): Promise<number> {
  const ySpec = required(v, "y", "train");
  const out = required(v, "out", "train");
  const components = int(v, "components", 4, 1, 1024);
  const covariance = choice(v, "covariance", ["isotropic", "diagonal", "full"] as const, "isotropic");
  const hidden = intList(v, "hidden", [32, 32]);
  const activation = choice(v, "activation", ["relu", "tanh", "linear"] as const, "relu");
  const epochs = int(v, "epochs", 100);
  const batchSize = int(v, "batch-size", 32);
  const split = num(v, "validation-split", 0.2, 0, 1, true);
  const patience = str(v, "patience") === undefined ? undefined : int(v, "patience", 0);
  const learningRate = num(v, "learning-rate", 1e-3, 0, Infinity);
  const seed = str(v, "seed") === undefined ? undefined : int(v, "seed", 0, 0);

  const table = await readTable(path!, v);
  const yCols = resolveColumns(table, ySpec, "--y");
  const xSpec = str(v, "x");
  const xCols = xSpec === undefined ? [...Array(table.width).keys()].filter((c) => !yCols.includes(c)) : resolveColumns(table, xSpec, "--x");
  if (xCols.length === 0) throw new UsageError("train: no input columns left; name them with --x");
  const x = numericColumns(table, xCols);
  const y = numericColumns(table, yCols);

  const model = await MDN.create({
    inputDim: xCols.length,
    outputDim: yCols.length,
    components,
    covariance,
    hidden: hidden.map((units) => ({ units, activation })),
    normalize: v.normalize === true,
    ...(seed === undefined ? {} : { seed }),
  });
  const monitor = split > 0 ? "val_loss" : "loss";
  const rows = table.rows.length;
  const trainRows = split > 0 ? Math.floor(rows * (1 - split)) : rows;
  const progress = new Progress(process.stderr, epochs, Math.ceil(trainRows / batchSize));

  // Best weights by the monitored loss (Keras ModelCheckpoint save_best_only), kept here rather
  // than by fit's restoreBestWeights so that an aborted fit still has them.
  let best = null as { epoch: number; value: number; weights: Weight[]; loss: number; valLoss: number | null } | null;
  let epochsRun = 0;
  let interrupted = false;
  let lastYield = performance.now();
  let epochStart = performance.now();
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    progress.finish();
    process.stderr.write("interrupted: stopping after this batch and writing the best model so far (Ctrl-C again to quit now)\n");
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSigint);
  const t0 = performance.now();
  try {
    await model.fit(x, y, {
      epochs,
      batchSize,
      validationSplit: split,
      optimizer: { learningRate },
      ...(patience === undefined ? {} : { earlyStopping: { monitor, patience } }),
      signal: controller.signal,
      onBatchEnd: async (b, logs) => {
        progress.batch(b, logs.loss);
        if (performance.now() - lastYield > YIELD_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
      },
      onEpochEnd: (epoch, logs) => {
        epochsRun = epoch + 1;
        const value = monitor === "val_loss" ? logs.val_loss! : logs.loss;
        if (best === null || value < best.value) best = { epoch, value, weights: model.getWeights(), loss: logs.loss, valLoss: logs.val_loss ?? null };
        progress.epochEnd(epoch, logs.loss, logs.val_loss, performance.now() - epochStart);
        epochStart = performance.now();
      },
    });
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    interrupted = true;
  } finally {
    process.off("SIGINT", onSigint);
  }
  progress.finish();
  const kept = best;
  if (kept) model.setWeights(kept.weights);
  const names = (cols: number[]) => cols.map((c) => (table.names ? table.names[c]! : String(c)));
  await saveModel(out, model, {
    x: names(xCols),
    y: names(yCols),
    data: path!,
    rows: { train: trainRows, validation: rows - trainRows },
    epochs: epochsRun,
    bestEpoch: kept?.epoch ?? -1,
    loss: kept?.loss ?? null,
    valLoss: kept?.valLoss ?? null,
    interrupted,
    seconds: (performance.now() - t0) / 1000,
    createdAt: new Date().toISOString(),
  });
  const where = kept ? `best epoch ${kept.epoch + 1}: loss ${kept.loss.toFixed(4)}${kept.valLoss === null ? "" : `, val_loss ${kept.valLoss.toFixed(4)}`}` : "stopped before the first epoch ended: weights after the last batch";
  process.stderr.write(`wrote ${out} (${where})${interrupted ? " after an interrupt" : ""}\n`);
  model.dispose();
  return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}
