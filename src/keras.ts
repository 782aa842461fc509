// mdn-wasm/keras: Keras (TensorFlow.js Layers format) import, an entry of its own so that the
// default entry stays within its size budget for apps that never import.
//
//   import { fromKeras } from "mdn-wasm/keras";
//   const model = await fromKeras(artifacts);                        // tf.io ModelArtifacts
//   const model = await fromKeras({ modelJson, weights: (path) => readFile(join(dir, path)) });

export { fromKeras, KerasFormatError } from "./interop/keras.js";
export type { FromKerasOptions, KerasArtifacts, KerasFiles, KerasFormatErrorCode, KerasWeightSpec } from "./interop/keras.js";
