// Keras import: a Keras MDN saved in the TensorFlow.js Layers format (model.json and its weight
// files, as tensorflowjs_converter or tfjs `model.save` write them, or the in-memory ModelArtifacts
// of a tf.io handler) becomes an MDN whose predictions are the Keras model's.
//
// What maps onto an mdn-wasm network (src/engine/network.ts):
//   InputLayer (N, I)
//   per hidden layer: Dense (relu | tanh | linear, or linear then an Activation layer),
//                     an optional Dropout, an optional BatchNormalization over the last axis
//                     (a Dropout after the batch norm is accepted too: it is the identity in
//                     inference, and mdn-wasm trains it before the batch norm)
//   the heads, either three Dense layers on the last hidden output (concatenated in any order or
//   as three outputs), told apart by activation: softmax (pi; linear logits when named by
//   options.heads), linear (mu, K*D units), exp | exponential | softplus (sigma: K units for an
//   isotropic mixture as in the seed notebook, K*D for a diagonal one);
//   or one keras-mdn-layer `MDN` layer (diagonal; pi as logits; its sigma activation is not in the
//   file and its published one, ELU + 1 + epsilon, has no equivalent here: see mdnLayerSigma).
// Keras has no floor on sigma; mdn-wasm's is options.sigmaFloor (default 1e-4), so the two agree
// wherever the Keras sigma is at least the floor.
//
// Anything else is refused with a KerasFormatError naming the layer, before a model is created.

import { DEFAULT_SIGMA_FLOOR, type MDNConfig, numberIn } from "../core/config.js";
import { describe, MdnError } from "../core/errors.js";
import type { Covariance } from "../engine/head.js";
import { type CreateOptions, MDN } from "../model/mdn.js";

export type KerasFormatErrorCode =
  | "BAD_ARTIFACTS" // not a model.json / ModelArtifacts: no topology, or a malformed weight manifest
  | "UNSUPPORTED_LAYER" // a layer class with no mdn-wasm equivalent
  | "UNSUPPORTED_ACTIVATION" // an activation with no mdn-wasm equivalent where it is used
  | "UNSUPPORTED_CONFIG" // a supported layer with an option mdn-wasm cannot represent
  | "BAD_TOPOLOGY" // the layers are not input -> hidden chain -> heads
  | "AMBIGUOUS_HEADS" // three heads that their activations do not tell apart (see options.heads)
  | "SHAPE_MISMATCH" // head widths that fit no K and D, or a weight of the wrong shape
  | "MISSING_WEIGHT" // a weight the layer needs is not in the manifest, or a weight file is missing
  | "BAD_WEIGHTS"; // weight bytes of the wrong length, a dtype other than float32, or NaN/Infinity

/** A Keras model the importer refused: its file, not an argument, is at fault. */
export class KerasFormatError extends Error {
  override readonly name = "KerasFormatError";
  constructor(
    readonly code: KerasFormatErrorCode,
    /** The Keras layer at fault, when there is one. */
    readonly layer: string | null,
    /** What was wrong, for people. */
    readonly detail: string,
  ) {
    super(`Keras model rejected (${code})${layer === null ? "" : ` at layer ${JSON.stringify(layer)}`}: ${detail}`);
  }
}

export interface KerasWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

type Bytes = ArrayBuffer | ArrayBufferView;

/** tf.io ModelArtifacts, as a tf.io handler (withSaveHandler, browserFiles, ...) gives them. */
export interface KerasArtifacts {
  modelTopology: unknown;
  weightSpecs: KerasWeightSpec[];
  weightData: Bytes | Bytes[];
}

/**
 * model.json (its text or parsed object) and its weight files: by path (the manifest's `paths`),
 * as a list in manifest order, as one buffer holding them all in that order, or a function that
 * reads a path (e.g. `(p) => readFile(join(dir, p))` in Node, or a fetch relative to the JSON).
 */
export interface KerasFiles {
  modelJson: string | object;
  weights: Bytes | Bytes[] | Record<string, Bytes> | ((path: string) => Bytes | Promise<Bytes>);
}

export interface FromKerasOptions extends CreateOptions {
  /** mdn-wasm's lower bound on sigma (Keras has none); default 1e-4. */
  sigmaFloor?: number;
  /** Seed for the new model's later training (shuffling, dropout); default drawn at random. */
  seed?: number;
  /** Name the three head layers when their activations do not tell them apart (e.g. pi as logits). */
  heads?: { pi: string; mu: string; sigma: string };
  /**
   * The sigma activation of a keras-mdn-layer `MDN` layer, which the file does not record. The
   * published layer's ELU + 1 + epsilon cannot be represented, so an MDN layer is imported only
   * when this says that it uses exp or softplus.
   */
  mdnLayerSigma?: "exp" | "softplus";
}

// ---------------------------------------------------------------------------------------------
// Topology

interface KLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Names of the layers whose outputs this one takes (one node). */
  inbound: string[];
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function bad(detail: string): KerasFormatError {
  return new KerasFormatError("BAD_ARTIFACTS", null, detail);
}

/** Layer names in an inbound node: Keras 2 lists [name, node, tensor, kwargs]; Keras 3 nests keras_history. */
function inboundNames(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    if (typeof node[0] === "string" && typeof node[1] === "number") out.push(node[0]);
    else for (const n of node) inboundNames(n, out);
  } else {
    const o = obj(node);
    const history = obj(o?.config)?.keras_history;
    if (Array.isArray(history) && typeof history[0] === "string") out.push(history[0]);
    else if (o) for (const v of Object.values(o)) inboundNames(v, out);
  }
  return out;
}

/** The model's layers in order, with inbound names filled in (a Sequential's are its predecessor). */
function readTopology(topology: unknown): { layers: KLayer[]; outputs: string[]; sequential: boolean } {
  let t = obj(topology);
  if (t && obj(t.model_config)) t = obj(t.model_config); // tensorflowjs_converter wraps the Keras JSON
  const className = t?.class_name ?? t?.className;
  if (!t || typeof className !== "string") throw bad("modelTopology is not a Keras model's JSON (no class_name)");
  const cfg = t.config;
  const list = Array.isArray(cfg) ? cfg : obj(cfg)?.layers;
  if (!Array.isArray(list) || list.length === 0) throw bad("modelTopology.config has no layers");
  const sequential = className === "Sequential";
  const layers = list.map((l: unknown, i: number): KLayer => {
    const o = obj(l);
    const config = obj(o?.config);
    const cls = o?.class_name ?? o?.className;
    const name = o?.name ?? config?.name;
    if (!o || !config || typeof cls !== "string" || typeof name !== "string") throw bad(`modelTopology layer ${i} is not { class_name, config }`);
    const nodes = Array.isArray(o.inbound_nodes) ? o.inbound_nodes : [];
    if (nodes.length > 1) throw new KerasFormatError("BAD_TOPOLOGY", name, "a layer applied more than once (shared weights)");
    return { name, className: cls, config, inbound: nodes.length ? inboundNames(nodes[0]) : [] };
  });
  if (sequential) {
    layers.forEach((l, i) => (l.inbound = i === 0 ? [] : [layers[i - 1]!.name]));
    return { layers, outputs: [layers[layers.length - 1]!.name], sequential };
  }
  const out = obj(cfg)?.output_layers;
  // [[name, 0, 0], ...], or Keras 3's bare [name, 0, 0] for a single output.
  const outputs = Array.isArray(out) ? (typeof out[0] === "string" ? [out[0]] : out.map((o) => (Array.isArray(o) ? o[0] : undefined))) : [];
  if (outputs.length === 0 || outputs.some((n) => typeof n !== "string")) throw bad("modelTopology.config.output_layers is missing or malformed");
  return { layers, outputs: outputs as string[], sequential };
}

/** An activation's name: a string, a tfjs { className }, or Keras 3's { class_name: "function", config: name }. */
function activationName(v: unknown): string {
  if (v === undefined || v === null) return "linear";
  if (typeof v === "string") return v;
  const o = obj(v);
  if (o?.class_name === "function" && typeof o.config === "string") return o.config;
  const c = o?.class_name ?? o?.className;
  return typeof c === "string" ? c : describe(v);
}

// Maps, not object literals: a layer's activation name is file content ("constructor" included).
const HIDDEN_ACTIVATIONS = new Map<string, "relu" | "tanh" | "linear">([["relu", "relu"], ["tanh", "tanh"], ["linear", "linear"]]);
const SIGMA_ACTIVATIONS = new Map<string, "exp" | "softplus">([["exp", "exp"], ["exponential", "exp"], ["softplus", "softplus"]]);

function units(l: KLayer): number {
  const u = l.config.units;
  if (typeof u !== "number" || !Number.isInteger(u) || u < 1) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, `units ${describe(u)} is not a positive integer`);
  return u;
}

interface Block {
  dense: KLayer;
  activation: "relu" | "tanh" | "linear";
  dropout: KLayer | null;
  bn: KLayer | null;
}

function hiddenActivation(l: KLayer): "relu" | "tanh" | "linear" {
  const a = activationName(l.config.activation);
  const activation = HIDDEN_ACTIVATIONS.get(a);
  if (!activation) throw new KerasFormatError("UNSUPPORTED_ACTIVATION", l.name, `hidden activation ${JSON.stringify(a)}; mdn-wasm has relu, tanh and linear`);
  return activation;
}

/** Input -> hidden blocks, from the chain of layers before the heads. */
function readHidden(chain: KLayer[]): Block[] {
  const blocks: Block[] = [];
  for (const l of chain) {
    const cur = blocks[blocks.length - 1];
    if (l.className === "InputLayer") continue;
    if (l.className === "Dense") {
      blocks.push({ dense: l, activation: hiddenActivation(l), dropout: null, bn: null });
      continue;
    }
    if (!cur) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, `a ${l.className} layer on the inputs, before any Dense layer`);
    if (l.className === "Activation") {
      const activation = hiddenActivation(l);
      if (cur.activation !== "linear" || cur.dropout || cur.bn) {
        throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, "an activation must follow a linear Dense layer directly (mdn-wasm applies it before dropout and batch norm)");
      }
      cur.activation = activation;
    } else if (l.className === "Dropout") {
      if (cur.dropout) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, "a second Dropout after one Dense layer");
      const rate = l.config.rate;
      if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, `dropout rate ${describe(rate)} outside [0, 1)`);
      if (l.config.noise_shape !== undefined && l.config.noise_shape !== null) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, "a noise_shape (mdn-wasm drops each unit independently)");
      cur.dropout = l;
    } else if (l.className === "BatchNormalization") {
      if (cur.bn) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, "a second BatchNormalization after one Dense layer");
      const axis = Array.isArray(l.config.axis) && l.config.axis.length === 1 ? l.config.axis[0] : l.config.axis ?? -1;
      if (axis !== -1 && axis !== 1) throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, `batch norm over axis ${describe(axis)}; mdn-wasm normalises the features (axis -1)`);
      cur.bn = l;
    } else {
      throw new KerasFormatError("UNSUPPORTED_LAYER", l.name, `${l.className}; mdn-wasm reads Dense, Activation, Dropout, BatchNormalization and the MDN heads`);
    }
  }
  return blocks;
}

interface Heads {
  pi: KLayer;
  mu: KLayer;
  sigma: KLayer;
  sigmaActivation: "exp" | "softplus";
}

/** Which head is which: by options.heads, else by activation (softmax pi, linear mu, exp/softplus sigma). */
function identifyHeads(dense: KLayer[], named: FromKerasOptions["heads"]): Heads {
  const act = (l: KLayer) => activationName(l.config.activation);
  const sigmaOf = (l: KLayer) => {
    const s = SIGMA_ACTIVATIONS.get(act(l));
    if (!s) throw new KerasFormatError("UNSUPPORTED_ACTIVATION", l.name, `sigma activation ${JSON.stringify(act(l))}; mdn-wasm has exp (or exponential) and softplus`);
    return s;
  };
  if (named) {
    const find = (role: string, n: unknown) => {
      const l = dense.find((d) => d.name === n);
      if (!l) throw new MdnError("INVALID_ARGUMENT", `options.heads.${role}`, `one of the head layers ${dense.map((d) => JSON.stringify(d.name)).join(", ")}`, describe(n));
      return l;
    };
    const h = { pi: find("pi", named.pi), mu: find("mu", named.mu), sigma: find("sigma", named.sigma) };
    if (new Set([h.pi, h.mu, h.sigma]).size !== 3) throw new MdnError("INVALID_ARGUMENT", "options.heads", "three different layers", "a layer named twice");
    if (act(h.pi) !== "softmax" && act(h.pi) !== "linear") throw new KerasFormatError("UNSUPPORTED_ACTIVATION", h.pi.name, `pi activation ${JSON.stringify(act(h.pi))}; expected softmax or linear logits`);
    if (act(h.mu) !== "linear") throw new KerasFormatError("UNSUPPORTED_ACTIVATION", h.mu.name, `mu activation ${JSON.stringify(act(h.mu))}; expected linear`);
    return { ...h, sigmaActivation: sigmaOf(h.sigma) };
  }
  const pick = (test: (a: string) => boolean) => dense.filter((l) => test(act(l)));
  const pis = pick((a) => a === "softmax");
  const mus = pick((a) => a === "linear");
  const rest = dense.filter((l) => !pis.includes(l) && !mus.includes(l));
  if (pis.length !== 1 || mus.length !== 1 || rest.length !== 1) {
    throw new KerasFormatError("AMBIGUOUS_HEADS", null, `head activations ${dense.map((l) => `${l.name}: ${act(l)}`).join(", ")}; expected one softmax (pi), one linear (mu) and one exp or softplus (sigma), or name them with options.heads`);
  }
  return { pi: pis[0]!, mu: mus[0]!, sigma: rest[0]!, sigmaActivation: sigmaOf(rest[0]!) };
}

/** What the topology says to build, and where each weight comes from. */
interface Plan {
  inputDim: number | null;
  blocks: Block[];
  K: number;
  D: number;
  covariance: Covariance;
  sigmaActivation: "exp" | "softplus";
  /** The three heads' layers (pi, mu, sigma), and for an MDN layer the sublayer holding each one's weights. */
  heads: Array<{ layer: KLayer; sub?: { name: string; index: number } }>;
}

function inputDimOf(l: KLayer): number | null {
  const c = l.config;
  const shape = c.batch_input_shape ?? c.batch_shape ?? c.batchInputShape;
  if (shape === undefined) return null;
  if (!Array.isArray(shape) || shape.length !== 2 || typeof shape[1] !== "number") {
    throw new KerasFormatError("UNSUPPORTED_CONFIG", l.name, `input shape ${JSON.stringify(shape)}; mdn-wasm takes (batch, features)`);
  }
  return shape[1];
}

function plan(topology: unknown, options: FromKerasOptions): Plan {
  const { layers, outputs } = readTopology(topology);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const get = (n: string, from: string) => {
    const l = byName.get(n);
    if (!l) throw new KerasFormatError("BAD_TOPOLOGY", from, `takes input from ${JSON.stringify(n)}, which is not a layer of the model`);
    return l;
  };
  const used = new Set<KLayer>();
  let headInputs: KLayer[];
  let mdnLayer: KLayer | null = null;
  const outs = outputs.map((n) => get(n, "output_layers"));
  if (outs.length === 1 && outs[0]!.className === "MDN") {
    mdnLayer = outs[0]!;
    headInputs = [mdnLayer];
  } else if (outs.length === 1 && outs[0]!.className === "Concatenate") {
    const c = outs[0]!;
    const axis = c.config.axis ?? -1;
    if (axis !== -1 && axis !== 1) throw new KerasFormatError("UNSUPPORTED_CONFIG", c.name, `concatenation over axis ${describe(axis)}`);
    used.add(c);
    headInputs = c.inbound.map((n) => get(n, c.name));
  } else {
    headInputs = outs;
  }
  if (!mdnLayer && (headInputs.length !== 3 || headInputs.some((l) => l.className !== "Dense"))) {
    const last = outs[outs.length - 1]!;
    throw new KerasFormatError("BAD_TOPOLOGY", last.name, `the model ends in ${headInputs.map((l) => l.className).join(", ")}; mdn-wasm needs three Dense heads (pi, mu, sigma), concatenated or as three outputs, or a keras-mdn-layer MDN layer`);
  }
  for (const h of headInputs) used.add(h);
  // The trunk: the one layer every head reads, then back through single-input layers to the input.
  const trunkNames = new Set(headInputs.flatMap((h) => h.inbound));
  if (trunkNames.size !== 1 || headInputs.some((h) => h.inbound.length !== 1)) {
    throw new KerasFormatError("BAD_TOPOLOGY", headInputs[0]!.name, "the heads do not all read the same single layer");
  }
  const chain: KLayer[] = [];
  let at: KLayer | undefined = get([...trunkNames][0]!, headInputs[0]!.name);
  while (at) {
    if (used.has(at)) throw new KerasFormatError("BAD_TOPOLOGY", at.name, "a cycle in the layer graph");
    chain.unshift(at);
    used.add(at);
    if (at.inbound.length > 1) throw new KerasFormatError("UNSUPPORTED_LAYER", at.name, `${at.className} with ${at.inbound.length} inputs inside the network`);
    at = at.inbound.length ? get(at.inbound[0]!, at.name) : undefined;
  }
  for (const l of layers) if (!used.has(l)) throw new KerasFormatError("BAD_TOPOLOGY", l.name, "a layer off the path from the input to the heads");
  const first = chain[0]!;
  if (first.className !== "InputLayer" && first.className !== "Dense") {
    throw new KerasFormatError("UNSUPPORTED_CONFIG", first.name, `a ${first.className} layer on the inputs, before any Dense layer`);
  }
  const inputDim = inputDimOf(first);
  const blocks = readHidden(chain);

  if (mdnLayer) {
    const D = mdnLayer.config.output_dimension;
    const K = mdnLayer.config.num_mixtures;
    if (typeof D !== "number" || typeof K !== "number" || !Number.isInteger(D) || !Number.isInteger(K) || D < 1 || K < 1) {
      throw new KerasFormatError("UNSUPPORTED_CONFIG", mdnLayer.name, "an MDN layer without positive integer output_dimension and num_mixtures");
    }
    const s = options.mdnLayerSigma;
    if (s === undefined) {
      throw new KerasFormatError("UNSUPPORTED_ACTIVATION", mdnLayer.name, "keras-mdn-layer's sigma activation, ELU(x) + 1 + epsilon, has no mdn-wasm equivalent (exp or softplus); if this MDN layer uses exp or softplus, say so with options.mdnLayerSigma");
    }
    // keras-mdn-layer lists its weights mus, sigmas, pi.
    const heads = [{ name: "mdn_pi", index: 2 }, { name: "mdn_mus", index: 0 }, { name: "mdn_sigmas", index: 1 }].map((sub) => ({ layer: mdnLayer, sub }));
    return { inputDim, blocks, K, D, covariance: "diagonal", sigmaActivation: s, heads };
  }
  const h = identifyHeads(headInputs, options.heads);
  const K = units(h.pi);
  const muUnits = units(h.mu);
  const sUnits = units(h.sigma);
  if (muUnits % K !== 0) throw new KerasFormatError("SHAPE_MISMATCH", h.mu.name, `${muUnits} mu units are not a multiple of the ${K} components (pi units)`);
  const D = muUnits / K;
  let covariance: Covariance;
  if (sUnits === K) covariance = "isotropic";
  else if (sUnits === K * D) covariance = "diagonal";
  else throw new KerasFormatError("SHAPE_MISMATCH", h.sigma.name, `${sUnits} sigma units; expected ${K} (isotropic) or ${K * D} (diagonal) for ${K} components of ${D}-D targets`);
  return { inputDim, blocks, K, D, covariance, sigmaActivation: h.sigmaActivation, heads: [{ layer: h.pi }, { layer: h.mu }, { layer: h.sigma }] };
}

// ---------------------------------------------------------------------------------------------
// Weights

function toBytes(b: unknown, what: string): Uint8Array {
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw bad(`${what} is ${describe(b)}, not bytes`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Decoded {
  shape: number[];
  data: Float32Array;
}

/**
 * Every weight, float32, by name, from the specs and their bytes in order. A name can hold several
 * weights: TensorFlow.js saves a custom layer's sublayer weights all under "<layer>/kernel" and
 * "<layer>/bias", in the order the layer lists them.
 */
function decodeWeights(specs: unknown, data: Uint8Array): Map<string, Decoded[]> {
  if (!Array.isArray(specs)) throw bad("the weight manifest is not a list of { name, shape, dtype }");
  const out = new Map<string, Decoded[]>();
  let at = 0;
  for (const s of specs as unknown[]) {
    const spec = obj(s);
    const name = spec?.name;
    const shape = spec?.shape;
    if (typeof name !== "string" || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`weight spec ${describe(s)} is not { name, shape, dtype }`);
    if (spec!.quantization !== undefined) throw new KerasFormatError("BAD_WEIGHTS", null, `${name} is quantized; convert the model without quantization`);
    if ((spec!.dtype ?? "float32") !== "float32") throw new KerasFormatError("BAD_WEIGHTS", null, `${name} has dtype ${describe(spec!.dtype)}; expected float32`);
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (at + 4 * n > data.length) throw new KerasFormatError("BAD_WEIGHTS", null, `the weight data ends inside ${name} (${data.length} bytes)`);
    const view = new DataView(data.buffer, data.byteOffset + at, 4 * n);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      values[i] = view.getFloat32(4 * i, true);
      if (!Number.isFinite(values[i]!)) throw new KerasFormatError("BAD_WEIGHTS", null, `${name}[${i}] is ${values[i]}`);
    }
    const same = out.get(name) ?? [];
    same.push({ shape: shape as number[], data: values });
    out.set(name, same);
    at += 4 * n;
  }
  if (at !== data.length) throw new KerasFormatError("BAD_WEIGHTS", null, `${data.length - at} bytes of weight data beyond the last weight in the manifest`);
  return out;
}

/** The artifacts from model.json and its weight files. */
async function fromFiles(f: KerasFiles): Promise<KerasArtifacts> {
  let json: unknown = f.modelJson;
  if (typeof json === "string") {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw bad(`model.json is not JSON (${(e as Error).message})`);
    }
  }
  const j = obj(json);
  const manifest = j?.weightsManifest;
  if (!j || !Array.isArray(manifest)) throw bad("model.json has no weightsManifest");
  const groups = manifest.map((g) => obj(g));
  if (groups.some((g) => !g || !Array.isArray(g.paths) || !Array.isArray(g.weights))) throw bad("a weightsManifest group is not { paths, weights }");
  const paths = groups.flatMap((g) => g!.paths as string[]);
  const weightSpecs = groups.flatMap((g) => g!.weights as KerasWeightSpec[]);
  const w = f.weights;
  let parts: Uint8Array[];
  if (typeof w === "function") {
    parts = await Promise.all(paths.map(async (p) => toBytes(await w(p), `the weight file ${JSON.stringify(p)}`)));
  } else if (Array.isArray(w)) {
    if (w.length !== paths.length) throw new KerasFormatError("MISSING_WEIGHT", null, `${w.length} weight files given for the ${paths.length} the manifest lists (${paths.join(", ")})`);
    parts = w.map((b, i) => toBytes(b, `the weight file ${JSON.stringify(paths[i])}`));
  } else if (w instanceof ArrayBuffer || ArrayBuffer.isView(w)) {
    parts = [toBytes(w, "weights")];
  } else {
    const files = obj(w);
    if (!files) throw new MdnError("INVALID_ARGUMENT", "source.weights", "bytes, a list of them, a record by path or a function of the path", describe(w));
    parts = paths.map((p) => {
      if (!Object.hasOwn(files, p)) throw new KerasFormatError("MISSING_WEIGHT", null, `no bytes for the weight file ${JSON.stringify(p)}`);
      return toBytes(files[p], `the weight file ${JSON.stringify(p)}`);
    });
  }
  return { modelTopology: j.modelTopology, weightSpecs, weightData: parts };
}

// ---------------------------------------------------------------------------------------------

/**
 * An MDN from a Keras model in the TensorFlow.js Layers format: tf.io ModelArtifacts (e.g. from
 * `model.save(tf.io.withSaveHandler(...))`) or model.json with its weight files. The new model
 * predicts what the Keras model predicts (sigma raised to options.sigmaFloor where Keras' is below
 * it). Throws KerasFormatError naming the layer for anything it cannot represent, MdnError for bad
 * arguments, both before any model is created.
 */
export async function fromKeras(source: KerasArtifacts | KerasFiles, options: FromKerasOptions = {}): Promise<MDN> {
  const src = obj(source);
  if (!src || !("modelJson" in src || "modelTopology" in src)) {
    throw new MdnError("INVALID_ARGUMENT", "source", "tf.io ModelArtifacts { modelTopology, weightSpecs, weightData } or { modelJson, weights }", describe(source));
  }
  if (!obj(options)) throw new MdnError("INVALID_ARGUMENT", "options", "an object", describe(options));
  const o = options;
  if (o.mdnLayerSigma !== undefined && o.mdnLayerSigma !== "exp" && o.mdnLayerSigma !== "softplus") {
    throw new MdnError("INVALID_CONFIG", "options.mdnLayerSigma", '"exp" or "softplus"', describe(o.mdnLayerSigma));
  }
  if (o.sigmaFloor !== undefined) numberIn(o.sigmaFloor, "options.sigmaFloor", 0, Infinity, true);
  if (o.heads !== undefined && !obj(o.heads)) throw new MdnError("INVALID_ARGUMENT", "options.heads", "{ pi, mu, sigma } layer names", describe(o.heads));
  const art = "modelJson" in src ? await fromFiles(src as unknown as KerasFiles) : (src as unknown as KerasArtifacts);
  const p = plan(art.modelTopology, o);
  const data = Array.isArray(art.weightData) ? concat(art.weightData.map((b) => toBytes(b, "weightData"))) : toBytes(art.weightData, "weightData");
  const weights = decodeWeights(art.weightSpecs, data);

  /**
   * Weight `part` (e.g. "kernel") of a layer: "<layer>/<part>", else the one name ending in
   * "/<layer>/<part>" (a converter's enclosing scope). An MDN layer's sublayers (`sub`: mdn_mus,
   * mdn_sigmas, mdn_pi) go by their own names, under whatever scope Keras gave them, or, saved by
   * TensorFlow.js, as the layer's `index`-th "<layer>/<part>" (keras-mdn-layer's weight order).
   */
  const weight = (layer: KLayer, part: string, shape: number[], sub?: { name: string; index: number }): Float32Array => {
    const key = sub ? `${sub.name}/${part}` : `${layer.name}/${part}`;
    let found = weights.get(key);
    if (!found) {
      const hits = [...weights.keys()].filter((n) => n.endsWith(`/${key}`));
      if (hits.length === 1) found = weights.get(hits[0]!);
    }
    let w = found?.length === 1 ? found[0] : undefined;
    if (!found && sub) w = weights.get(`${layer.name}/${part}`)?.[sub.index];
    if (found && found.length > 1) throw new KerasFormatError("BAD_WEIGHTS", layer.name, `${found.length} weights named ${JSON.stringify(key)}`);
    if (!w) throw new KerasFormatError("MISSING_WEIGHT", layer.name, `no weight ${JSON.stringify(key)} in the manifest`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new KerasFormatError("SHAPE_MISMATCH", layer.name, `${key} has shape [${w.shape}]; expected [${shape}]`);
    }
    return w.data;
  };
  const optional = (l: KLayer, part: string, present: unknown, n: number, fill: number) =>
    present === false ? new Float32Array(n).fill(fill) : weight(l, part, [n]);

  // Hidden layers, their weights in mdn-wasm's order (src/engine/network.ts planTensors).
  let inDim = p.inputDim ?? (p.blocks.length ? (weights.get(`${p.blocks[0]!.dense.name}/kernel`)?.[0]?.shape[0] ?? null) : null);
  if (inDim === null) throw new KerasFormatError("BAD_TOPOLOGY", null, "the input width is stated nowhere (no input shape)");
  const inputDim = inDim;
  const tensors: Float32Array[] = [];
  const hidden = p.blocks.map((b) => {
    const u = units(b.dense);
    tensors.push(weight(b.dense, "kernel", [inDim!, u]), optional(b.dense, "bias", b.dense.config.use_bias, u, 0));
    let batchNorm: { momentum: number; epsilon: number } | null = null;
    if (b.bn) {
      const c = b.bn.config;
      tensors.push(optional(b.bn, "gamma", c.scale, u, 1), optional(b.bn, "beta", c.center, u, 0), weight(b.bn, "moving_mean", [u]), weight(b.bn, "moving_variance", [u]));
      const momentum = c.momentum ?? 0.99;
      const epsilon = c.epsilon ?? 1e-3;
      if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1) || typeof epsilon !== "number" || !(epsilon > 0 && epsilon < Infinity)) {
        throw new KerasFormatError("UNSUPPORTED_CONFIG", b.bn.name, `momentum ${describe(momentum)} and epsilon ${describe(epsilon)}; expected momentum in [0, 1] and epsilon > 0`);
      }
      batchNorm = { momentum, epsilon };
    }
    inDim = u;
    return { units: u, activation: b.activation, dropout: (b.dropout?.config.rate as number | undefined) ?? 0, batchNorm };
  });
  const { K, D } = p;
  const H = inDim;
  const Sk = p.covariance === "isotropic" ? 1 : D;
  // The fused head (H, P) = [pi logits | mu | sigma] column blocks, bias likewise.
  const widths = [K, K * D, K * Sk];
  const P = K + K * D + K * Sk;
  const kernel = new Float32Array(H * P);
  const bias = new Float32Array(P);
  let col = 0;
  p.heads.forEach(({ layer, sub }, i) => {
    const n = widths[i]!;
    const kw = weight(layer, "kernel", [H, n], sub);
    const bw = layer.config.use_bias === false ? new Float32Array(n) : weight(layer, "bias", [n], sub);
    for (let r = 0; r < H; r++) kernel.set(kw.subarray(r * n, (r + 1) * n), r * P + col);
    bias.set(bw, col);
    col += n;
  });
  tensors.push(kernel, bias);

  const config: MDNConfig = {
    inputDim, outputDim: D, components: K, hidden, covariance: p.covariance,
    sigma: { activation: p.sigmaActivation, floor: o.sigmaFloor ?? DEFAULT_SIGMA_FLOOR },
    meanInit: "zeros",
    ...(o.seed === undefined ? {} : { seed: o.seed }),
  };
  const model = await MDN.create(config, o.module === undefined ? {} : { module: o.module });
  try {
    model.setWeights(model.getWeights().map((w, i) => ({ name: w.name, shape: w.shape, data: tensors[i]! })));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
