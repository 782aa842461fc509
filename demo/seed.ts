// `npm run demo`: the seed notebook (shared/seed/000_499bd48d10606158.txt) end to end with the
// public API: data, model summary, training with live progress, clustering scores, true versus
// predicted means, predicted sigmas, and the notebook's three figures as SVG.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type NotebookResult, ROWS, runNotebook, TRAIN_ROWS } from "./notebook.js";
import { lossSpec, testDataSpec, trainingDataSpec } from "./plots.js";
import { createProgress } from "./progress.js";

const USAGE = `Usage: npm run demo -- [options]   (or: node build/demo/seed.js [options])

  --seed N     seed for the data, the initial weights, shuffling and dropout (default 0)
  --epochs N   maximum epochs (default 128, the notebook's)
  --out DIR    where the three SVG figures go (default figures/)
  --quiet      no summary and no progress; results only
  --json       print the results as one JSON object on stdout and nothing else
  --help       this text`;

interface Args {
  seed: number;
  epochs: number;
  out: string;
  quiet: boolean;
  json: boolean;
}

function intFlag(text: string, flag: string, min: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < min) throw new Error(`${flag} expects an integer >= ${min}, got "${text}"`);
  return v;
}

function readArgs(argv: string[]): Args | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seed: { type: "string", default: "0" },
      epochs: { type: "string", default: "128" },
      out: { type: "string", default: "figures" },
      quiet: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  return {
    seed: intFlag(values.seed, "--seed", 0),
    epochs: intFlag(values.epochs, "--epochs", 1),
    out: values.out,
    quiet: values.quiet,
    json: values.json,
  };
}

const FIGURES = ["mdn_training_data.svg", "mdn_test_data.svg", "mdn_loss.svg"] as const;

async function writeFigures(r: NotebookResult, out: string): Promise<string[]> {
  const x = r.data.x;
  const train = Array.from({ length: TRAIN_ROWS }, (_, i) => ({ x: x[2 * i]!, y: x[2 * i + 1]!, label: r.data.z[i]! }));
  const test = r.zPred.map((label, i) => ({ x: x[2 * (TRAIN_ROWS + i)]!, y: x[2 * (TRAIN_ROWS + i) + 1]!, label }));
  const means = r.labels.map((l) => ({ x: l.mean[0], y: l.mean[1], label: l.label }));
  const specs = [trainingDataSpec(train), testDataSpec(test, means), lossSpec(r.history.history.loss, r.history.history.val_loss ?? [])];
  // Loaded here, not at the top: vega takes most of a second to import, and --help or a bad flag should not wait.
  const { renderSvg } = await import("./render.js");
  mkdirSync(out, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < specs.length; i++) {
    const path = join(out, FIGURES[i]!);
    writeFileSync(path, await renderSvg(specs[i]!));
    paths.push(path);
  }
  return paths;
}

const f2 = (v: number) => (v < 0 ? "" : " ") + v.toFixed(2);
const pair = (p: [number, number]) => `(${f2(p[0])}, ${f2(p[1])})`;

function report(r: NotebookResult, figures: string[]): string {
  const v = r.data.variance.map((d) => d[0]);
  const lines = [
    `adjusted rand score: ${r.ari.toFixed(4)}   (argmax π on the ${r.zTest.length} test rows; the notebook printed 0.8421)`,
    `normalized MI score: ${r.nmi.toFixed(4)}   (the notebook printed 0.8402)`,
    "",
    "true vs predicted means (per predicted label, averaged over its test rows as the notebook does):",
    "  label  rows  majority cluster  true mean        predicted mean   predicted sigma",
    ...r.labels.map(
      (l) => `  ${String(l.label).padEnd(5)}  ${String(l.rows).padStart(4)}  ${String(l.majorityCluster).padEnd(16)}  ${pair(l.trueMean).padEnd(15)}  ${pair(l.mean).padEnd(15)}  ${l.sigma.toFixed(4)}`,
    ),
    "",
    "sigma is the spread of y given x, and every y is an exact cluster centre, so sigma keeps shrinking toward its",
    `floor (${r.sigmaFloor}) the longer training runs; the notebook's "true sigmas" (${v.join("/")}, in fact variances of x)`,
    "describe the spread of the inputs, so comparing the two is not like for like.",
    "",
    `figures: ${figures.join(", ")}`,
  ];
  return lines.join("\n") + "\n";
}

function toJson(r: NotebookResult, figures: string[], epochs: number, ms: number): string {
  return JSON.stringify({
    seed: r.seed,
    rows: { total: ROWS, train: TRAIN_ROWS, test: ROWS - TRAIN_ROWS },
    params: r.params,
    epochs: { max: epochs, ran: r.history.epoch.length, stoppedEpoch: r.history.stoppedEpoch ?? null },
    history: r.history.history,
    ari: r.ari,
    nmi: r.nmi,
    zTest: r.zTest,
    zPred: r.zPred,
    labels: r.labels,
    sigmaFloor: r.sigmaFloor,
    figures,
    ms: Math.round(ms),
  });
}

async function main(): Promise<number> {
  let args: Args | null;
  try {
    args = readArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const t0 = performance.now();
  const out = process.stdout;
  const talk = !args.quiet && !args.json;
  const progress = talk ? createProgress(out, args.epochs) : null;
  let last = 0;
  if (talk) {
    out.write(`mdn-wasm demo: the seed notebook end to end (seed ${args.seed})\n`);
    out.write(
      `data: ${ROWS} rows from 4 clusters, weights 0.2/0.4/0.3/0.1, centres (±2, ±2); the notebook's "std" list` +
      ` [0.5, 1, 0.5, 1] is used as the covariance diagonal, so those are variances (kept); ${TRAIN_ROWS} train / ${ROWS - TRAIN_ROWS} test\n\n`,
    );
  }
  const r = await runNotebook({
    seed: args.seed,
    epochs: args.epochs,
    onSummary: (summary) => {
      if (talk) out.write(`${summary}\n\nTrain on ${Math.floor(TRAIN_ROWS * 0.8)} samples, validate on ${TRAIN_ROWS - Math.floor(TRAIN_ROWS * 0.8)} samples\n`);
      last = performance.now();
    },
    onEpochEnd: (epoch, logs) => {
      const now = performance.now();
      progress?.epochEnd(epoch, logs, now - last);
      last = now;
    },
  });
  progress?.done(r.history.stoppedEpoch);
  const figures = await writeFigures(r, args.out);
  if (args.json) out.write(toJson(r, figures, args.epochs, performance.now() - t0) + "\n");
  else out.write((talk ? "\n" : "") + report(r, figures));
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
