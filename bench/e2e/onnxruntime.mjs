// onnxruntime side of the inference comparison, run in its own process by bench/run.mjs:
//   node bench/e2e/onnxruntime.mjs '{"runtime":"node"|"web","threads":1,"quick":false}'
// -> one JSON line: single-row predict of the seed model (us) and W2 predict at batch 4096 (rows/s).
// The models are mdn-wasm's own, exported with mdn-wasm/onnx (the same weights and graph as
// predict: batch norm as nodes, softmax, exp, the floor and ceiling), so both runtimes compute
// the same outputs; inputs and outputs are float32 tensors read back as arrays.
import { MDN } from "../../dist/index.js";
import { toOnnx } from "../../dist/onnx.js";
import { measure } from "../lib.mjs";
import { mixtureData, SEED, seedData, W2 } from "./workloads.mjs";

const opts = JSON.parse(process.argv[2] ?? "{}");
const quick = !!opts.quick;
const threads = opts.threads ?? 1;
const ort = opts.runtime === "web" ? await import("onnxruntime-web") : await import("onnxruntime-node");
if (opts.runtime === "web") {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
}
const sessionOptions = opts.runtime === "web" ? { executionProviders: ["wasm"] } : { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ["cpu"] };

function config(w) {
  const hidden = w.hidden.map((units) => ({ units, activation: "relu", dropout: 0.2, batchNorm: true }));
  return { inputDim: w.inputDim, outputDim: w.outputDim, components: w.components, hidden, seed: 0 };
}
const m = (data, cols) => ({ data, shape: [data.length / cols, cols] });

/** A model of workload w trained for one short epoch (so batch norm has statistics), as ONNX. */
async function session(w, d) {
  const model = await MDN.create(config(w));
  const n = Math.min(d.rows, 4096);
  await model.fit(m(d.x.subarray(0, n * w.inputDim), w.inputDim), m(d.y.subarray(0, n * w.outputDim), w.outputDim), { epochs: 1, batchSize: 256 });
  const s = await ort.InferenceSession.create(toOnnx(model), sessionOptions);
  model.dispose();
  return s;
}

async function run(s, x, rows, cols) {
  const out = await s.run({ x: new ort.Tensor("float32", x, [rows, cols]) });
  return [out.pi.data, out.mu.data, out.sigma.data];
}

const result = { runtime: opts.runtime, threads, version: ort.env.versions?.common ?? null };
{
  const d = seedData();
  const s = await session(SEED, d);
  const row = d.x.slice(0, 2);
  const reps = 500;
  const p = await measure(async () => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await run(s, row, 1, 2);
    return { overriddenDuration: (performance.now() - t0) / reps };
  }, { iterations: quick ? 10 : 40, warmup: 5 });
  result.predict1 = { us: { median: p.median * 1e3, min: p.min * 1e3, max: p.max * 1e3 } };
}
{
  const d = mixtureData(W2);
  const s = await session(W2, d);
  const B = W2.predictBatch;
  const x = d.x.slice(0, B * W2.inputDim);
  const p = await measure(() => run(s, x, B, W2.inputDim), { iterations: quick ? 20 : 60, warmup: 5 });
  result.w2 = { predictRowsPerS: { median: B / (p.median / 1e3), min: B / (p.max / 1e3), max: B / (p.min / 1e3) } };
}
console.log(JSON.stringify(result));
