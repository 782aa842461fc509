// mdn-wasm export: a model file as an ONNX graph (mdn-wasm/onnx's toOnnx), for onnxruntime and
// the servers and runtimes that read ONNX.

import { rename, writeFile } from "node:fs/promises";
import { loadFile } from "../node.js";
import { ONNX_OPSET, toOnnx } from "../onnx.js";
import { type Command, required, type Values } from "./args.js";
import { CliError, EXIT_OK } from "./errors.js";

const help = `Usage: mdn-wasm export <model.mdn> --onnx <out.onnx>

Write the model as an ONNX graph (opset ${ONNX_OPSET}) that onnxruntime runs (Node, web, Python,
servers): input x (N, inputs) in original units; outputs pi (N, K), mu (N, K, D) and sigma as
predict gives it: (N, K) isotropic, (N, K, D) diagonal, (N, K, D, D) Cholesky factor for full.
Standardisation, batch norm and the sigma floor are in the graph; dropout is not (inference).

  --onnx FILE   Where to write the ONNX model.`;

export const exportCommand: Command = {
  name: "export",
  summary: "a model file as an ONNX graph for onnxruntime",
  help,
  positionals: ["model.mdn"],
  options: { onnx: { type: "string" } },
  run: runExport,
};

async function runExport(v: Values, [modelPath]: string[]): Promise<number> {
  const out = required(v, "onnx", "export");
  let model;
  try {
    model = await loadFile(modelPath!);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${modelPath}: ${typeof code === "string" && code.startsWith("E") ? `cannot read the model file (${code})` : (e as Error).message}`);
  }
  const bytes = toOnnx(model);
  const { inputDim, outputDim: D, components: K, covariance } = model.config;
  model.dispose();
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, out);
  } catch (e) {
    throw new CliError(`${out}: cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const sigma = covariance === "isotropic" ? `(N, ${K})` : covariance === "diagonal" ? `(N, ${K}, ${D})` : `(N, ${K}, ${D}, ${D})`;
  process.stdout.write(`wrote ${out} (${bytes.length} bytes, ONNX opset ${ONNX_OPSET}): input x (N, ${inputDim}); outputs pi (N, ${K}), mu (N, ${K}, ${D}), sigma ${sigma}\n`);
  return EXIT_OK;
}
