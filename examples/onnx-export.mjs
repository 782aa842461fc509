// ONNX export: a model trained here, written as a standard ONNX graph (input x; outputs pi, mu,
// sigma) and run by onnxruntime (here onnxruntime-web's WebAssembly build in Node; the same bytes
// serve in onnxruntime-node, Python and its servers). Needs: npm install onnxruntime-web
// Run: node examples/onnx-export.mjs
// #region onnx
import { MDN, seedClusters } from "mdn-wasm";
import { toOnnx } from "mdn-wasm/onnx";
import * as ort from "onnxruntime-web";

const { x, y } = seedClusters(512, 0);
const model = await MDN.create({ inputDim: 2, outputDim: 2, components: 4, covariance: "full", normalize: true, seed: 0 });
await model.fit({ data: x, shape: [512, 2] }, { data: y, shape: [512, 2] }, { epochs: 30, batchSize: 64 });

const bytes = toOnnx(model); // Uint8Array: save it as model.onnx, or run it directly
ort.env.wasm.numThreads = 1; // Node: no threaded build needed here
const session = await ort.InferenceSession.create(bytes);
const rows = x.subarray(0, 2 * 8); // 8 rows
const out = await session.run({ x: new ort.Tensor("float32", rows, [8, 2]) });
console.log(`onnxruntime outputs: ${session.outputNames.map((n) => `${n} [${out[n].dims.join(", ")}]`).join(", ")}`);

const mine = model.predict({ data: rows, shape: [8, 2] });
const compare = (name, a, b) => {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  console.log(`${name}: largest difference from model.predict ${(diff / scale).toExponential(1)} of its largest value`);
};
compare("pi", out.pi.data, mine.pi);
compare("mu", out.mu.data, mine.mu);
compare("sigma", out.sigma.data, mine.sigma);
console.log(`model.onnx would be ${bytes.length} bytes`);
model.dispose();
// #endregion
