// ONNX export: a trained MDN as a standard ONNX graph (ModelProto bytes) that onnxruntime (Node,
// web, Python, servers) runs as it is. The graph computes exactly what `predict` computes, from
// the public API only (config, getWeights, normalization):
//
//   x (N, I)                                         N is a dynamic batch dimension
//   [normalize]  x' = (x - x_mean) / x_std
//   per hidden layer: Gemm -> Relu | Tanh | nothing  (dropout is the identity in inference: omitted)
//                     [batch norm] (h - moving_mean) * (gamma / sqrt(moving_var + eps)) + beta
//                     as three nodes, with the scale rounded to float32 as the kernel rounds it
//   three head Gemms on the last hidden output (the fused head's column blocks):
//   pi    (N, K)        Softmax of the logits
//   mu    (N, K, D)     [normalize] mu' * y_std + y_mean, then Reshape
//   sigma               act = Exp | Softplus, Max(act, floor); [normalize] * y_std
//     isotropic (N, K); diagonal (N, K, D);
//     full (N, K, D, D): the lower triangle's diagonal activated and floored, the rest linear, zeros
//     above the diagonal, made by one Gather from [raw | activated | 0] (see fullCholesky)
//
// Opset 17 (IR version 8): every operator used has had its current definition since opset 13/14
// (Softmax over one axis, Reshape, Gemm, Pad with a pads input), and opset 17 is what exporters
// (PyTorch's for years) emit by default, so onnxruntime from 1.13 on and other runtimes
// (TensorRT, OpenVINO, onnxruntime-web) all run it; onnxruntime 1.30 runs opsets up to 23.
// Everything is float32 so that GPU providers need no fallback.

import { describe, MdnError } from "../core/errors.js";
import { SIGMA_CEILING, triIndex } from "../engine/head.js";
import { MDN, type Weight } from "../model/mdn.js";
import { ProtoWriter } from "./protobuf.js";

export const ONNX_OPSET = 17;
const IR_VERSION = 8;
// TensorProto.DataType
const FLOAT = 1;
const INT64 = 7;
// AttributeProto.AttributeType
const ATTR_INT = 2;

/** The graph under construction: nodes, initializers, and fresh names for intermediate values. */
class Graph {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  private count = 0;

  /** A node; returns its (single) output's name: `out` when given, else a fresh one. */
  node(op: string, inputs: string[], out?: string, attrs: Record<string, number> = {}): string {
    const output = out ?? `${op.toLowerCase()}_${this.count++}`;
    const w = new ProtoWriter();
    for (const i of inputs) w.string(1, i);
    w.string(2, output).string(3, output).string(4, op);
    for (const [name, v] of Object.entries(attrs)) w.message(5, (a) => a.string(1, name).int(20, ATTR_INT).int(3, v));
    this.nodes.push(w);
    return output;
  }

  /** A float32 initializer; returns its name. */
  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    const f = Float32Array.from(data);
    return this.tensor(name, dims, FLOAT, new Uint8Array(f.buffer));
  }

  /** An int64 initializer (shapes, pads, gather indices); returns its name. */
  int64s(name: string, data: readonly number[]): string {
    const b = new BigInt64Array(data.map((v) => BigInt(v)));
    return this.tensor(name, [data.length], INT64, new Uint8Array(b.buffer));
  }

  private tensor(name: string, dims: number[], type: number, raw: Uint8Array): string {
    // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian, as typed arrays are
    // on every platform JavaScript runs on).
    this.initializers.push(new ProtoWriter().ints(1, dims).int(2, type).string(8, name).bytes(9, raw));
    return name;
  }
}

/** ValueInfoProto for a float tensor whose first dimension is the batch "N". */
function valueInfo(w: ProtoWriter, name: string, dims: number[], doc: string): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT);
      tensor.message(2, (shape) => {
        shape.message(1, (d) => d.string(2, "N"));
        for (const v of dims) shape.message(1, (d) => d.int(1, v));
      });
    }),
  );
  w.string(3, doc);
}

/** Columns [from, from + n) of a row-major (rows, cols) matrix. */
function columns(m: Float32Array, rows: number, cols: number, from: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols + from, r * cols + from + n), r * n);
  return out;
}

/** A (D) vector repeated K times: per-dimension constants over mu's (K * D) columns. */
function tile(v: Float32Array, K: number): Float32Array {
  const out = new Float32Array(K * v.length);
  for (let k = 0; k < K; k++) out.set(v, k * v.length);
  return out;
}

/**
 * The full covariance's L (N, K*D*D) from the raw sigma block s (N, K*T) and its activated,
 * floored copy a (N, K*T): entry (k, i, j) is a[k, tri(i, j)] on the diagonal, s[k, tri(i, j)]
 * below it and 0 above, gathered in one node from [s | a | 0].
 */
function fullCholesky(g: Graph, s: string, a: string, K: number, D: number): string {
  const T = (D * (D + 1)) / 2;
  const zero = 2 * K * T;
  const index: number[] = [];
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) index.push(j > i ? zero : (i === j ? K * T : 0) + k * T + triIndex(i, j));
    }
  }
  const both = g.node("Concat", [s, a], undefined, { axis: 1 });
  const padded = g.node("Pad", [both, g.int64s("pad_one_zero_column", [0, 0, 0, 1])]);
  return g.node("Gather", [padded, g.int64s("cholesky_index", index)], undefined, { axis: 1 });
}

/**
 * The model as ONNX bytes (a ModelProto): input "x" (N, inputDim), outputs "pi" (N, K), "mu"
 * (N, K, D) and "sigma" shaped as `predict` returns it for the model's covariance type, all float32.
 * Throws MdnError INVALID_ARGUMENT for anything but a live MDN.
 */
export function toOnnx(model: MDN): Uint8Array {
  if (!(model instanceof MDN)) throw new MdnError("INVALID_ARGUMENT", "model", "an MDN", describe(model));
  const weights = new Map<string, Weight>(model.getWeights().map((w) => [w.name, w]));
  const cfg = model.config;
  const norm = model.normalization;
  const { inputDim: I, outputDim: D, components: K, covariance, sigma } = cfg;
  const w = (name: string) => weights.get(name)!;
  const g = new Graph();

  let h = "x";
  if (norm) h = g.node("Div", [g.node("Sub", [h, g.floats("x_mean", [I], norm.xMean)]), g.floats("x_std", [I], norm.xStd)], "x_standardized");
  let bn = 0;
  cfg.hidden.forEach((layer, i) => {
    const name = `dense_${i + 1}`;
    const kernel = w(`${name}/kernel`);
    h = g.node("Gemm", [h, g.floats(kernel.name, kernel.shape, kernel.data), g.floats(`${name}/bias`, [layer.units], w(`${name}/bias`).data)], name);
    if (layer.activation !== "linear") h = g.node(layer.activation === "relu" ? "Relu" : "Tanh", [h], `${name}/${layer.activation}`);
    if (layer.batchNorm) {
      const b = `batch_normalization_${++bn}`;
      const gamma = w(`${b}/gamma`).data;
      const variance = w(`${b}/moving_variance`).data;
      const eps = Math.fround(layer.batchNorm.epsilon);
      // assembly/batchnorm.ts: scale = gamma / sqrt(moving_var + eps), each step in float32.
      const scale = gamma.map((gm, c) => Math.fround(gm / Math.fround(Math.sqrt(Math.fround(variance[c]! + eps)))));
      const centred = g.node("Sub", [h, g.floats(`${b}/moving_mean`, [layer.units], w(`${b}/moving_mean`).data)]);
      const scaled = g.node("Mul", [centred, g.floats(`${b}/scale`, [layer.units], scale)]);
      h = g.node("Add", [scaled, g.floats(`${b}/beta`, [layer.units], w(`${b}/beta`).data)], b);
    }
  });

  // The fused head's kernel (H, P) and bias (P) hold [pi logits (K) | mu (K*D) | sigma block (K*Sk)].
  const head = w("mixture/kernel");
  const [H, P] = head.shape as [number, number];
  const bias = w("mixture/bias").data;
  const block = (label: string, from: number, n: number) =>
    g.node("Gemm", [h, g.floats(`${label}/kernel`, [H, n], columns(head.data, H, P, from, n)), g.floats(`${label}/bias`, [n], bias.subarray(from, from + n))], label);
  const S = P - K - K * D;
  const logits = block("pi_logits", 0, K);
  let mu = block("mu_raw", K, K * D);
  const s = block("sigma_raw", K + K * D, S);

  g.node("Softmax", [logits], "pi", { axis: 1 });

  if (norm) mu = g.node("Add", [g.node("Mul", [mu, g.floats("y_std_tiled", [K * D], tile(norm.yStd, K))]), g.floats("y_mean_tiled", [K * D], tile(norm.yMean, K))]);
  g.node("Reshape", [mu, g.int64s("mu_shape", [-1, K, D])], "mu");

  const act = g.node(sigma.activation === "exp" ? "Exp" : "Softplus", [s]);
  const floored = g.node("Max", [act, g.floats("sigma_floor", [], [sigma.floor])], "sigma_floored");
  // The kernels' ceiling (src/engine/head.ts SIGMA_CEILING) after the floor, exactly where they apply it.
  let sig = g.node("Min", [floored, g.floats("sigma_ceiling", [], [SIGMA_CEILING])], "sigma_bounded");
  let dims: number[];
  if (covariance === "isotropic") {
    if (norm) sig = g.node("Mul", [sig, g.floats("y_std_shared", [], [norm.yStd[0]!])]);
    g.node("Identity", [sig], "sigma");
    dims = [K];
  } else if (covariance === "diagonal") {
    if (norm) sig = g.node("Mul", [sig, g.floats("y_std_sigma", [K * D], tile(norm.yStd, K))]);
    g.node("Reshape", [sig, g.int64s("sigma_shape", [-1, K, D])], "sigma");
    dims = [K, D];
  } else {
    // L's off-diagonal entries are linear, within +-SIGMA_CEILING as in the kernels.
    const offDiagonal = g.node("Clip", [s, g.floats("l_min", [], [-SIGMA_CEILING]), g.floats("l_max", [], [SIGMA_CEILING])]);
    let L = fullCholesky(g, offDiagonal, sig, K, D);
    // Row i of each L scales by y_std[i] (src/engine/normalize.ts unscaleHead); zeros stay zero.
    if (norm) L = g.node("Mul", [L, g.floats("y_std_rows", [K * D * D], Array.from({ length: K * D * D }, (_, e) => norm.yStd[Math.floor(e / D) % D]!))]);
    g.node("Reshape", [L, g.int64s("sigma_shape", [-1, K, D, D])], "sigma");
    dims = [K, D, D];
  }

  const sigmaDoc = {
    isotropic: "standard deviation per component (N, K); covariance sigma^2 I",
    diagonal: "standard deviations per component and dimension (N, K, D); covariance diag(sigma^2)",
    full: "Cholesky factor L per component (N, K, D, D), lower triangular; covariance L L^T",
  }[covariance];
  const graph = (gw: ProtoWriter) => {
    for (const n of g.nodes) gw.bytes(1, n.finish());
    gw.string(2, "mdn");
    for (const t of g.initializers) gw.bytes(5, t.finish());
    gw.message(11, (v) => valueInfo(v, "x", [I], "inputs (N, inputDim), original units"));
    gw.message(12, (v) => valueInfo(v, "pi", [K], "mixing weights (N, K); rows sum to 1"));
    gw.message(12, (v) => valueInfo(v, "mu", [K, D], "component means (N, K, D)"));
    gw.message(12, (v) => valueInfo(v, "sigma", dims, sigmaDoc));
  };
  const meta = { covariance, components: String(K), inputDim: String(I), outputDim: String(D), config: JSON.stringify(cfg) };
  const m = new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, "mdn-wasm")
    .string(6, `Mixture density network p(y | x): ${K} ${covariance} Gaussian components over ${D}-D targets`)
    .message(7, graph)
    .message(8, (o) => o.string(1, "").int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(meta)) m.message(14, (e) => e.string(1, `mdn-wasm.${key}`).string(2, value));
  return m.finish();
}
