// mdn-wasm sample: draws from p(y | x) for every row of a CSV file.

import { dataRng, type Prediction } from "../node.js";
import { type Command, int, num, str, type Values } from "./args.js";
import { writeCsv } from "./csv.js";
import { EXIT_OK } from "./errors.js";
import { CSV_HELP, CSV_OPTIONS, modelColumns, outputDelimiter, readTable, writeOutput } from "./io.js";
import { loadModel, targetNames } from "./modelfile.js";

const help = `Usage: mdn-wasm sample <model.mdn> <data.csv> [--n 10] [--temperature 1] [--out samples.csv]

Draw samples of the targets for every row's inputs. Output columns: row (0-based data row),
sample (0..n-1), then one column per target; n output rows per data row.

  -n, --n N            Samples per row, default 10.
  --temperature T      Temperature on the mixing weights, default 1: they become
                       softmax(log pi / T), so below 1 sharpens towards the likeliest component
                       and above 1 flattens towards uniform.
  --sigma-temperature S  Factor on every variance, default 1 (each sigma times sqrt(S)); 0 returns
                       the chosen component's mean.
  --seed N             Seed for the draws, default 0: the same seed gives the same samples.
  --x COLS             Input columns; default the ones the model was trained on.
  -o, --out FILE       Output CSV; default stdout.
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
  run: runSample,
};

async function runSample(v: Values, [modelPath, dataPath]: string[]): Promise<number> {
  const n = int(v, "n", 10, 1, 1e6);
  const temperature = num(v, "temperature", 1, 1e-6, 1e6);
  const sigmaTemperature = num(v, "sigma-temperature", 1, 0, 1e6);
  const seed = int(v, "seed", 0, 0);
  const { model, facts } = await loadModel(modelPath!);
  const table = await readTable(dataPath!, v);
  const { x } = modelColumns(table, v, facts, "x");
  const draws = drawSamples(model.predict(x), n, temperature, sigmaTemperature, seed);
  const names = targetNames(facts, model.outputDim);
  const D = names.length;
  const rows = function* () {
    for (let r = 0; r < table.rows.length; r++) {
      for (let s = 0; s < n; s++) {
        const at = (r * n + s) * D;
        yield [String(r), String(s), ...draws.subarray(at, at + D)];
      }
    }
  };
  model.dispose();
  await writeOutput(str(v, "out"), writeCsv(["row", "sample", ...names], rows(), outputDelimiter(v)));
  return EXIT_OK;
}

/**
 * INTERIM until model.sample (issue 6, branch feat/density) reaches this branch: (N, n, D) draws
 * from isotropic mixtures with that API's temperature semantics (weights softmax(log pi / T),
 * variances times S), through the library's exported data generator.
 */
function drawSamples(p: Prediction, n: number, temperature: number, sigmaTemperature: number, seed: number): Float32Array {
  const [N, K, D] = p.shapes.mu;
  const rng = dataRng(seed);
  const out = new Float32Array(N * n * D);
  const w = new Float64Array(K);
  for (let r = 0; r < N; r++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.log(p.pi[r * K + k]!) / temperature);
    let total = 0;
    for (let k = 0; k < K; k++) total += w[k] = Math.exp(Math.log(p.pi[r * K + k]!) / temperature - max);
    for (let s = 0; s < n; s++) {
      let u = rng.uniform() * total;
      let k = 0;
      while (k < K - 1 && (u -= w[k]!) > 0) k++;
      const sd = p.sigma[r * K + k]! * Math.sqrt(sigmaTemperature);
      for (let d = 0; d < D; d++) out[(r * n + s) * D + d] = p.mu[(r * K + k) * D + d]! + sd * rng.normal();
    }
  }
  return out;
}
