// ONNX export (mdn-wasm/onnx): the exported graph, run by onnxruntime-web (its wasm build, in Node),
// gives what `predict` gives for every covariance type, with and without standardisation, through
// batch norm, dropout and each activation, at any batch size, and at the sigma floor and the
// activations' extremes.
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { ONNX_OPSET, toOnnx } from "../src/onnx.js";
import { type Covariance, MDN, type MDNConfig, MdnError } from "../src/index.js";
import { regression, testRng } from "./util.js";

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

interface Run {
  pi: ort.Tensor;
  mu: ort.Tensor;
  sigma: ort.Tensor;
}

async function session(model: MDN): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(toOnnx(model));
}

async function runOnnx(s: ort.InferenceSession, x: Float32Array, I: number): Promise<Run> {
  return (await s.run({ x: new ort.Tensor("float32", x, [x.length / I, I]) })) as unknown as Run;
}

/**
 * Max relative error of got against want over the entries of want above `floorFrac` of its
 * largest magnitude, and the largest error relative to that magnitude over all entries (entries
 * near zero are results of cancellation, whose relative error says nothing).
 */
function errors(got: ArrayLike<number>, want: ArrayLike<number>, floorFrac = 1e-2): { rel: number; absOfMax: number } {
  let max = 0;
  for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i]!));
  let rel = 0;
  let abs = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e === e)) return { rel: NaN, absOfMax: NaN };
    abs = Math.max(abs, e);
    if (Math.abs(want[i]!) >= floorFrac * max) rel = Math.max(rel, e / Math.abs(want[i]!));
  }
  return { rel, absOfMax: max > 0 ? abs / max : abs };
}

/**
 * The tolerance: 1e-5 relative, plus an absolute 1e-6 of the tensor's largest magnitude
 * for entries near zero. Throws naming the first entry outside it.
 */
function expectMatch(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  let max = 0;
  for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= 1e-5 * Math.abs(want[i]!) + 1e-6 * max)) throw new Error(`${label}: first bad index ${i}: got ${got[i]}, want ${want[i]}, error ${err}`);
  }
}

/** Rows of x inside and well outside the training range, for the model's input width. */
function probeRows(n: number, I: number, seed: number, scale = 3): Float32Array {
  const r = testRng(seed);
  return Float32Array.from({ length: n * I }, () => scale * (2 * r() - 1));
}

const COVARIANCES: Covariance[] = ["isotropic", "diagonal", "full"];

/** One model per case: all three activations, dropout and batch norm in the hidden layers. */
function caseConfig(covariance: Covariance, normalize: boolean, sigma: "exp" | "softplus", seed: number): MDNConfig {
  return {
    inputDim: 2, outputDim: 3, components: 4, covariance, normalize, seed,
    sigma: { activation: sigma },
    hidden: [
      { units: 9, activation: "relu", dropout: 0.2, batchNorm: true },
      { units: 5, activation: "tanh", dropout: 0.1 },
      { units: 6, activation: "linear", batchNorm: { epsilon: 0.01 } },
    ],
  };
}

/** regression() targets (far from unit scale) plus a third dimension, so D = 3. */
function data(n: number, seed: number) {
  const { x, y } = regression(n, seed);
  const y3 = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    y3[3 * i] = y.data[2 * i]!;
    y3[3 * i + 1] = y.data[2 * i + 1]!;
    y3[3 * i + 2] = 0.5 * y.data[2 * i]! - 3 * x.data[2 * i + 1]!;
  }
  return { x, y: { data: y3, shape: [n, 3] as [number, number] } };
}

describe("ONNX export", () => {
  it(`writes opset ${ONNX_OPSET} with input x and outputs pi, mu, sigma, batch dimension dynamic`, async () => {
    const m = await MDN.create({ inputDim: 2, outputDim: 3, components: 4, seed: 1 });
    const s = await session(m);
    expect(s.inputNames).toEqual(["x"]);
    expect(s.outputNames).toEqual(["pi", "mu", "sigma"]);
    for (const n of [1, 5, 37]) {
      const x = probeRows(n, 2, n);
      const out = await runOnnx(s, x, 2);
      const p = m.predict({ data: x, shape: [n, 2] });
      expect(out.pi.dims).toEqual(p.shapes.pi);
      expect(out.mu.dims).toEqual(p.shapes.mu);
      expect(out.sigma.dims).toEqual(p.shapes.sigma);
      expectMatch(out.pi.data as Float32Array, p.pi, `pi n=${n}`);
    }
    m.dispose();
  });

  for (const covariance of COVARIANCES) {
    for (const normalize of [false, true]) {
      for (const sigma of ["exp", "softplus"] as const) {
        it(`matches predict: ${covariance}, normalize ${normalize}, sigma ${sigma}`, async () => {
          const seed = 11 + COVARIANCES.indexOf(covariance) * 4 + (normalize ? 2 : 0) + (sigma === "exp" ? 0 : 1);
          const m = await MDN.create(caseConfig(covariance, normalize, sigma, seed));
          const { x, y } = data(96, seed);
          // Enough steps for the batch norms' moving statistics to leave their 0 / 1 start.
          await m.fit(x, y, { epochs: 6, batchSize: 16 });
          const probe = new Float32Array([...x.data.subarray(0, 40 * 2), ...probeRows(24, 2, seed)]);
          const p = m.predict({ data: probe, shape: [64, 2] });
          const out = await runOnnx(await session(m), probe, 2);
          expect(out.sigma.dims).toEqual(p.shapes.sigma);
          const report: string[] = [];
          for (const k of ["pi", "mu", "sigma"] as const) {
            const got = out[k].data as Float32Array;
            expectMatch(got, p[k], `${covariance} ${normalize} ${sigma} ${k}`);
            const e = errors(got, p[k]);
            report.push(`${k} rel ${e.rel.toExponential(1)} abs/max ${e.absOfMax.toExponential(1)}`);
          }
          if (covariance === "full") {
            // Zeros above the diagonal, exactly.
            const L = out.sigma.data as Float32Array;
            for (let e = 0; e < L.length; e++) if (e % 3 > Math.floor(e / 3) % 3) expect(L[e]).toBe(0);
          }
          console.log(`onnx ${covariance} normalize=${normalize} sigma=${sigma}: ${report.join("; ")}`);
          m.dispose();
        });
      }
    }
  }

  it("matches predict with no hidden layers (the head reads the standardised inputs)", async () => {
    const m = await MDN.create({ inputDim: 2, outputDim: 3, components: 2, hidden: [], covariance: "full", normalize: true, seed: 5 });
    const { x, y } = data(64, 5);
    await m.fit(x, y, { epochs: 3, batchSize: 16 });
    const probe = probeRows(33, 2, 9);
    const p = m.predict({ data: probe, shape: [33, 2] });
    const out = await runOnnx(await session(m), probe, 2);
    for (const k of ["pi", "mu", "sigma"] as const) expectMatch(out[k].data as Float32Array, p[k], k);
    m.dispose();
  });

  for (const sigma of ["exp", "softplus"] as const) {
    it(`matches predict at the sigma floor and the activation's extremes (${sigma})`, async () => {
      const K = 8;
      const m = await MDN.create({ inputDim: 1, outputDim: 2, components: K, covariance: "diagonal", hidden: [], sigma: { activation: sigma, floor: 1e-3 }, seed: 3 });
      const w = m.getWeights();
      const kernel = w[0]!.data.fill(0);
      const bias = w[1]!.data;
      // Raw sigma from -80 (under every floor, exp underflows) to +80 (softplus is linear, exp huge).
      const raw = [-80, -30, -9, -6.9, -1, 0, 1, 10, 30, 40, 60, 80, -50, 5, -3, 2];
      bias.set(raw, K + K * 2);
      kernel.fill(0);
      // The pi logits over 60 units apart: softmax must subtract the max.
      bias.set([60, -60, 0, 59, 1, -1, 30, 0], 0);
      m.setWeights(w);
      const x = new Float32Array([0, 1, -1]);
      const p = m.predict({ data: x, shape: [3, 1] });
      const out = await runOnnx(await session(m), x, 1);
      expect(p.sigma.some((v) => v === 1e-3 || v === Math.fround(1e-3))).toBe(true);
      for (const k of ["pi", "mu", "sigma"] as const) {
        const got = out[k].data as Float32Array;
        // Relative alone for sigma: every entry is a scale in its own right.
        if (k === "sigma") for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - p.sigma[i]!), `sigma[${i}] raw ${raw[i % 16]}`).toBeLessThanOrEqual(1e-5 * p.sigma[i]!);
        else expectMatch(got, p[k], k);
      }
      m.dispose();
    });
  }

  it("rejects anything but a live MDN with a typed error", async () => {
    expect(() => toOnnx({} as MDN)).toThrow(MdnError);
    expect(() => toOnnx({} as MDN)).toThrow(/model: expected an MDN/);
    const m = await MDN.create({ inputDim: 1, outputDim: 1, components: 1, seed: 1 });
    m.dispose();
    expect(() => toOnnx(m)).toThrow(expect.objectContaining({ code: "DISPOSED" }));
  });
});
