// Writes the end-to-end workloads' rows as raw float32 files for the sides that are not
// JavaScript (bench/e2e/pytorch.py): <dir>/<name>.x.f32 and <name>.y.f32, plus <dir>/shapes.json.
//   node bench/e2e/data.mjs <dir>
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mixtureData, SEED, seedData, tiledData, W2, W3, W3B } from "./workloads.mjs";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node bench/e2e/data.mjs <dir>");
mkdirSync(dir, { recursive: true });
const shapes = {};
const put = (name, w, d) => {
  writeFileSync(join(dir, `${name}.x.f32`), new Uint8Array(d.x.buffer, d.x.byteOffset, d.rows * w.inputDim * 4));
  writeFileSync(join(dir, `${name}.y.f32`), new Uint8Array(d.y.buffer, d.y.byteOffset, d.rows * w.outputDim * 4));
  shapes[name] = { rows: d.rows, inputDim: w.inputDim, outputDim: w.outputDim };
};
put("seed", SEED, seedData());
put("w2", W2, mixtureData(W2));
put("w3", W3, mixtureData(W3));
put("w3b", W3B, tiledData(W3B));
writeFileSync(join(dir, "shapes.json"), JSON.stringify({ shapes, SEED, W2, W3, W3B }));
