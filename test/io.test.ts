// Model files: round trips are bit-exact and deterministic; every kind of damage has its own
// ModelFormatError code; a fuzzer mutating valid files never gets anything but ModelFormatError.
import { describe, expect, it } from "vitest";
import { type FileHeader, inspectModel, MDN, MdnError, ModelFormatError, type ModelFormatErrorCode } from "../src/index.js";
import { PROBE_ROWS, probeRows } from "../src/engine/probe.js";
import { resolveConfig } from "../src/core/config.js";
import { crc32, MAX_HEADER_BYTES } from "../src/format/modelfile.js";
import { expectIdentical, regression, testRng } from "./util.js";

/** A small trained model with batch norm, dropout and standardisation: every section non-trivial. */
async function trainedModel() {
  const m = await MDN.create({
    inputDim: 2, outputDim: 2, components: 3, seed: 3, normalize: true,
    hidden: [{ units: 8, dropout: 0.1, batchNorm: true }, { units: 5, activation: "tanh" }],
  });
  const { x, y } = regression(96, 1);
  await m.fit(x, y, { epochs: 2, batchSize: 32, validationSplit: 0.25, earlyStopping: { patience: 5, restoreBestWeights: true } });
  return m;
}

// ---- a tiny re-writer: edit a valid file's header or data, then re-frame it (lengths, CRC) ----

interface Parts {
  header: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  data: Uint8Array;
}

function split(file: Uint8Array): Parts {
  const v = new DataView(file.buffer, file.byteOffset);
  const H = v.getUint32(12, true);
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(16, 16 + H))), data: file.slice(16 + H, file.length - 4) };
}

function frame(headerText: string | Uint8Array, data: Uint8Array, version = 1): Uint8Array {
  const h = typeof headerText === "string" ? new TextEncoder().encode(headerText) : headerText;
  const out = new Uint8Array(16 + h.length + data.length + 4);
  const v = new DataView(out.buffer);
  out.set([0x89, 0x4d, 0x44, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]);
  v.setUint32(8, version, true);
  v.setUint32(12, h.length, true);
  out.set(h, 16);
  out.set(data, 16 + h.length);
  v.setUint32(out.length - 4, crc32(out, out.length - 4), true);
  return out;
}

function edit(file: Uint8Array, f: (p: Parts) => void): Uint8Array {
  const p = split(file);
  f(p);
  return frame(JSON.stringify(p.header), p.data);
}

/** A valid file with one tensor's values rewritten (f gets the old value and its index). */
function setTensor(file: Uint8Array, name: string, f: (v: number, i: number) => number): Uint8Array {
  return edit(file, (p) => {
    const t = p.header.tensors.find((e: { name: string }) => e.name === name);
    const v = new DataView(p.data.buffer, p.data.byteOffset);
    for (let i = 0; i < t.byteLength / 4; i++) v.setFloat32(t.offset + 4 * i, f(v.getFloat32(t.offset + 4 * i, true), i), true);
  });
}

function fixCrc(file: Uint8Array): Uint8Array {
  if (file.length >= 20) new DataView(file.buffer, file.byteOffset).setUint32(file.length - 4, crc32(file, file.length - 4), true);
  return file;
}

async function codeOf(bytes: unknown, checkpoint = false): Promise<string> {
  try {
    const m = await (checkpoint ? MDN.loadCheckpoint(bytes as Uint8Array) : MDN.load(bytes as Uint8Array));
    m.dispose();
    return "LOADED";
  } catch (e) {
    if (e instanceof ModelFormatError) return e.code;
    throw e;
  }
}

describe("model files", () => {
  it("save -> load gives bit-identical predictions and evaluation; save -> load -> save gives identical bytes", async () => {
    const m = await trainedModel();
    const a = m.save();
    expect(m.save()).toEqual(a); // saving twice: same bytes
    const m2 = await MDN.load(a);
    const { x, y } = regression(40, 9);
    const p1 = m.predict(x);
    const p2 = m2.predict(x);
    expectIdentical(p2.pi, p1.pi, "pi");
    expectIdentical(p2.mu, p1.mu, "mu");
    expectIdentical(p2.sigma, p1.sigma, "sigma");
    expect(m2.evaluate(x, y)).toBe(m.evaluate(x, y));
    expect(m2.config).toEqual(m.config);
    expect(m2.normalization).toEqual(m.normalization);
    expect(m2.save()).toEqual(a);
    // A checkpoint round-trips the same way.
    const c = m.saveCheckpoint();
    expect((await MDN.loadCheckpoint(c)).saveCheckpoint()).toEqual(c);
    // ArrayBuffer input works too, and the caller's buffer can be reused at once.
    const copy = a.slice();
    const loading = MDN.load(copy);
    copy.fill(0);
    expectIdentical((await loading).predict(x).mu, p1.mu, "mu after the buffer was reused");
    expect((await MDN.load(a.slice().buffer)).save()).toEqual(a);
  });

  it("every covariance type round-trips bit for bit (the tensor table follows the head width)", async () => {
    const { x, y } = regression(48, 3);
    for (const covariance of ["isotropic", "diagonal", "full"] as const) {
      const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 2, seed: 1, hidden: [4], covariance });
      await m.fit(x, y, { epochs: 1 });
      const file = m.save();
      const again = await MDN.load(file);
      expectIdentical(again.predict(x).sigma, m.predict(x).sigma, covariance);
      expectIdentical(again.logProb(x, y), m.logProb(x, y), covariance);
      expect(again.save()).toEqual(file);
      // A file whose config names another covariance no longer matches its own tensors.
      const other = covariance === "full" ? "diagonal" : "full";
      expect(await codeOf(edit(file, (p) => { p.header.config.covariance = other; }))).toBe("SHAPE_MISMATCH");
    }
  });

  it("the header states config, normalisation, training facts and the tensor table", async () => {
    const m = await trainedModel();
    const h = inspectModel(m.save());
    expect(h.kind).toBe("model");
    expect(h.config).toEqual(m.config);
    expect(h.normalization).toBe("standardize");
    expect(h.training.epochs).toBe(2);
    expect(h.training.steps).toBe(2 * 3); // 72 training rows in batches of 32
    expect(Number.isFinite(h.training.loss!)).toBe(true);
    expect(h.tensors.map((t) => t.name)).toEqual([...m.getWeights().map((w) => w.name), "normalization/x_mean", "normalization/x_std", "normalization/y_mean", "normalization/y_std"]);
    let end = 0;
    for (const t of h.tensors) {
      expect(t.offset).toBe(end);
      expect(t.byteLength).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
      end += t.byteLength;
    }
    const c = inspectModel(m.saveCheckpoint());
    expect(c.kind).toBe("checkpoint");
    expect(c.checkpoint!.epoch).toBe(2);
    expect(c.checkpoint!.bestWeights).toBe(true);
  });

  it("a resolved config resolves to itself (the loader relies on it)", () => {
    const r = resolveConfig({ inputDim: 3, outputDim: 2, components: 2, hidden: [4, { units: 3, batchNorm: true }], seed: 1 });
    expect(resolveConfig(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it("each kind of damage gets its own ModelFormatError code", async () => {
    const m = await trainedModel();
    const file = m.save();
    const ckpt = m.saveCheckpoint();
    const { header } = split(file);
    const H = new DataView(file.buffer).getUint32(12, true);
    const n = header.tensors.length;
    const cases: Array<[string, ModelFormatErrorCode | "NOT_BYTES", unknown, boolean?]> = [
      ["not bytes", "NOT_BYTES", "model.mdn"],
      ["empty", "TRUNCATED", new Uint8Array(0)],
      ["wrong magic", "BAD_MAGIC", fixCrc(Object.assign(file.slice(), { 1: 0x50 }))],
      ["future version", "UNSUPPORTED_VERSION", frame(JSON.stringify(header), split(file).data, 2)],
      ["version 0", "UNSUPPORTED_VERSION", frame(JSON.stringify(header), split(file).data, 0)],
      ["header too large", "HEADER_TOO_LARGE", (() => { const f = file.slice(); new DataView(f.buffer).setUint32(12, MAX_HEADER_BYTES + 1, true); return f; })()],
      ["header not UTF-8", "BAD_UTF8", frame(new Uint8Array([0x7b, 0xff, 0x7d]), new Uint8Array(0))],
      ["header nested too deep", "HEADER_TOO_DEEP", frame("[".repeat(100000) + "]".repeat(100000), new Uint8Array(0))],
      ["header not JSON", "BAD_JSON", frame('{"kind": "model",', new Uint8Array(0))],
      ["__proto__ key", "FORBIDDEN_KEY", frame(JSON.stringify(header).replace('{"kind"', '{"__proto__":{"polluted":1},"kind"'), split(file).data)],
      ["constructor key in config", "FORBIDDEN_KEY", edit(file, (p) => { p.header.config.sigma = JSON.parse('{"constructor":{"prototype":{}},"activation":"exp","floor":0.0001}'); })],
      ["unknown top-level key", "UNKNOWN_KEY", edit(file, (p) => { p.header.code = "require('fs')"; })],
      ["unknown config key", "UNKNOWN_KEY", edit(file, (p) => { p.header.config.sigma.url = "https://example.com/x.js"; })],
      ["kind not in the closed set", "BAD_HEADER", edit(file, (p) => { p.header.kind = "pickle"; })],
      ["config invalid", "BAD_CONFIG", edit(file, (p) => { p.header.config.components = 0; })],
      ["config not resolved", "BAD_CONFIG", edit(file, (p) => { delete p.header.config.seed; })],
      ["config too large for memory", "TOO_LARGE", edit(file, (p) => { p.header.config.hidden = Array.from({ length: 8 }, () => ({ units: 65536, activation: "relu", dropout: 0, batchNorm: null })); })],
      ["tensor missing", "TENSOR_NAME", edit(file, (p) => { p.header.tensors.pop(); })],
      ["tensor renamed", "TENSOR_NAME", edit(file, (p) => { p.header.tensors[0].name = "../../etc/passwd"; })],
      ["shape mismatch", "SHAPE_MISMATCH", edit(file, (p) => { p.header.tensors[0].shape = [2, 9]; })],
      ["negative offset", "BAD_OFFSET", edit(file, (p) => { p.header.tensors[1].offset = -4; })],
      ["byte length not 4 x elements", "BAD_BYTE_LENGTH", edit(file, (p) => { p.header.tensors[1].byteLength += 4; })],
      ["offset + length overflows", "SIZE_OVERFLOW", edit(file, (p) => { p.header.tensors[1].offset = 2 ** 52; p.header.tensors[1].byteLength = 2 ** 52; })],
      ["tensor out of bounds", "OUT_OF_BOUNDS", edit(file, (p) => { p.header.tensors[n - 1].offset += 8; })],
      ["overlapping tensors", "OVERLAP", edit(file, (p) => { p.header.tensors[2].offset -= 4; })],
      ["gap between tensors", "GAP", edit(file, (p) => { p.header.tensors[1].offset += 4; })],
      ["trailing bytes", "TRAILING_BYTES", fixCrc(Uint8Array.from([...file, 0, 0, 0, 0]))],
      ["bad checksum", "BAD_CHECKSUM", Object.assign(file.slice(), { [16 + H + 5]: file[16 + H + 5]! ^ 0x10 })],
      ["NaN weight", "NON_FINITE_WEIGHT", edit(file, (p) => { new DataView(p.data.buffer).setFloat32(8, NaN, true); })],
      ["infinite weight", "NON_FINITE_WEIGHT", edit(file, (p) => { new DataView(p.data.buffer).setFloat32(0, -Infinity, true); })],
      ["zero target scale", "BAD_NORMALIZATION", edit(file, (p) => {
        const t = p.header.tensors.find((e: { name: string }) => e.name === "normalization/y_std");
        new DataView(p.data.buffer).setFloat32(t.offset, 0, true);
      })],
      ["all-zero generator", "BAD_GENERATOR", edit(file, (p) => { p.header.generator = [0, 0, 0, 0]; })],
      ["generator word out of range", "BAD_GENERATOR", edit(file, (p) => { p.header.generator[0] = 2 ** 32; })],
      ["negative second moment", "BAD_TRAINING_STATE", edit(ckpt, (p) => {
        const t = p.header.tensors.find((e: { name: string }) => e.name === "optimizer/v");
        new DataView(p.data.buffer).setFloat32(t.offset + 4, -1, true);
      })],
      ["row order not a permutation", "BAD_TRAINING_STATE", edit(ckpt, (p) => {
        const t = p.header.tensors.find((e: { name: string }) => e.name === "train/order");
        const v = new DataView(p.data.buffer);
        v.setFloat32(t.offset + 4, v.getFloat32(t.offset, true), true);
      })],
      ["best epoch after the checkpoint's epoch", "BAD_TRAINING_STATE", edit(ckpt, (p) => { p.header.checkpoint.earlyStopping.bestEpoch = 9; })],
      ["model file given to loadCheckpoint", "NOT_A_CHECKPOINT", file, true],
      // Values that pass every structural check but cannot predict, or cannot train on.
      ["x_std of 1e-40 (its reciprocal overflows float32)", "BAD_NORMALIZATION", setTensor(file, "normalization/x_std", () => 1e-40)],
      ["y_std of 1e-40", "BAD_NORMALIZATION", setTensor(file, "normalization/y_std", () => 1e-40)],
      ["a negative moving variance", "BAD_BATCH_NORM", setTensor(file, "batch_normalization_1/moving_variance", (v, i) => (i === 0 ? -1 : v))],
      // 3e38 (not 1e30: the sigma ceiling keeps 1e30-sized weights' predictions finite) overflows the head's sums.
      ["finite but huge head weights", "CANNOT_PREDICT", setTensor(file, "mixture/kernel", () => 3e38)],
      ["best weights that cannot predict", "CANNOT_PREDICT", setTensor(ckpt, "best/weights", () => 3e38), true],
      ["adamSteps 2^32 - 1", "BAD_TRAINING_STATE", edit(ckpt, (p) => { p.header.checkpoint.adamSteps = 2 ** 32 - 1; }), true],
      ["adamSteps at the i32 limit", "BAD_TRAINING_STATE", edit(ckpt, (p) => { p.header.checkpoint.adamSteps = 2 ** 31 - 1; }), true],
      ["an epoch past fit's limit", "BAD_TRAINING_STATE", edit(ckpt, (p) => { p.header.checkpoint.epoch = 1e9; }), true],
      ["first moments that overflow the next step", "CANNOT_TRAIN", setTensor(ckpt, "optimizer/m", () => 3e38), true],
    ];
    const seen = new Map<string, string>();
    for (const [name, want, bytes, asCheckpoint] of cases) {
      let got: string;
      if (want === "NOT_BYTES") {
        // Not a file at all: an argument error is still a ModelFormatError with its own code.
        got = await codeOf(bytes);
      } else {
        got = await codeOf(bytes, asCheckpoint);
      }
      expect(`${name}: ${got}`).toBe(`${name}: ${want}`);
      seen.set(want, name);
    }
    expect(seen.size).toBeGreaterThanOrEqual(15);
    // The original still loads: the damage, not the rewriting, made each case fail.
    expect(await codeOf(edit(file, () => { }))).toBe("LOADED");
    expect(await codeOf(edit(ckpt, () => { }), true)).toBe("LOADED");
    // A huge sigma weight is not damage: the sigma ceiling keeps every spread finite.
    // mixture/kernel is (5, 12): pi logits 0-2, means 3-8, sigma pre-activations 9-11.
    expect(await codeOf(setTensor(file, "mixture/kernel", (v, i) => (i === 9 ? 1e30 : v)))).toBe("LOADED");
  });

  it("truncation at every section boundary is TRUNCATED", async () => {
    const m = await trainedModel();
    const file = m.save();
    const H = new DataView(file.buffer).getUint32(12, true);
    const cuts = [0, 4, 8, 12, 16, 16 + (H >> 1), 16 + H, file.length - 5, file.length - 4, file.length - 1];
    for (const t of inspectModel(file).tensors) cuts.push(16 + H + t.offset, 16 + H + t.offset + 2);
    for (const cut of cuts) expect(`${cut}: ${await codeOf(file.slice(0, cut))}`).toBe(`${cut}: TRUNCATED`);
    // Even with a checksum fixed up to match the shorter content.
    for (const cut of cuts.filter((c) => c >= 20)) expect(await codeOf(fixCrc(file.slice(0, cut)))).toBe("TRUNCATED");
  });

  it("a model file cannot name code, modules, URLs or paths: strings outside the closed sets are refused", async () => {
    const file = (await trainedModel()).save();
    const attempts = [
      edit(file, (p) => { p.header.config.sigma.activation = "import('https://example.com/evil.js')"; }),
      edit(file, (p) => { p.header.config.hidden[0].activation = "./relu.js"; }),
      edit(file, (p) => { p.header.normalization = "file:///etc/passwd"; }),
      edit(file, (p) => { p.header.tensors[0].name = "node:fs"; }),
    ];
    for (const a of attempts) expect(["BAD_CONFIG", "BAD_HEADER", "TENSOR_NAME"]).toContain(await codeOf(a));
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("MDN.load of a non-file argument is a ModelFormatError NOT_BYTES, not an MdnError", async () => {
    await expect(MDN.load(42 as unknown as Uint8Array)).rejects.toSatisfy((e: unknown) => e instanceof ModelFormatError && !(e instanceof MdnError) && e.code === "NOT_BYTES");
  });
});

/** One random mutation of a valid file; the generator makes every case reproducible. */
function mutate(file: Uint8Array, r: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(r() * n);
  const H = new DataView(file.buffer, file.byteOffset).getUint32(12, true);
  let f: Uint8Array = file.slice();
  const op = pick(9);
  if (op === 0) {
    for (let i = 0, flips = 1 + pick(8); i < flips; i++) f[pick(f.length)]! ^= 1 << pick(8);
  } else if (op === 1) {
    const specials = [0x00, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x5b, 0x2d, 0x39, 0x2e, 0x65, 0x5c];
    for (let i = 0, n = 1 + pick(4); i < n; i++) f[pick(f.length)] = r() < 0.5 ? specials[pick(specials.length)]! : pick(256);
  } else if (op === 2) {
    f = f.slice(0, pick(f.length));
  } else if (op === 3) {
    const at = pick(f.length);
    const ins = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
    const g = new Uint8Array(f.length + ins.length);
    g.set(f.subarray(0, at));
    g.set(ins, at);
    g.set(f.subarray(at), at + ins.length);
    f = g;
  } else if (op === 4) {
    const at = pick(f.length);
    const rest = f.subarray(Math.min(f.length, at + 1 + pick(32)));
    const g = new Uint8Array(at + rest.length);
    g.set(f.subarray(0, at));
    g.set(rest, at);
    f = g;
  } else if (op === 5) {
    // Rewrite one number in the header text, keeping the frame consistent.
    const text = new TextDecoder().decode(f.subarray(16, 16 + H));
    const nums = [...text.matchAll(/-?\d+(\.\d+)?(e[-+]?\d+)?/g)];
    const values = ["-1", "0", "1", "-0", "1e308", "1e-320", "9007199254740993", "4294967296", "2147483648", "1.5", "NaN", "[]", "{}", "null", "true", '"x"', "65536", "1e400"];
    const hit = nums[pick(nums.length)]!;
    const next = text.slice(0, hit.index) + values[pick(values.length)] + text.slice(hit.index! + hit[0].length);
    f = frameRaw(new TextEncoder().encode(next), f.subarray(16 + H, f.length - 4));
  } else if (op === 6) {
    // Rewrite one string or key in the header.
    const text = new TextDecoder().decode(f.subarray(16, 16 + H));
    const strs = [...text.matchAll(/"[^"]*"/g)];
    const values = ['"__proto__"', '"constructor"', '"prototype"', '""', '"toString"', '"tensors"', '"kind"', '"\\u0000"', '"dense_1/kernel"', '"checkpoint"'];
    const hit = strs[pick(strs.length)]!;
    const next = text.slice(0, hit.index) + values[pick(values.length)] + text.slice(hit.index! + hit[0].length);
    f = frameRaw(new TextEncoder().encode(next), f.subarray(16 + H, f.length - 4));
  } else if (op === 7) {
    new DataView(f.buffer).setUint32(12, [0, 1, H - 1, H + 1, 0xffffffff, pick(2 ** 32), MAX_HEADER_BYTES][pick(7)]!, true);
  } else {
    // A weight set to an extreme or special float32.
    const dataStart = 16 + H;
    const at = dataStart + 4 * pick((f.length - 4 - dataStart) / 4);
    const vals = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 0, 1e30];
    new DataView(f.buffer).setFloat32(at, vals[pick(vals.length)]!, true);
  }
  // Half the cases get a matching checksum so the checks behind it are exercised too.
  return r() < 0.5 ? fixCrc(f) : f;
}

function frameRaw(h: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + h.length + data.length + 4);
  out.set([0x89, 0x4d, 0x44, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]);
  new DataView(out.buffer).setUint32(8, 1, true);
  new DataView(out.buffer).setUint32(12, h.length, true);
  out.set(h, 16);
  out.set(data, 16 + h.length);
  return out;
}

/**
 * Every model that loads predicts finite numbers on the probe batch, and a checkpoint resumes for
 * one epoch on it (targets at the most likely component's mean) with no non-finite step.
 */
async function expectPredictsAndTrains(model: MDN, header: FileHeader, at: string): Promise<void> {
  const { inputDim: I, outputDim: D, components: K } = model.config;
  const x = { data: probeRows(I, model.normalization), shape: [PROBE_ROWS, I] as [number, number] };
  const p = model.predict(x);
  for (const [name, a] of [["pi", p.pi], ["mu", p.mu], ["sigma", p.sigma]] as const) {
    const bad = a.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${at}: loaded, but ${name}[${bad}] = ${a[bad]} on the probe batch`);
  }
  const c = header.checkpoint;
  if (!c) return;
  const y = new Float32Array(PROBE_ROWS * D);
  for (let r = 0; r < PROBE_ROWS; r++) {
    let top = 0;
    for (let k = 1; k < K; k++) if (p.pi[r * K + k]! > p.pi[r * K + top]!) top = k;
    y.set(p.mu.subarray((r * K + top) * D, (r * K + top + 1) * D), r * D);
  }
  const h = await model.fit(x, { data: y, shape: [PROBE_ROWS, D] }, { initialEpoch: c.epoch, epochs: c.epoch + 1, batchSize: PROBE_ROWS, shuffle: false });
  if (h.nonFinite) throw new Error(`${at}: a loaded checkpoint could not train: ${JSON.stringify(h.nonFinite)}`);
}

/** Cases per npm test run; `npm run fuzz` sets MDN_FUZZ_CASES much higher. */
const FUZZ_CASES = Number(process.env.MDN_FUZZ_CASES ?? 10_000);

describe("values", () => {
  it("re-signed files with bit flips in the tensors: every one that loads predicts finite numbers and trains", async () => {
    const m = await trainedModel();
    const seeds = [m.save(), m.saveCheckpoint()];
    const r = testRng(99);
    const tally = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const f = seeds[i & 1]!.slice();
      const start = 16 + new DataView(f.buffer).getUint32(12, true);
      for (let k = 0, flips = 1 + Math.floor(r() * 3); k < flips; k++) f[start + Math.floor(r() * (f.length - 4 - start))]! ^= 1 << Math.floor(r() * 8);
      fixCrc(f);
      let model: MDN;
      try {
        model = await MDN.load(f);
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw e;
        tally.set(e.code, (tally.get(e.code) ?? 0) + 1);
        continue;
      }
      await expectPredictsAndTrains(model, inspectModel(f), `flip case ${i}`);
      model.dispose();
      tally.set("LOADED", (tally.get("LOADED") ?? 0) + 1);
    }
    console.log(`bit flips: ${[...tally].sort((a, b) => b[1] - a[1]).map(([c, k]) => `${c} ${k}`).join(", ")}`);
    expect(tally.get("CANNOT_PREDICT")).toBeGreaterThan(0);
    expect(tally.get("LOADED")).toBeGreaterThan(1000);
  });
});

describe("fuzz", () => {
  it(`${FUZZ_CASES} mutated and truncated files: every failure is a ModelFormatError, every file that loads predicts and trains, memory stays bounded`, async () => {
    const m = await trainedModel();
    const seeds = [m.save(), m.saveCheckpoint()];
    const r = testRng(Number(process.env.MDN_FUZZ_SEED ?? 12345));
    const tally = new Map<string, number>();
    let loaded = 0;
    const rssStart = process.memoryUsage().rss;
    let rssMax = rssStart;
    const t0 = performance.now();
    for (let i = 0; i < FUZZ_CASES; i++) {
      const base = seeds[i & 1]!;
      const bytes = mutate(base, r);
      let model: MDN;
      try {
        model = await (i & 2 ? MDN.loadCheckpoint(bytes) : MDN.load(bytes));
      } catch (e) {
        if (!(e instanceof ModelFormatError)) {
          throw new Error(`case ${i}: ${(e as Error)?.name}: ${(e as Error)?.message} (not a ModelFormatError)`);
        }
        tally.set(e.code, (tally.get(e.code) ?? 0) + 1);
        continue;
      }
      // Loaded: the mutation kept the file valid (a changed weight, say). The rule: it predicts
      // finite numbers on the probe batch, and a checkpoint trains on from there.
      await expectPredictsAndTrains(model, inspectModel(bytes), `case ${i}`);
      model.dispose();
      loaded++;
      if ((i & 1023) === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    const growthMiB = (rssMax - rssStart) / 2 ** 20;
    console.log(
      `fuzz: ${FUZZ_CASES} cases in ${seconds.toFixed(2)} s = ${Math.round(FUZZ_CASES / seconds)} cases/s; ` +
      `${loaded} still valid; rss growth ${growthMiB.toFixed(0)} MiB; codes ${[...tally].sort((a, b) => b[1] - a[1]).map(([c, k]) => `${c} ${k}`).join(", ")}`,
    );
    expect(tally.size).toBeGreaterThanOrEqual(15);
    expect(growthMiB).toBeLessThan(512);
  });
});
