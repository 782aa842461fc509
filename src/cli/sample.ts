// mdn-wasm sample: draws from p(y | x) for every row of a CSV file.

import { type Command, int, num, str, type Values } from "./args.js";
import { csvLine } from "./csv.js";
import { EXIT_OK } from "./errors.js";
import { BLOCK_ROWS, CSV_HELP, CSV_OPTIONS, delimiterOf, matrix, modelAndTable } from "./io.js";
import { targetNames } from "./modelfile.js";
import { writeTo } from "./output.js";

/** Draws per block of rows: output memory stays bounded whatever the file's length and --n. */
const DRAWS_PER_BLOCK = 1 << 16;

const help = `Usage: mdn-wasm sample <model.mdn> <data.csv> [--n 10] [--temperature 1] [--out samples.csv]

Draw samples of the targets for every row's inputs (model.sample). Output columns: row (0-based
data row), sample (0..n-1), component (the one each draw came from), then one column per target;
n output rows per data row. Rows are drawn in blocks of min(8192, floor(65536 / n)) rows (at
least one), so memory does not grow with the file: the first block's draws are model.sample's
with --seed, each later block's use a seed mixed from --seed and the block's number.

  -n, --n N            Samples per row, default 10.
  --temperature T      Temperature on the mixing weights, default 1: they become
                       softmax(log pi / T), so below 1 sharpens towards the likeliest component
                       and above 1 flattens towards uniform; 0 always takes the likeliest.
  --sigma-temperature S  Factor on every variance, default 1 (each sigma times sqrt(S)); 0 returns
                       the chosen component's mean.
  --seed N             Seed for the draws, default 0: the same seed gives the same samples.
  --x COLS             Input columns; default the ones the model was trained on.
  -o, --out FILE       Output CSV; default stdout ("-"). The file appears only when complete.
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
  flags: { "options.n": "--n", "options.temperature": "--temperature", "options.sigmaTemperature": "--sigma-temperature", "options.seed": "--seed" },
  run: runSample,
};

/** Rows per block: at most BLOCK_ROWS, and at most DRAWS_PER_BLOCK draws. */
export const blockRows = (n: number) => Math.max(1, Math.min(BLOCK_ROWS, Math.floor(DRAWS_PER_BLOCK / n)));

/**
 * The seed for block b: the given one for block 0 (so a file of one block samples exactly as
 * model.sample does), else splitmix64 of seed + b * 0x9E3779B97F4A7C15, cut to 53 bits so that it
 * is a safe integer. Blocks of one seed and the same block of nearby seeds draw unrelated streams.
 */
export function blockSeed(seed: number, block: number): number {
  if (block === 0) return seed;
  const M = (1n << 64n) - 1n;
  let z = (BigInt(seed) + BigInt(block) * 0x9e3779b97f4a7c15n) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return Number((z ^ (z >> 31n)) >> 11n);
}

async function runSample(v: Values, [modelPath, dataPath]: string[]): Promise<number> {
  const n = int(v, "n", 10, 1, 1e6);
  const temperature = num(v, "temperature", 1, 0, 1e6);
  const sigmaTemperature = num(v, "sigma-temperature", 1, 0, 1e6);
  const seed = int(v, "seed", 0, 0);
  const delimiter = delimiterOf(v);
  await writeTo(str(v, "out"), async (out) => {
    const { model, facts, table, x: xCols } = await modelAndTable(modelPath!, dataPath!, v, "x");
    const names = targetNames(facts, model.outputDim);
    const D = names.length;
    await out.write(csvLine(["row", "sample", "component", ...names], delimiter));
    let row0 = 0;
    let b = 0;
    for await (const block of table.blocks(blockRows(n))) {
      const rows = block.rows.length;
      const { samples, components } = model.sample(matrix(table, block, xCols), { n, temperature, sigmaTemperature, seed: blockSeed(seed, b++) });
      let text = "";
      for (let r = 0; r < rows; r++) {
        for (let s = 0; s < n; s++) {
          const at = (r * n + s) * D;
          text += csvLine([String(row0 + r), String(s), String(components[r * n + s]), ...samples.subarray(at, at + D)], delimiter);
        }
        if (text.length > 1 << 20) {
          await out.write(text);
          text = "";
        }
      }
      await out.write(text);
      row0 += rows;
    }
    model.dispose();
  });
  return EXIT_OK;
}
