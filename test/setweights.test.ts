// setWeights checks what it is given (names, shapes, numbers, and that the weights predict finite
// numbers on the probe batch) and is refused while a fit runs; a refused call changes nothing.
import { describe, expect, it } from "vitest";
import { MDN, MdnError } from "../src/index.js";
import type { Weight } from "../src/index.js";
import { hashWeights, regression } from "./util.js";

const config = { inputDim: 2, outputDim: 2, components: 2, hidden: [{ units: 3, batchNorm: true }], seed: 4 };

function refusal(m: MDN, weights: unknown): { code: string; argument: string } {
  try {
    m.setWeights(weights as Weight[]);
  } catch (e) {
    if (!(e instanceof MdnError)) throw new Error(`expected an MdnError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return { code: e.code, argument: e.argument };
  }
  throw new Error("setWeights accepted it");
}

describe("setWeights", () => {
  it("refuses a shape that differs from the tensor's (transposed, flattened, [999]) and accepts the same shape or none", async () => {
    const m = await MDN.create(config);
    const w = m.getWeights();
    const before = hashWeights(w);
    expect(w[0]!.shape).toEqual([2, 3]);
    const swap = (i: number, patch: Partial<Weight>) => w.map((t, j) => (j === i ? { ...t, ...patch } : t));
    expect(refusal(m, swap(0, { shape: [3, 2] }))).toEqual({ code: "SHAPE_MISMATCH", argument: "weights[0].shape" });
    expect(refusal(m, swap(0, { shape: [6] }))).toEqual({ code: "SHAPE_MISMATCH", argument: "weights[0].shape" });
    expect(refusal(m, swap(1, { shape: [999] }))).toEqual({ code: "SHAPE_MISMATCH", argument: "weights[1].shape" });
    expect(refusal(m, swap(1, { shape: "3" as never }))).toEqual({ code: "SHAPE_MISMATCH", argument: "weights[1].shape" });
    expect(hashWeights(m.getWeights())).toBe(before);
    // The same shapes, or none given, are fine.
    const scaled = w.map((t) => ({ ...t, data: t.data.map((v) => v * 0.5) }));
    m.setWeights(scaled);
    expect(hashWeights(m.getWeights())).toBe(hashWeights(scaled));
    m.setWeights(w.map(({ data }) => ({ data })));
    expect(hashWeights(m.getWeights())).toBe(before);
  });

  it("refuses data that are not numbers (BigInt64Array, strings) with INVALID_ARGUMENT, never a TypeError", async () => {
    const m = await MDN.create(config);
    const w = m.getWeights();
    const before = hashWeights(w);
    const big = w.map((t, j) => (j === 0 ? { ...t, data: new BigInt64Array(t.data.length) } : t));
    expect(refusal(m, big)).toEqual({ code: "INVALID_ARGUMENT", argument: "weights[0].data" });
    const text = w.map((t, j) => (j === 1 ? { ...t, data: Array.from(t.data, String) } : t));
    expect(refusal(m, text)).toEqual({ code: "INVALID_ARGUMENT", argument: "weights[1].data[0]" });
    expect(refusal(m, w.map((t, j) => (j === 2 ? { ...t, data: new DataView(new ArrayBuffer(12)) } : t)))).toEqual({ code: "INVALID_ARGUMENT", argument: "weights[2].data" });
    expect(hashWeights(m.getWeights())).toBe(before);
  });

  it("refuses finite weights that cannot predict (kernels of 3e38s overflow the forward) and keeps the old ones", async () => {
    const m = await MDN.create(config);
    const w = m.getWeights();
    const before = hashWeights(w);
    // (Kernels of 1e30 now predict finite numbers: the sigma ceiling bounds the spreads and the
    // means stay within float32.)
    const huge = w.map((t) => (t.name.endsWith("/kernel") ? { ...t, data: t.data.map(() => 3e38) } : t));
    expect(refusal(m, huge)).toEqual({ code: "NON_FINITE", argument: "weights" });
    expect(hashWeights(m.getWeights())).toBe(before);
    // So a model with weights that were set always saves to a file that loads.
    const ok = w.map((t) => ({ ...t, data: t.data.map((v) => v * 3) }));
    m.setWeights(ok);
    expect(hashWeights((await MDN.load(m.save())).getWeights())).toBe(hashWeights(ok));
  });

  it("is refused with BUSY while a fit runs, from a callback or from outside, and the fit goes on untouched", async () => {
    const { x, y } = regression(64, 2);
    const m = await MDN.create(config);
    const w = m.getWeights();
    const twin = await MDN.create(config);
    const refused: string[] = [];
    const fit = m.fit(x, y, {
      epochs: 2, batchSize: 16,
      onBatchEnd: (b) => {
        if (b === 1) refused.push(refusal(m, w).code);
      },
    });
    refused.push(refusal(m, w).code);
    await fit;
    expect(refused).toEqual(["BUSY", "BUSY", "BUSY"]);
    // The refused calls changed nothing: the fit ran as a fit without them does.
    await twin.fit(x, y, { epochs: 2, batchSize: 16, onBatchEnd: () => { } });
    expect(hashWeights(m.getWeights())).toBe(hashWeights(twin.getWeights()));
    // After the fit it works again.
    m.setWeights(w);
    expect(hashWeights(m.getWeights())).toBe(hashWeights(w));
  });
});
