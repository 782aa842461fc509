// No subnormal float32 values in training or inference (issue 16 point 3). Intel cores take a
// microcode assist on every subnormal operand or result (a bare f32x4 multiply-add loop ran 18x
// slower with subnormal operands on the Xeon) and WebAssembly cannot set flush-to-zero,
// so the kernels flush at the source instead. Counting is machine-independent: this test guards
// the Intel path from any machine.
//
// Two parts: a W3-like fit and its inference watched kernel call by kernel call (every float
// buffer a kernel reads or writes, test/subnormal-watch.ts), and one test per flush on inputs that
// used to give subnormals (exp of -90 is in test/simdmath.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { dataRng, seedClusters } from "../src/index.js";
import { DROPOUT_WORK_BYTES, type TestKernels as Kernels } from "../src/engine/kernels.js";
import { ACTS, FLOOR, runHead, runParams } from "./head-suite.js";
import { adamFlushMoments, flushPeriod } from "./reference/adam.js";
import { batchnormUpdateMoving } from "./reference/batchnorm.js";
import { mixtureForward } from "./reference/mixture.js";
import { byClass, subnormalsOf, type Tally, watchKernels } from "./subnormal-watch.js";
import { buildFile, expectClose, expectIdentical, Heap, IN_NODE, loadKernels, normal, SIZES, testRng } from "./util.js";

let module: WebAssembly.Module;
let k: Kernels;
beforeAll(async () => {
  module = await WebAssembly.compile(await buildFile("mdn.wasm"));
  k = await loadKernels();
});

const FLT_MIN = 2 ** -126;
/** Subnormal float32 values in xs (already float32, read back as float64). */
const subnormals = (xs: ArrayLike<number>) => {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] !== 0 && Math.abs(xs[i]!) < FLT_MIN) n++;
  return n;
};

/**
 * The W3 with 2 inputs: the seed's clusters, each target its cluster's centre tiled to 16
 * dimensions plus N(0, 0.1^2) noise.
 */
function w3Data(rows: number, seed: number): { x: Float32Array; y: Float32Array } {
  const c = seedClusters(rows, seed);
  const noise = dataRng(seed + 1000);
  const y = new Float32Array(rows * 16);
  for (let r = 0; r < rows; r++) for (let d = 0; d < 16; d++) y[r * 16 + d] = c.y[r * 2 + (d & 1)]! + 0.1 * noise.normal();
  return { x: c.x, y };
}

const W3 = {
  inputDim: 2, outputDim: 16, components: 16,
  hidden: [128, 128].map((units) => ({ units, activation: "relu" as const, dropout: 0.2, batchNorm: true })),
};

function report(label: string, t: Tally): string {
  const lines = [`${label}:`];
  for (const [cls, { subnormal, examined }] of [...byClass(t)].sort()) lines.push(`  ${cls.padEnd(36)} ${String(subnormal).padStart(9)} of ${examined}`);
  const bad = [...t.byBuffer].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  for (const [key, n] of bad) lines.push(`    ${key}: ${n}`);
  return lines.join("\n");
}

function total(t: Tally): number {
  let s = 0;
  for (const n of t.byBuffer.values()) s += n;
  return s;
}

describe("subnormals", () => {
  it("none in any activation, gradient, Adam moment or output over a W3-like fit and its inference", async () => {
    const rows = 4096;
    const { x, y } = w3Data(rows, 3);
    const { model, tally } = await watchKernels({ ...W3, seed: 5 }, module);
    await model.fit({ data: x, shape: [rows, 2] }, { data: y, shape: [rows, 16] }, { epochs: 4, batchSize: 256, optimizer: { name: "adam", learningRate: 1e-3 } });
    const fit = structuredClone(tally);
    const xs = { data: x.subarray(0, 2048 * 2), shape: [2048, 2] as [number, number] };
    const ys = { data: y.subarray(0, 2048 * 16), shape: [2048, 16] as [number, number] };
    const p = model.predict(xs);
    const outputs = {
      pi: subnormalsOf(p.pi), mu: subnormalsOf(p.mu), sigma: subnormalsOf(p.sigma),
      logProb: subnormalsOf(model.logProb(xs, ys)),
      responsibilities: subnormalsOf(model.responsibilities(xs, ys)),
    };
    model.evaluate(xs, ys);
    if (IN_NODE && process.env.MDN_SUBNORMAL_REPORT) console.log(`${report("fit", fit)}\n${report("fit and inference", tally)}`, outputs);
    // Every step watched, and inference's kernels after it (predict, logProb, responsibilities and
    // evaluate each run the head).
    expect(tally.calls.get("adam_step")).toBe(64);
    expect(tally.calls.get("mixture_iso_forward")! - fit.calls.get("mixture_iso_forward")!).toBeGreaterThanOrEqual(3);
    expect(tally.calls.get("mixture_iso_params")! - (fit.calls.get("mixture_iso_params") ?? 0)).toBeGreaterThanOrEqual(1);
    expect(total(tally), report("fit and inference", tally)).toBe(0);
    expect(outputs).toEqual({ pi: 0, mu: 0, sigma: 0, logProb: 0, responsibilities: 0 });
  });
});

describe("each flush, on inputs that gave subnormals", () => {
  const COVARIANCES = [["isotropic", (D: number) => 1], ["diagonal", (D: number) => D], ["full", (D: number) => (D * (D + 1)) / 2]] as const;

  for (const [covariance, sk] of COVARIANCES) {
    for (const [actName, sigmaAct] of ACTS) {
      it(`mixture (${covariance}, ${actName}): responsibilities, mixing weights and gradient are 0 or normal`, () => {
        // Logits spread over +-75 and means off the targets: responsibilities and mixing weights
        // from 1 down past 1e-40, gradient terms with them.
        let zeros = 0;
        for (const N of [1, 5, 33]) {
          const K = 9, D = 3;
          const P = K + K * D + K * sk(D);
          const rng = testRng(N);
          const a = normal(rng, N * P, 0.3);
          for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) a[n * P + j] = 25 * normal(rng, 1)[0]!;
          const y = normal(rng, N * D);
          const c = { a, y, dims: { N, K, D, floor: FLOOR, sigmaAct } };
          const scale = 1 / 256;
          const got = runHead(k, covariance, c, false, scale, new Float64Array(N * P));
          const twin = runHead(k, covariance, c, true, scale, new Float64Array(N * P));
          const p = runParams(k, covariance, c, false);
          for (const [name, x] of [["gamma", got.gamma], ["da", got.da], ["nll", got.nll], ["pi", p.pi], ["sigma", p.sigma]] as const) {
            expect(subnormals(x), `${name} N=${N}`).toBe(0);
          }
          expectIdentical(got.gamma, twin.gamma, "gamma");
          expectIdentical(got.da, twin.da, "da");
          expectIdentical(p.pi, runParams(k, covariance, c, true).pi, "pi");
          // Probabilities are 0 or at least 2^-80, and the flushed ones are those the float64
          // reference puts below the cut (it cuts the same way); the rest match it.
          for (const x of [got.gamma, p.pi]) expect(x.every((v) => v === 0 || v >= 2 ** -80)).toBe(true);
          if (covariance === "isotropic") {
            const want = mixtureForward(a, y, c.dims).gamma;
            zeros += got.gamma.filter((v) => v === 0).length;
            for (let i = 0; i < want.length; i++) {
              if (want[i]! < 2 ** -85) expect(got.gamma[i], `gamma[${i}]`).toBe(0);
              else if (want[i]! > 2 ** -65) expect(Math.abs(got.gamma[i]! - want[i]!) / want[i]!).toBeLessThan(1e-4);
            }
          }
        }
        if (covariance === "isotropic") expect(zeros).toBeGreaterThan(10);
      });
    }
  }

  it("adam: a dead parameter's m and v reach exactly 0 and never a subnormal", () => {
    for (const n of SIZES) {
      const w0 = normal(testRng(n), n, 0.1);
      const runs = (["step", "scalar"] as const).map((variant) => {
        const h = new Heap(k);
        const w = h.put(w0);
        const g = h.put(Float64Array.from({ length: n }, (_, i) => (i % 3 ? 1e-3 : -1e-3)));
        const m = h.put(new Float64Array(n)), v = h.put(new Float64Array(n));
        const hp = h.alloc(14);
        new Float64Array(k.memory.buffer, hp, 7).set([1e-3, 0, 0.9, 0.999, 1e-7, 0, 0]);
        let bad = 0, mZeroAt = -1, vZeroAt = -1;
        // One step with a gradient, then 70,000 with none: m decays by 0.9 a step, v by 0.999.
        for (let t = 1; t <= 70_000; t++) {
          if (variant === "step") k.adam_step(w, g, m, v, n, 0, t, hp);
          else {
            k.adam_update_scalar(w, g, m, v, n, k.adam_lr_t(1e-3, 0, 0.9, 0.999, t), 0.9, 0.999, 1e-7, 0);
            if (t % 128 === 0) k.adam_flush_moments_scalar(m, v, n, 1e-7);
          }
          if (t === 1) h.f32(g, n).fill(0);
          bad += subnormals(h.f32(m, n)) + subnormals(h.f32(v, n));
          if (mZeroAt < 0 && h.f32(m, n).every((x) => x === 0)) mZeroAt = t;
          if (vZeroAt < 0 && h.f32(v, n).every((x) => x === 0)) vZeroAt = t;
        }
        return { bad, mZeroAt, vZeroAt, m: h.get(m, n), v: h.get(v, n), w: h.get(w, n) };
      });
      expect(runs[0]!.bad, `n=${n}`).toBe(0);
      // m = 1e-4 after the first step, then 1e-4 * 0.9^t: below 2^-80 from t = 439, flushed at the
      // next pass (every 128 steps at beta1 0.9); unflushed it would go subnormal from t ~ 732.
      expect(runs[0]!.mZeroAt).toBe(512);
      // v = 1e-9 * 0.999^t: below 2^-100 from t ~ 48,570, flushed at 48,640; unflushed it would go
      // subnormal from t ~ 66,500.
      expect(runs[0]!.vZeroAt).toBe(48_640);
      expectIdentical(runs[0]!.w, runs[1]!.w, "w");
      expect(runs[1]!.mZeroAt).toBe(512);
      expect(runs[1]!.vZeroAt).toBe(48_640);
    }
  });

  it("adam: the moments' flush matches its scalar twin and the float64 reference at its thresholds", () => {
    for (const eps of [1e-7, 1e-8, 1e-12, 1e-30]) {
      const vMin = Math.fround(Math.min(2 ** -100, (Math.fround(eps) * 2 ** -25) ** 2));
      const ms = [0, -0, 1e-3, -1e-30, 2 ** -80, -(2 ** -80), 2 ** -80 * 0.999, -(2 ** -81), 2 ** -126, NaN, Infinity, -5];
      const vs = [0, 1e-3, vMin, vMin * 0.999, vMin * 1.001, 2 ** -101, 2 ** -120, 2 ** -126, NaN, Infinity, 1e-20, 3];
      for (const n of [1, 5, 12]) {
        const got = (["simd", "scalar"] as const).map((variant) => {
          const h = new Heap(k);
          const m = h.put(ms.slice(0, n)), v = h.put(vs.slice(0, n));
          (variant === "simd" ? k.adam_flush_moments : k.adam_flush_moments_scalar)(m, v, n, eps);
          return [h.get(m, n), h.get(v, n)];
        });
        expectIdentical(got[0]![0]!, got[1]![0]!, "m");
        expectIdentical(got[0]![1]!, got[1]![1]!, "v");
        const mr = Float64Array.from(ms.slice(0, n), Math.fround), vr = Float64Array.from(vs.slice(0, n), Math.fround);
        adamFlushMoments(mr, vr, Math.fround(eps));
        expectIdentical(got[0]![0]!, mr, `m, eps ${eps}`);
        expectIdentical(got[0]![1]!, vr, `v, eps ${eps}`);
      }
    }
    for (const [b1, b2] of [[0.9, 0.999], [0.85, 0.995], [0.5, 0.999], [0, 0.999], [0.9, 0], [0.99, 0.9999], [1e-7, 0.9]] as const) {
      expect(k.flush_period(b1, b2), `${b1} ${b2}`).toBe(flushPeriod(Math.fround(b1), Math.fround(b2)));
    }
    expect(k.flush_period(0.9, 0.999)).toBe(128);
  });

  it("adam: adam_step flushes after its update every flush_period steps, and only then", () => {
    const n = 13;
    const h = new Heap(k);
    // w | g | m | v: even entries dead (no gradient, m of order 1e-27, v around vMin = 2^-100).
    const init = [
      normal(testRng(1), n),
      normal(testRng(2), n, 1e-3).map((x, i) => (i % 2 ? x : 0)),
      normal(testRng(3), n, 1e-27),
      Float64Array.from({ length: n }, (_, i) => (i % 2 ? 1e-8 : 2 ** -100 * (0.5 + i / n))),
    ];
    const hp = h.alloc(14);
    new Float64Array(k.memory.buffer, hp, 7).set([1e-3, 0, 0.9, 0.999, 1e-7, 0, 0]);
    for (const t of [127, 128, 256, 300]) {
      const viaStep = h.alloc(4 * Math.ceil(n / 4) * 4), plain = h.alloc(4 * Math.ceil(n / 4) * 4);
      const bytes = Math.ceil(n / 4) * 16;
      for (const base of [viaStep, plain]) init.forEach((x, j) => h.f32(base + j * bytes, n).set(x));
      k.adam_step(viaStep, viaStep + bytes, viaStep + 2 * bytes, viaStep + 3 * bytes, 8, n - 8, t, hp);
      k.adam_update(plain, plain + bytes, plain + 2 * bytes, plain + 3 * bytes, n, k.adam_lr_t(1e-3, 0, 0.9, 0.999, t), 0.9, 0.999, 1e-7, 0);
      if (t % 128 === 0) k.adam_flush_moments(plain + 2 * bytes, plain + 3 * bytes, n, 1e-7);
      for (let j = 0; j < 4; j++) expectIdentical(h.get(viaStep + j * bytes, n), h.get(plain + j * bytes, n), `t=${t} region ${j}`);
      // The flush did something at the flush steps: the dead entries' m and small v are 0 there,
      // and only there.
      const m = h.get(viaStep + 2 * bytes, n), v = h.get(viaStep + 3 * bytes, n);
      expect(m.some((x) => x !== 0 && Math.abs(x) < 2 ** -80), `t=${t}`).toBe(t % 128 !== 0);
      expect(v.some((x) => x !== 0 && x < 2 ** -100), `t=${t}`).toBe(t % 128 !== 0);
    }
  });

  it("batch norm: a dead channel's moving statistics reach exactly 0 and never a subnormal", () => {
    for (const C of SIZES) {
      const runs = (["simd", "scalar"] as const).map((variant) => {
        const h = new Heap(k);
        const init = normal(testRng(C), C, 2);
        const mm = h.put(init), mv = h.put(init.map(Math.abs));
        const zeros = h.put(new Float64Array(C));
        const update = variant === "simd" ? k.batchnorm_update_moving : k.batchnorm_update_moving_scalar;
        let bad = 0;
        let ref: Float64Array[] = [Float64Array.from(h.get(mm, C)), Float64Array.from(h.get(mv, C))];
        // 0.99^t falls from ~1 below 2^-100 after ~7,000 steps and below 2^-126 after ~8,700.
        for (let t = 0; t < 9_000; t++) {
          update(mm, mv, zeros, zeros, C, 0.99);
          bad += subnormals(h.f32(mm, C)) + subnormals(h.f32(mv, C));
          if (t < 200) ref = ref.map((r) => batchnormUpdateMoving(r, new Float64Array(C), Math.fround(0.99)));
          if (t === 199) {
            expectClose(h.get(mm, C), ref[0]!, { atol: 0, rtol: 1e-4 }, "moving mean");
            expectClose(h.get(mv, C), ref[1]!, { atol: 0, rtol: 1e-4 }, "moving var");
          }
        }
        return { bad, mm: h.get(mm, C), mv: h.get(mv, C) };
      });
      expect(runs[0]!.bad + runs[1]!.bad, `C=${C}`).toBe(0);
      expect([...runs[0]!.mm, ...runs[0]!.mv]).toEqual(new Array(2 * C).fill(0));
      expectIdentical(runs[0]!.mm, runs[1]!.mm, "mm");
      expectIdentical(runs[0]!.mv, runs[1]!.mv, "mv");
    }
  });

  it("tanh: tiny inputs keep their bits, and the derivative there is exactly 1 (no subnormal square formed)", () => {
    // The flush here is internal (the rational evaluated at 0.0004, h^2 skipped below 2^-13): the
    // outputs are the same bits as before, which this pins down at and around the edges.
    const xs = [1e-20, -3e-30, 2 ** -126, 1.1e-19, -1.2e-4, 1.2208e-4, 1.2209e-4, 3.9e-4, 4e-4, 0.5];
    const h = new Heap(k);
    const inp = h.put(xs), out = h.alloc(xs.length), deriv = h.alloc(xs.length), state = h.alloc(4);
    k.act_dropout_forward(out, deriv, inp, xs.length, 1, 0, state, h.alloc(DROPOUT_WORK_BYTES / 4));
    const hv = h.get(out, xs.length), d = h.get(deriv, xs.length);
    for (let i = 0; i < 4; i++) expect(hv[i]).toBe(Math.fround(xs[i]!));
    for (let i = 0; i < xs.length; i++) {
      const y = Math.fround(hv[i]!);
      expect(d[i], `x=${xs[i]}`).toBe(Math.fround(1 - Math.fround(y * y)));
    }
    expect(Array.from(d.slice(0, 6))).toEqual([1, 1, 1, 1, 1, 1]);
    const dinp = h.put(new Float64Array(xs.length)), dout = h.put(xs.map(() => 0.5));
    k.tanh_backward(dinp, dout, out, xs.length);
    expect(h.get(dinp, xs.length).slice(0, 6).every((x) => x === 0.5)).toBe(true);
  });
});
