// Size limits: one limit on a model's memory, the same at create and load (tested at the limit from
// both sides); a typed error naming the memory needed and the limit wherever wasm memory would run
// out (create, fit, inference), before anything changes; and a bound on what one call hands back.
import { afterEach, describe, expect, it } from "vitest";
import { MDN, MdnError, ModelFormatError } from "../src/index.js";
import type { MDNConfig, ResolvedConfig } from "../src/index.js";
import { ensureMemory, formatBytes, MAX_MEMORY_BYTES } from "../src/engine/arena.js";
import { MAX_RESULT_VALUES, resolveConfig } from "../src/core/config.js";
import { crc32 } from "../src/format/modelfile.js";
import type { TestKernels } from "../src/engine/kernels.js";
import { checkModelSize, MAX_MODEL_BYTES, modelBytes } from "../src/engine/network.js";
import { hashWeights, regression } from "./util.js";

const square = (units: number): ResolvedConfig => resolveConfig({ inputDim: 1, outputDim: 1, components: 1, hidden: [units, units], seed: 0 });

/** A valid small model file with its config's hidden units replaced (tensor table left as it was). */
async function fileWithHidden(units: number): Promise<Uint8Array> {
  const m = await MDN.create({ inputDim: 1, outputDim: 1, components: 1, hidden: [2, 2], seed: 0 });
  const file = m.save();
  m.dispose();
  const v = new DataView(file.buffer);
  const H = v.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(16, 16 + H)));
  for (const h of header.config.hidden) h.units = units;
  const text = new TextEncoder().encode(JSON.stringify(header));
  const data = file.subarray(16 + H, file.length - 4);
  const out = new Uint8Array(16 + text.length + data.length + 4);
  out.set(file.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, text.length, true);
  out.set(text, 16);
  out.set(data, 16 + text.length);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out, out.length - 4), true);
  return out;
}

/** Byte equality without the matcher's per-element work (these files are tens of megabytes). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function mdnError(p: Promise<unknown> | (() => unknown)): Promise<MdnError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (e instanceof MdnError) return e;
    throw new Error(`expected an MdnError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  throw new Error("expected an MdnError, nothing was thrown");
}

async function loadCode(bytes: Uint8Array): Promise<string> {
  try {
    (await MDN.load(bytes)).dispose();
    return "LOADED";
  } catch (e) {
    if (e instanceof ModelFormatError) return e.code;
    throw e;
  }
}

describe("one size limit for a model, at create and at load", () => {
  // The widest [u, u] network within the limit, and the next one past it.
  let lo = 1;
  let hi = 1 << 16;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (modelBytes(square(mid)) <= MAX_MODEL_BYTES) lo = mid;
    else hi = mid;
  }
  const under = lo;
  const over = lo + 1;

  it(`hidden [${under}, ${under}] is within ${formatBytes(MAX_MODEL_BYTES)} and [${over}, ${over}] is not, at create and at load alike`, async () => {
    expect(modelBytes(square(under))).toBeLessThanOrEqual(MAX_MODEL_BYTES);
    expect(modelBytes(square(over))).toBeGreaterThan(MAX_MODEL_BYTES);
    // Create: the check MDN.create runs before it allocates anything.
    expect(() => checkModelSize(square(under))).not.toThrow();
    const e = await mdnError(MDN.create({ inputDim: 1, outputDim: 1, components: 1, hidden: [over, over], seed: 0 }));
    expect(`${e.code} ${e.argument}`).toBe("TOO_LARGE config");
    expect(e.message).toContain(formatBytes(MAX_MODEL_BYTES));
    expect(e.message).toContain(formatBytes(modelBytes(square(over))));
    // Load: the file with the larger config is TOO_LARGE; the one at the limit passes that check
    // and fails only later, on its (deliberately unchanged, small) tensor table.
    expect(await loadCode(await fileWithHidden(over))).toBe("TOO_LARGE");
    expect(await loadCode(await fileWithHidden(under))).toBe("SHAPE_MISMATCH");
  });

  it("the issue's hidden [8300, 8300] is refused at create, as load would refuse its file", async () => {
    const e = await mdnError(MDN.create({ inputDim: 2, outputDim: 2, components: 3, hidden: [8300, 8300] }));
    expect(e.code).toBe("TOO_LARGE");
    expect(await loadCode(await fileWithHidden(8300))).toBe("TOO_LARGE");
  });

  it("a model of 68 MB (hidden [2048, 2048]) creates, trains, saves and loads bit for bit, checkpoint too", async () => {
    const config: MDNConfig = { inputDim: 2, outputDim: 2, components: 3, hidden: [2048, 2048], seed: 5, normalize: true };
    const m = await MDN.create(config);
    expect(modelBytes(m.config)).toBeGreaterThan(64 * 2 ** 20);
    const { x, y } = regression(64, 3);
    await m.fit(x, y, { epochs: 1, batchSize: 32 });
    const file = m.save();
    const again = await MDN.load(file);
    expect(hashWeights(again.getWeights())).toBe(hashWeights(m.getWeights()));
    expect(sameBytes(new Uint8Array(again.predict(x).mu.buffer), new Uint8Array(m.predict(x).mu.buffer))).toBe(true);
    expect(sameBytes(again.save(), file)).toBe(true);
    const ckpt = m.saveCheckpoint();
    const resumed = await MDN.loadCheckpoint(ckpt);
    expect(sameBytes(resumed.saveCheckpoint(), ckpt)).toBe(true);
  });
});

describe("wasm memory: a typed error with the need and the limit, before anything changes", () => {
  it("models between 2 and 4 GiB and past 4 GiB are TOO_LARGE at create (not a RangeError)", async () => {
    for (const units of [12000, 20000, 65536]) {
      const need = modelBytes(square(units));
      expect(need).toBeGreaterThan(2 ** 31);
      const e = await mdnError(MDN.create({ inputDim: 1, outputDim: 1, components: 1, hidden: [units, units] }));
      expect(`${e.code} ${e.argument}`).toBe("TOO_LARGE config");
      expect(e.message).toContain(formatBytes(need));
    }
  });

  it("ensureMemory refuses past 4 GiB without growing, and turns an engine's refusal into TOO_LARGE", () => {
    let grown = 0;
    const fake = (grow: (pages: number) => number) => ({ memory: { buffer: { byteLength: 65536 }, grow } }) as unknown as TestKernels;
    const e = (() => {
      try {
        ensureMemory(fake((p) => (grown += p)), MAX_MEMORY_BYTES + 1, "fit");
      } catch (err) {
        return err as MdnError;
      }
      throw new Error("accepted");
    })();
    expect(grown).toBe(0);
    expect(`${e.code} ${e.argument}`).toBe("TOO_LARGE fit");
    expect(e.message).toContain(formatBytes(MAX_MEMORY_BYTES));
    expect(() => ensureMemory(fake(() => { throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded"); }), 1 << 30, "x")).toThrow(MdnError);
    ensureMemory(fake((p) => (grown += p)), MAX_MEMORY_BYTES, "fit");
    expect(grown).toBe(65535);
  });

  const proto = WebAssembly.Memory.prototype;
  const realGrow = proto.grow;
  afterEach(() => {
    proto.grow = realGrow;
  });

  it("a fit whose arena would pass 4 GiB is TOO_LARGE and leaves the model exactly as it was (means not re-initialised)", async () => {
    const config: MDNConfig = { inputDim: 1, outputDim: 1, components: 2, hidden: [16384], seed: 2 };
    const m = await MDN.create(config);
    const before = hashWeights(m.getWeights());
    const n = 16384;
    const x = { data: Float32Array.from({ length: n }, (_, i) => i / n), shape: [n, 1] as [number, number] };
    const y = { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)), shape: [n, 1] as [number, number] };
    const e = await mdnError(m.fit(x, y, { batchSize: n }));
    expect(`${e.code} ${e.argument}`).toBe("TOO_LARGE fit");
    expect(e.message).toContain(formatBytes(MAX_MEMORY_BYTES));
    expect(hashWeights(m.getWeights())).toBe(before);
    // The engine refusing to grow (here: any growth) is the same typed error, same untouched model.
    proto.grow = () => {
      throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
    };
    const refused = await mdnError(m.fit(x, y, { batchSize: 4096 }));
    expect(`${refused.code} ${refused.argument}`).toBe("TOO_LARGE fit");
    proto.grow = realGrow;
    expect(hashWeights(m.getWeights())).toBe(before);
    // Still a fresh model: its first real fit does what a new model's does, k-means start included.
    const small = { x: { data: x.data.subarray(0, 64), shape: [64, 1] as [number, number] }, y: { data: y.data.subarray(0, 64), shape: [64, 1] as [number, number] } };
    await m.fit(small.x, small.y, { epochs: 1 });
    const twin = await MDN.create(config);
    await twin.fit(small.x, small.y, { epochs: 1 });
    expect(hashWeights(m.getWeights())).toBe(hashWeights(twin.getWeights()));
  });
});

describe("results one call hands back are bounded", () => {
  it(`sample with n 2^24 on 64 rows is TOO_LARGE naming options.n, before drawing anything (at most ${MAX_RESULT_VALUES} values)`, async () => {
    const m = await MDN.create({ inputDim: 1, outputDim: 1, components: 2, hidden: [4], seed: 1 });
    const x = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    const e = await mdnError(() => m.sample(x, { n: 2 ** 24 }));
    expect(`${e.code} ${e.argument}`).toBe("TOO_LARGE options.n");
    expect(e.message).toContain(`${64 * 2 ** 24 * 2} values`);
    // Just past the bound (2^28 values at 8 rows of 2^24 draws of 1-D targets) and just within it.
    expect((await mdnError(() => m.sample(x.subarray(0, 9), { n: 2 ** 24 }))).code).toBe("TOO_LARGE");
    expect(m.sample(x, { n: 1000, seed: 1 }).samples.length).toBe(64 * 1000);
  });

  it("predict with full covariance and covariance refuse outputs past the bound (D x D per component or row)", async () => {
    const full = await MDN.create({ inputDim: 1, outputDim: 64, components: 64, hidden: [2], covariance: "full", seed: 1 });
    const perRow = 64 * (1 + 64 + 64 * 64);
    const rows = Math.floor(MAX_RESULT_VALUES / perRow) + 1;
    const e = await mdnError(() => full.predict(new Float32Array(rows)));
    expect(`${e.code} ${e.argument}`).toBe("TOO_LARGE x");
    expect(full.predict(new Float32Array(2)).sigma.length).toBe(2 * 64 * 64 * 64);
    const wide = await MDN.create({ inputDim: 1, outputDim: 256, components: 1, hidden: [2], seed: 1 });
    const e2 = await mdnError(() => wide.covariance(new Float32Array(MAX_RESULT_VALUES / (256 * 256) + 1)));
    expect(`${e2.code} ${e2.argument}`).toBe("TOO_LARGE x");
  });
});
