// mdn-wasm/onnx: ONNX export, an entry of its own so that the default entry stays within its size
// budget for apps that never export.
//
//   import { toOnnx } from "mdn-wasm/onnx";
//   const bytes = toOnnx(model);          // run it with onnxruntime: outputs pi, mu, sigma

export { ONNX_OPSET, toOnnx } from "./interop/onnx.js";
