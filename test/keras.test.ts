// Keras import (mdn-wasm/keras): models built and trained in @tensorflow/tfjs-layers, saved in the
// TensorFlow.js Layers format (tf.io.withSaveHandler gives the artifacts without a filesystem),
// imported, and their predictions matched; and every shape of model the importer cannot
// represent refused with a KerasFormatError naming the layer.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import { fromKeras, type FromKerasOptions, type KerasArtifacts, KerasFormatError, type KerasFormatErrorCode } from "../src/keras.js";
import { MDN, MdnError, seedClusters } from "../src/index.js";
import { testRng } from "./util.js";

/** Keras' `exponential` activation (tfjs-layers has none): the seed notebook's K.exp. */
class Exponential extends tf.serialization.Serializable {
  static className = "exponential";
  apply(x: tf.Tensor): tf.Tensor {
    return tf.exp(x);
  }
  getConfig() {
    return {};
  }
  override getClassName() {
    return "exponential";
  }
}

/**
 * A keras-mdn-layer `MDN` layer as TensorFlow.js would run it: three Dense sublayers, output
 * [mus | sigmas | pi logits], config { output_dimension, num_mixtures }. Its sigma activation is a
 * constructor argument here so that the representable variants can be tested.
 */
class MdnLayer extends tfl.layers.Layer {
  static className = "MDN";
  private readonly D: number;
  private readonly K: number;
  private readonly subs: tfl.layers.Layer[];
  constructor(cfg: { output_dimension: number; num_mixtures: number; sigma?: string; name?: string }) {
    super(cfg);
    this.D = cfg.output_dimension;
    this.K = cfg.num_mixtures;
    const sigma = (cfg.sigma ?? "softplus") as "softplus";
    this.subs = [
      tfl.layers.dense({ units: this.K * this.D, name: "mdn_mus" }),
      tfl.layers.dense({ units: this.K * this.D, activation: sigma, name: "mdn_sigmas" }),
      tfl.layers.dense({ units: this.K, name: "mdn_pi" }),
    ];
  }
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    for (const l of this.subs) l.build(inputShape);
    this.built = true;
  }
  override get trainableWeights() {
    return this.subs.flatMap((l) => l.trainableWeights);
  }
  override get nonTrainableWeights() {
    return [];
  }
  override get weights() {
    return this.trainableWeights;
  }
  override computeOutputShape(s: tfl.Shape): tfl.Shape {
    return [s[0]!, 2 * this.K * this.D + this.K];
  }
  override call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const i = Array.isArray(x) ? x[0]! : x;
      return tf.concat(this.subs.map((l) => l.apply(i) as tf.Tensor), -1);
    });
  }
  override getConfig() {
    return { ...super.getConfig(), output_dimension: this.D, num_mixtures: this.K };
  }
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.serialization.registerClass(Exponential as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(MdnLayer);
});

async function save(model: tfl.LayersModel): Promise<KerasArtifacts> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  return art as unknown as KerasArtifacts;
}

/**
 * The seed notebook's loss, as written there (linear-space density, + 1e-8, clamp at 0). TensorFlow.js
 * wants targets shaped as the output, so y arrives in the first D of P columns.
 */
function notebookLoss(K: number, D: number) {
  return (yPadded: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const yTrue = tf.slice(yPadded, [0, 0], [-1, D]);
      const mu = tf.reshape(tf.slice(yPred, [0, 0], [-1, K * D]), [-1, K, D]);
      const sigma = tf.slice(yPred, [0, K * D], [-1, K]);
      const pi = tf.slice(yPred, [0, K * (D + 1)], [-1, K]);
      const sigmaTile = tf.stack(Array(D).fill(sigma), 2);
      const yTile = tf.stack(Array(K).fill(yTrue), 1);
      let r = tf.div(tf.sub(yTile, mu), tf.add(sigmaTile, 1e-8));
      r = tf.div(tf.neg(tf.square(r)), 2);
      r = tf.mul(tf.mul(tf.exp(r), tf.div(1, tf.add(sigmaTile, 1e-8))), 1 / Math.sqrt(2 * Math.PI));
      // K.prod over D, as a chain of products (tfjs' prod gradient needs its chained ops registered).
      const dens = tf.sum(tf.mul(tf.unstack(r, 2).reduce((a, b) => tf.mul(a, b)), pi), 1, true);
      return tf.maximum(tf.mean(tf.neg(tf.log(tf.add(dens, 1e-8)))), 0);
    });
}

/** The seed notebook's network (Input 2 -> 2 x [Dense 32 relu, Dropout 0.2, BN] -> mu 8, sigma 4 exp, pi 4 softmax). */
function seedKerasModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [2] });
  let h = input as tfl.SymbolicTensor;
  for (let i = 0; i < 2; i++) {
    h = tfl.layers.dense({ units: 32, activation: "relu" }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dropout({ rate: 0.2, seed: i + 1 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
  }
  const mu = tfl.layers.dense({ units: 8, activation: "linear" }).apply(h) as tfl.SymbolicTensor;
  const sigma = tfl.layers.dense({ units: 4, activation: "exponential" as "linear" }).apply(h) as tfl.SymbolicTensor;
  const pi = tfl.layers.dense({ units: 4, activation: "softmax" }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.concatenate({ axis: -1 }).apply([mu, sigma, pi]) as tfl.SymbolicTensor;
  return seeded(tfl.model({ inputs: input, outputs: out }), 1);
}

/**
 * Glorot-uniform kernels and zero biases from a seeded generator (tfjs' initializers draw from
 * Math.random), so that a test trains the same model every run.
 */
function seeded(model: tfl.LayersModel, seed: number): tfl.LayersModel {
  const r = testRng(seed);
  model.setWeights(model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const limit = shape.length === 2 ? Math.sqrt(6 / (shape[0]! + shape[1]!)) : 0;
    const fill = w.name.includes("gamma") || w.name.includes("moving_variance") ? 1 : 0;
    return tf.tensor(Float32Array.from({ length: n }, () => (limit ? limit * (2 * r() - 1) : fill)), shape);
  }));
  return model;
}

/** Keras' prediction split as mdn-wasm's: (N, P) columns at the given offsets, softmax applied when asked. */
function kerasPredict(model: tfl.LayersModel, x: Float32Array, I: number): Float32Array[] {
  const outs = model.predict(tf.tensor2d(x, [x.length / I, I])) as tf.Tensor | tf.Tensor[];
  return (Array.isArray(outs) ? outs : [outs]).map((t) => t.dataSync() as Float32Array);
}

function columns(m: Float32Array, cols: number, from: number, n: number): Float32Array {
  const rows = m.length / cols;
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols + from, r * cols + from + n), r * n);
  return out;
}

function softmaxRows(logits: Float32Array, K: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / K; r++) {
    const row = Array.from(logits.subarray(r * K, (r + 1) * K));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => (out[r * K + k] = v / s));
  }
  return out;
}

/** 1e-5 relative plus 1e-6 of the tensor's largest magnitude; returns the max relative error over entries above 1% of it. */
function expectMatch(got: ArrayLike<number>, want: ArrayLike<number>, label: string): number {
  expect(got.length, label).toBe(want.length);
  let max = 0;
  for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i]!));
  let rel = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= 1e-5 * Math.abs(want[i]!) + 1e-6 * max)) throw new Error(`${label}: first bad index ${i}: got ${got[i]}, want ${want[i]}, error ${err}`);
    if (Math.abs(want[i]!) >= 1e-2 * max) rel = Math.max(rel, err / Math.abs(want[i]!));
  }
  return rel;
}

function probe(n: number, I: number, seed: number): Float32Array {
  const r = testRng(seed);
  return Float32Array.from({ length: n * I }, () => 4 * r() - 2);
}

/** Imports and checks pi, mu, sigma against Keras' own (already split) outputs. */
async function expectImportMatches(art: unknown, x: Float32Array, I: number, want: { pi: Float32Array; mu: Float32Array; sigma: Float32Array }, label: string, options: FromKerasOptions = {}): Promise<MDN> {
  const m = await fromKeras(art as KerasArtifacts, options);
  const p = m.predict({ data: x, shape: [x.length / I, I] });
  const rel = (["pi", "mu", "sigma"] as const).map((k) => `${k} ${expectMatch(p[k], want[k], `${label} ${k}`).toExponential(1)}`);
  console.log(`keras ${label}: max rel error ${rel.join(", ")}`);
  return m;
}

async function expectRejected(art: unknown, code: KerasFormatErrorCode, layer: string | null, options: FromKerasOptions = {}): Promise<KerasFormatError> {
  const e = await fromKeras(art as KerasArtifacts, options).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(KerasFormatError);
  expect((e as KerasFormatError).code).toBe(code);
  expect((e as KerasFormatError).layer).toBe(layer);
  if (layer !== null) expect((e as Error).message).toContain(JSON.stringify(layer));
  return e as KerasFormatError;
}

/** The layer named like `prefix` (tfjs numbers layers globally, so names differ run to run). */
function layerName(model: tfl.LayersModel, className: string, nth = 0): string {
  return model.layers.filter((l) => l.getClassName() === className)[nth]!.name;
}

describe("Keras import", () => {
  let seedModel: tfl.LayersModel;
  let seedArt: KerasArtifacts;
  const xTest = new Float32Array(0);
  let xt = xTest;

  beforeAll(async () => {
    // The seed task: its data, its network, its loss and optimiser, a few epochs.
    const d = seedClusters(1024, 4);
    seedModel = seedKerasModel();
    seedModel.compile({ loss: notebookLoss(4, 2), optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8) });
    const yPadded = tf.pad(tf.tensor2d(d.y.subarray(0, 1024), [512, 2]), [[0, 0], [0, 14]]);
    await seedModel.fit(tf.tensor2d(d.x.subarray(0, 1024), [512, 2]), yPadded, { epochs: 16, batchSize: 128, shuffle: false, verbose: 0 });
    seedArt = await save(seedModel);
    xt = d.x.slice(1024);
  });

  it("imports the seed notebook's model trained in TensorFlow.js, predictions within 1e-5", async () => {
    const out = kerasPredict(seedModel, xt, 2)[0]!;
    const want = { mu: columns(out, 16, 0, 8), sigma: columns(out, 16, 8, 4), pi: columns(out, 16, 12, 4) };
    expect(Math.min(...want.sigma)).toBeGreaterThan(1e-4); // above the floor, where the two agree
    const m = await expectImportMatches(seedArt, xt, 2, want, "seed model");
    // The seed's configuration, as mdn-wasm spells it.
    expect(m.config).toMatchObject({
      inputDim: 2, outputDim: 2, components: 4, covariance: "isotropic", sigma: { activation: "exp", floor: 1e-4 },
      hidden: [
        { units: 32, activation: "relu", dropout: 0.2, batchNorm: { momentum: 0.99, epsilon: 1e-3 } },
        { units: 32, activation: "relu", dropout: 0.2, batchNorm: { momentum: 0.99, epsilon: 1e-3 } },
      ],
    });
    // It trains on as any model does.
    const d = seedClusters(64, 9);
    const h = await m.fit({ data: d.x, shape: [64, 2] }, { data: d.y, shape: [64, 2] }, { epochs: 2 });
    expect(h.history.loss.length).toBe(2);
    expect(h.history.loss.every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  it("reads model.json with its weight files by path, as a list, as one buffer or through a function", async () => {
    const bytes = new Uint8Array(seedArt.weightData as ArrayBuffer);
    const cut = 1000;
    const paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    const modelJson = JSON.stringify({ format: "layers-model", generatedBy: "test", convertedBy: null, modelTopology: seedArt.modelTopology, weightsManifest: [{ paths, weights: seedArt.weightSpecs }] });
    const shards = [bytes.slice(0, cut), bytes.slice(cut)];
    const want = (await fromKeras(seedArt)).predict({ data: xt, shape: [512, 2] });
    const forms = [
      { [paths[0]!]: shards[0]!, [paths[1]!]: shards[1]!.buffer },
      shards,
      bytes,
      async (p: string) => shards[paths.indexOf(p)]!,
    ];
    for (const weights of forms) {
      const m = await fromKeras({ modelJson, weights });
      const p = m.predict({ data: xt, shape: [512, 2] });
      expect(p.mu).toEqual(want.mu);
      expect(p.sigma).toEqual(want.sigma);
      m.dispose();
    }
    await expectRejected({ modelJson, weights: { [paths[0]!]: shards[0]! } }, "MISSING_WEIGHT", null);
    await expectRejected({ modelJson, weights: [shards[0]!] }, "MISSING_WEIGHT", null);
    await expectRejected({ modelJson, weights: bytes.subarray(0, bytes.length - 4) }, "BAD_WEIGHTS", null);
    await expectRejected({ modelJson: "{", weights: bytes }, "BAD_ARTIFACTS", null);
  });

  it("reads the converter's wrapped topology and Keras 3's inbound nodes", async () => {
    const topo = JSON.parse(JSON.stringify(seedArt.modelTopology)) as { config: { layers: Array<{ inbound_nodes: unknown[] }> } };
    for (const l of topo.config.layers) {
      l.inbound_nodes = l.inbound_nodes.map((node) => {
        const hist = (node as Array<[string, number, number]>).map(([n, a, b]) => ({ class_name: "__keras_tensor__", config: { shape: [null, 2], dtype: "float32", keras_history: [n, a, b] } }));
        return { args: hist.length === 1 ? hist : [hist], kwargs: {} };
      });
    }
    const wrapped = { modelTopology: { keras_version: "3.5.0", backend: "tensorflow", model_config: { class_name: "Functional", config: topo.config } }, weightSpecs: seedArt.weightSpecs, weightData: seedArt.weightData };
    const want = (await fromKeras(seedArt)).predict({ data: xt, shape: [512, 2] });
    const m = await fromKeras(wrapped);
    expect(m.predict({ data: xt, shape: [512, 2] }).pi).toEqual(want.pi);
    m.dispose();
  });

  it("imports softplus diagonal heads as three outputs, tanh, an Activation layer, batch norm without centre or scale, heads without bias", async () => {
    const input = tfl.input({ shape: [3] });
    let h = tfl.layers.dense({ units: 7, activation: "tanh" }).apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization({ center: false, scale: false, epsilon: 0.01, momentum: 0.9 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 6 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.activation({ activation: "relu" }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dropout({ rate: 0.1 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
    const K = 3, D = 2;
    const pi = tfl.layers.dense({ units: K, activation: "softmax", useBias: false }).apply(h) as tfl.SymbolicTensor;
    const mu = tfl.layers.dense({ units: K * D }).apply(h) as tfl.SymbolicTensor;
    const sigma = tfl.layers.dense({ units: K * D, activation: "softplus" }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: [pi, mu, sigma] });
    // Random weights, moving statistics included (tfjs cannot train a batch norm without scale).
    const r = testRng(3);
    model.setWeights(model.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const variance = w.name.includes("moving_variance");
      return tf.tensor(Float32Array.from({ length: n }, () => (variance ? 0.2 + r() : 2 * r() - 1)), shape);
    }));
    const xp = probe(64, 3, 5);
    const [wantPi, wantMu, wantSigma] = kerasPredict(model, xp, 3);
    const m = await expectImportMatches(await save(model), xp, 3, { pi: wantPi!, mu: wantMu!, sigma: wantSigma! }, "softplus diagonal");
    expect(m.config).toMatchObject({ covariance: "diagonal", sigma: { activation: "softplus" }, hidden: [{ activation: "tanh", dropout: 0, batchNorm: { epsilon: 0.01, momentum: 0.9 } }, { activation: "relu", dropout: 0.1 }] });
    m.dispose();
  });

  it("takes pi as linear logits when options.heads names the heads, and asks for the names otherwise", async () => {
    const input = tfl.input({ shape: [2] });
    const h = tfl.layers.dense({ units: 5, activation: "relu" }).apply(input) as tfl.SymbolicTensor;
    const heads = { pi: "pi_logits", mu: "mu", sigma: "sigma" };
    const pi = tfl.layers.dense({ units: 3, name: heads.pi }).apply(h) as tfl.SymbolicTensor;
    const mu = tfl.layers.dense({ units: 3, name: heads.mu }).apply(h) as tfl.SymbolicTensor;
    const sigma = tfl.layers.dense({ units: 3, activation: "exponential" as "linear", name: heads.sigma }).apply(h) as tfl.SymbolicTensor;
    const model = seeded(tfl.model({ inputs: input, outputs: tfl.layers.concatenate().apply([pi, mu, sigma]) as tfl.SymbolicTensor }), 6);
    const art = await save(model);
    const xp = probe(40, 2, 6);
    const out = kerasPredict(model, xp, 2)[0]!;
    const want = { pi: softmaxRows(columns(out, 9, 0, 3), 3), mu: columns(out, 9, 3, 3), sigma: columns(out, 9, 6, 3) };
    (await expectImportMatches(art, xp, 2, want, "linear pi logits", { heads })).dispose();
    // sigmaFloor: mdn-wasm's floor, where Keras has none.
    const floored = await fromKeras(art, { heads, sigmaFloor: 1 });
    const flooredSigma = floored.predict({ data: xp, shape: [40, 2] }).sigma;
    expect(want.sigma.some((s) => s < 1) && want.sigma.some((s) => s > 1)).toBe(true);
    expectMatch(flooredSigma, want.sigma.map((s) => Math.max(s, 1)), "sigma floored at 1");
    floored.dispose();
    await expect(fromKeras(art, { heads, sigmaFloor: 0 })).rejects.toThrow(/options.sigmaFloor/);
    await expectRejected(art, "AMBIGUOUS_HEADS", null);
    await expect(fromKeras(art, { heads: { ...heads, pi: "nope" } })).rejects.toThrow(MdnError);
  });

  it("imports a keras-mdn-layer MDN layer when told its sigma activation, by TensorFlow.js' or the converter's weight names", async () => {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ units: 8, activation: "relu", inputShape: [2] }));
    model.add(new MdnLayer({ output_dimension: 2, num_mixtures: 3, sigma: "softplus", name: "mdn" }));
    seeded(model, 8);
    const r = testRng(8);
    model.compile({ loss: "meanSquaredError", optimizer: "adam" });
    await model.fit(tf.tensor2d(Float32Array.from({ length: 200 }, () => r()), [100, 2]), tf.randomNormal([100, 15], 0, 1, "float32", 8), { epochs: 3, shuffle: false, verbose: 0 });
    const art = await save(model);
    const xp = probe(50, 2, 7);
    const out = kerasPredict(model, xp, 2)[0]!;
    const want = { mu: columns(out, 15, 0, 6), sigma: columns(out, 15, 6, 6), pi: softmaxRows(columns(out, 15, 12, 3), 3) };
    const m = await expectImportMatches(art, xp, 2, want, "MDN layer (tfjs names)", { mdnLayerSigma: "softplus" });
    expect(m.config).toMatchObject({ covariance: "diagonal", components: 3, outputDim: 2, sigma: { activation: "softplus" } });
    m.dispose();
    // tensorflowjs_converter names the sublayers' weights, under the layer's scope.
    const subs = ["mdn_mus", "mdn_mus", "mdn_sigmas", "mdn_sigmas", "mdn_pi", "mdn_pi"];
    const renamed = { ...art, weightSpecs: art.weightSpecs.map((s, i) => (i < 2 ? s : { ...s, name: `mdn/${subs[i - 2]}/${s.name.split("/")[1]}` })) };
    (await expectImportMatches(renamed, xp, 2, want, "MDN layer (converter names)", { mdnLayerSigma: "softplus" })).dispose();
    // The published layer's ELU + 1 cannot be represented: refused unless the caller says otherwise.
    const e = await expectRejected(art, "UNSUPPORTED_ACTIVATION", "mdn");
    expect(e.message).toMatch(/ELU/);
  });

  describe("refuses what it cannot represent, naming the layer", () => {
    async function build(make: (input: tfl.SymbolicTensor) => { h: tfl.SymbolicTensor; sigmaActivation?: string; sigmaUnits?: number }) {
      const input = tfl.input({ shape: [2] });
      const { h, sigmaActivation = "exponential", sigmaUnits = 2 } = make(input);
      const mu = tfl.layers.dense({ units: 4 }).apply(h) as tfl.SymbolicTensor;
      const sigma = tfl.layers.dense({ units: sigmaUnits, activation: sigmaActivation as "linear" }).apply(h) as tfl.SymbolicTensor;
      const pi = tfl.layers.dense({ units: 2, activation: "softmax" }).apply(h) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: tfl.layers.concatenate().apply([mu, sigma, pi]) as tfl.SymbolicTensor });
      return { model, art: await save(model) };
    }

    it("a layer class with no equivalent", async () => {
      const { model, art } = await build((x) => ({ h: tfl.layers.leakyReLU().apply(tfl.layers.dense({ units: 4 }).apply(x)) as tfl.SymbolicTensor }));
      await expectRejected(art, "UNSUPPORTED_LAYER", layerName(model, "LeakyReLU"));
    });

    it("a hidden activation with no equivalent", async () => {
      const { model, art } = await build((x) => ({ h: tfl.layers.dense({ units: 4, activation: "elu" }).apply(x) as tfl.SymbolicTensor }));
      await expectRejected(art, "UNSUPPORTED_ACTIVATION", layerName(model, "Dense", 0));
    });

    it("a sigma activation with no equivalent", async () => {
      const { model, art } = await build((x) => ({ h: tfl.layers.dense({ units: 4 }).apply(x) as tfl.SymbolicTensor, sigmaActivation: "sigmoid" }));
      const e = await expectRejected(art, "UNSUPPORTED_ACTIVATION", layerName(model, "Dense", 2));
      expect(e.message).toMatch(/sigmoid/);
    });

    it("batch norm before the activation", async () => {
      const { model, art } = await build((x) => ({
        h: tfl.layers.activation({ activation: "relu" }).apply(tfl.layers.batchNormalization().apply(tfl.layers.dense({ units: 4 }).apply(x))) as tfl.SymbolicTensor,
      }));
      await expectRejected(art, "UNSUPPORTED_CONFIG", layerName(model, "Activation"));
    });

    it("sigma heads that fit no covariance type", async () => {
      const { model, art } = await build((x) => ({ h: tfl.layers.dense({ units: 4 }).apply(x) as tfl.SymbolicTensor, sigmaUnits: 3 }));
      await expectRejected(art, "SHAPE_MISMATCH", layerName(model, "Dense", 2));
    });

    it("one Dense head (the layout of its columns is unknown)", async () => {
      const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 4, inputShape: [2], activation: "relu" }), tfl.layers.dense({ units: 8 })] });
      await expectRejected(await save(model), "BAD_TOPOLOGY", layerName(model, "Dense", 1));
    });

    it("weights that do not fit their manifest, and things that are not models", async () => {
      const d = new Uint8Array(seedArt.weightData as ArrayBuffer);
      await expectRejected({ ...seedArt, weightData: d.slice(0, d.length - 4) }, "BAD_WEIGHTS", null);
      const nan = d.slice();
      new DataView(nan.buffer).setFloat32(8, NaN, true);
      await expectRejected({ ...seedArt, weightData: nan }, "BAD_WEIGHTS", null);
      await expectRejected({ ...seedArt, weightSpecs: seedArt.weightSpecs.map((s) => ({ ...s, dtype: "int32" })) }, "BAD_WEIGHTS", null);
      await expectRejected({ ...seedArt, modelTopology: { nope: 1 } }, "BAD_ARTIFACTS", null);
      const topo = JSON.parse(JSON.stringify(seedArt.modelTopology)) as { config: { layers: Array<{ class_name: string; name: string; config: { momentum?: number } }> } };
      const bn = topo.config.layers.find((l) => l.class_name === "BatchNormalization")!;
      bn.config.momentum = 5;
      await expectRejected({ ...seedArt, modelTopology: topo }, "UNSUPPORTED_CONFIG", bn.name);
      await expect(fromKeras(42 as unknown as KerasArtifacts)).rejects.toThrow(MdnError);
      await expect(fromKeras(seedArt, { mdnLayerSigma: "elu" as "exp" })).rejects.toThrow(/options.mdnLayerSigma/);
    });
  });
});
