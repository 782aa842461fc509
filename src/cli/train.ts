// mdn-wasm train: fit an MDN to columns of a CSV file and write the model file.
// The model written is the best epoch's (lowest val_loss, or loss without validation rows), also
// when Ctrl-C ends training early: the first SIGINT aborts fit after the batch in progress, the
// best weights seen so far are put back and saved, and the exit code is 130. A second Ctrl-C
// exits at once without writing.

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { MDN, type Weight } from "../node.js";
import { type Command, choice, columnSpec, int, intList, num, plural, readable, required, str, type Values } from "./args.js";
import type { Table } from "./csv.js";
import { CliError, EXIT_INTERRUPTED, EXIT_OK, isOutOfMemory, UsageError } from "./errors.js";
import { BLOCK_ROWS, columnNames, columnsOf, CSV_HELP, CSV_OPTIONS, listNames, openTable } from "./io.js";
import { type Facts, saveModel } from "./modelfile.js";
import { checkOutputPlace } from "./output.js";
import { Progress } from "./progress.js";

/** How often (wall time) training gives the event loop a turn, so Ctrl-C is seen between batches. */
const YIELD_MS = 50;

const help = `Usage: mdn-wasm train <data.csv> --y <columns> --out <model.mdn> [options]

Fit a mixture density network p(y | x) to columns of a CSV file and write the model file
(model.mdn) with the facts of the run beside it (model.mdn.json: columns, rows, losses).

  --y COLS                 Target columns (required).
  --x COLS                 Input columns; default every column not in --y, except that a column
                           holding only a few distinct integers (a label, such as a cluster id)
                           must be named in --x to be used as an input.
  -o, --out FILE           Where to write the model (required); its folder must exist. It is
                           checked before training, and replaced only when training is done.
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

Before training, the input and target columns and the row split are printed (stderr). The model
saved is the best epoch's. Progress goes to stderr: a bar on a terminal, one line per
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
  flags: {
    "config.inputDim": "--x",
    "config.outputDim": "--y",
    "config.components": "--components",
    "config.covariance": "--covariance",
    "config.hidden": "--hidden",
    "config.seed": "--seed",
    "config.normalize": "--normalize",
    "options.normalize": "--normalize",
    "options.epochs": "--epochs",
    "options.batchSize": "--batch-size",
    "options.validationSplit": "--validation-split",
    "options.optimizer.learningRate": "--learning-rate",
    "options.earlyStopping": "--patience",
  },
  run: runTrain,
};

/** A label-like column: only integers, at most this many distinct ones, each seen twice on average. */
const LABEL_DISTINCT = 10;

/** Float64 rows appended block by block (amortised doubling), for fit's (N, d) matrices. */
class Rows {
  data = new Float64Array(0);
  length = 0;
  append(values: Float64Array): void {
    if (this.length + values.length > this.data.length) {
      const grown = new Float64Array(Math.max(this.length + values.length, this.data.length * 2, 1024));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  take(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Watches defaulted input columns for label-like values (few distinct integers). */
class LabelWatch {
  private readonly seen: Array<Set<number> | null>;
  constructor(private readonly cols: number[]) {
    this.seen = cols.map(() => new Set());
  }
  add(x: Float64Array): void {
    const d = this.cols.length;
    for (let j = 0; j < d; j++) {
      const s = this.seen[j];
      if (!s) continue;
      for (let i = j; i < x.length; i += d) {
        const v = x[i]!;
        if (!Number.isInteger(v) || (s.add(v), s.size > LABEL_DISTINCT)) {
          this.seen[j] = null;
          break;
        }
      }
    }
  }
  /** The first label-like column and its values, if any. */
  found(rows: number): { col: number; values: number[] } | null {
    for (let j = 0; j < this.cols.length; j++) {
      const s = this.seen[j];
      if (s && rows >= 2 * s.size) return { col: this.cols[j]!, values: [...s].sort((a, b) => a - b) };
    }
    return null;
  }
}

/** A word to paste into a shell: single-quoted when it holds anything but plain characters. */
const shellWord = (s: string) => (/^[\w.,:+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** Read the chosen columns of every row into (N, d) float64 matrices, a block at a time. */
async function readColumns(table: Table, xCols: number[], yCols: number[], defaultX: boolean) {
  const x = new Rows();
  const y = new Rows();
  const watch = defaultX ? new LabelWatch(xCols) : null;
  const hint = defaultX ? " (the inputs are every column not in --y; name them with --x)" : "";
  for await (const block of table.blocks(BLOCK_ROWS)) {
    const xb = table.numbers(block, xCols, hint);
    watch?.add(xb);
    x.append(xb);
    y.append(table.numbers(block, yCols));
  }
  const rows = table.rowCount;
  const label = watch?.found(rows);
  if (label) {
    const others = xCols.filter((c) => c !== label.col);
    const named = (cols: number[]) => shellWord(columnSpec(columnNames(table, cols)));
    throw new UsageError(
      `train: ${table.label(label.col)} looks like a label, not an input: its ${readable(rows)} values are only the integers ${label.values.join(", ")}. ` +
      `Name the inputs with --x${others.length ? ` (e.g. --x ${named(others)})` : ""}, or --x ${named(xCols)} to use it as an input`,
    );
  }
  return { x: { data: x.take(), shape: [rows, xCols.length] as [number, number] }, y: { data: y.take(), shape: [rows, yCols.length] as [number, number] }, rows };
}

async function runTrain(v: Values, [path]: string[]): Promise<number> {
  const ySpec = required(v, "y", "train");
  const out = required(v, "out", "train");
  const components = int(v, "components", 4, 1, 1024);
  const covariance = choice(v, "covariance", ["isotropic", "diagonal", "full"] as const, "isotropic");
  const hidden = intList(v, "hidden", [32, 32], 1 << 16);
  const activation = choice(v, "activation", ["relu", "tanh", "linear"] as const, "relu");
  const epochs = int(v, "epochs", 100, 1, 1e9);
  const batchSize = int(v, "batch-size", 32, 1, 1 << 20);
  const split = num(v, "validation-split", 0.2, 0, 1, { hiOpen: true });
  const patience = str(v, "patience") === undefined ? undefined : int(v, "patience", 0, 0);
  const learningRate = num(v, "learning-rate", 1e-3, 0, Infinity, { loOpen: true });
  const seed = str(v, "seed") === undefined ? undefined : int(v, "seed", 0, 0);
  // The output place first: a bad --out must not cost a training run.
  await checkOutputPlace(out, "--out");
  await checkOutputPlace(`${out}.json`, "--out");

  const table = await openTable(path!, v);
  const yCols = columnsOf(table, ySpec, "--y");
  if (yCols.length > 256) throw new UsageError(`--y: at most 256 target columns, got ${yCols.length}`);
  const xSpec = str(v, "x");
  const xCols = xSpec === undefined ? [...Array(table.width).keys()].filter((c) => !yCols.includes(c)) : columnsOf(table, xSpec, "--x");
  if (xCols.length === 0) throw new UsageError("train: no input columns left; name them with --x");
  const both = xCols.find((c) => yCols.includes(c));
  if (both !== undefined) throw new UsageError(`train: ${table.label(both)} is in both --x and --y`);
  // The facts file finds columns again by name: a name two columns share would be a silent guess.
  for (const c of [...xCols, ...yCols]) {
    const name = table.names?.[c];
    const twin = table.names?.findIndex((n, i) => n === name && i !== c) ?? -1;
    if (twin >= 0) throw new CliError(`${table.file}: columns ${Math.min(c, twin)} and ${Math.max(c, twin)} are both named ${JSON.stringify(name)}; rename one (the model records its columns by name)`);
  }
  const { x, y, rows } = await readColumns(table, xCols, yCols, xSpec === undefined);

  // Keras's split (the last rows, before shuffling), checked here so the message names the flag.
  const trainRows = split > 0 ? Math.floor(rows * (1 - split)) : rows;
  if (split > 0 && (trainRows < 1 || trainRows >= rows)) {
    throw new CliError(
      `--validation-split ${split} on ${plural(rows, "row")} leaves ${plural(trainRows, "training row")} and ${plural(rows - trainRows, "validation row")}; ` +
      "each side needs at least one: use more rows, another split, or --validation-split 0",
    );
  }
  const xNames = columnNames(table, xCols);
  const yNames = columnNames(table, yCols);
  let model: MDN;
  try {
    model = await MDN.create({
      inputDim: xCols.length,
      outputDim: yCols.length,
      components,
      covariance,
      hidden: hidden.map((units) => ({ units, activation })),
      normalize: v.normalize === true,
      ...(seed === undefined ? {} : { seed }),
    });
  } catch (e) {
    if (!isOutOfMemory(e)) throw e;
    throw new CliError(
      `train: a model with --hidden ${hidden.join(",") || '""'}, ${plural(components, "component")} and ${plural(xCols.length, "input")} does not fit in WebAssembly memory (4 GiB at most): ${e.message}; use fewer or smaller hidden layers`,
    );
  }
  // What the run uses, printed once the model exists (so an error before stays one line).
  process.stderr.write(
    `inputs:  ${listNames(xNames)}${xSpec === undefined ? "  (every column not in --y; --x to choose)" : ""}\n` +
    `targets: ${listNames(yNames)}\n` +
    `rows:    ${readable(trainRows)} for training${split > 0 ? `, ${readable(rows - trainRows)} for validation (the last ${plural(rows - trainRows, "row")} of the file)` : ""}\n`,
  );
  const monitor = split > 0 ? "val_loss" : "loss";
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
  const facts: Facts = {
    x: xNames,
    y: yNames,
    data: path!,
    rows: { train: trainRows, validation: rows - trainRows },
    epochs: epochsRun,
    bestEpoch: kept?.epoch ?? -1,
    loss: kept?.loss ?? null,
    valLoss: kept?.valLoss ?? null,
    interrupted,
    seconds: (performance.now() - t0) / 1000,
    createdAt: new Date().toISOString(),
  };
  await saveOrRescue(out, model, facts);
  const where = kept ? `best epoch ${kept.epoch + 1}: loss ${kept.loss.toFixed(4)}${kept.valLoss === null ? "" : `, val_loss ${kept.valLoss.toFixed(4)}`}` : "stopped before the first epoch ended: weights after the last batch";
  process.stderr.write(`wrote ${out} (${where})${interrupted ? " after an interrupt" : ""}\n`);
  model.dispose();
  return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}

/**
 * Write the model where asked; if that fails now (the folder removed or the disk full during
 * training), write it to a new folder under the system's temporary one instead and say where, so
 * the training run is not lost.
 */
async function saveOrRescue(out: string, model: MDN, facts: Facts): Promise<void> {
  try {
    await saveModel(out, model, facts);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    let rescued: string;
    try {
      rescued = join(await mkdtemp(join(tmpdir(), "mdn-wasm-")), basename(out));
      await saveModel(rescued, model, facts);
    } catch {
      throw new CliError(`${e.message}; the trained model could not be saved anywhere else either`);
    }
    throw new CliError(`${e.message}; the trained model was saved to ${rescued} (and ${rescued}.json) instead: move both where you want them`);
  }
}
