// The benchmark suite: `npm run bench` (full) or `npm run bench:quick` (under 3 minutes).
// Order: SIMD-peak probe, kernels, peak again, then the end-to-end rounds (mdn-wasm, TensorFlow.js
// cpu, TensorFlow.js wasm, each in its own process, alternating), then the memory check.
// Writes bench/results.json and bench/RESULTS.md.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { kernels, peak } from "./kernels.mjs";
import { machine, versions } from "./lib.mjs";
import { median } from "./e2e/workloads.mjs";

const quick = process.argv.includes("--quick");
const here = new URL(".", import.meta.url).pathname;
const started = new Date();
const log = (s) => process.stderr.write(s + "\n");

execFileSync("npx", ["asc", "bench/assembly/peak.ts", "--enable", "simd", "-O3", "--runtime", "stub", "--noAssert", "--initialMemory", "8", "-o", "bench/build/peak.wasm", "--textFile", "bench/build/peak.wat"], { cwd: here + "..", stdio: "inherit" });

const mach = machine();
log(`machine: ${mach.cpu}, ${mach.cores} cores, load ${mach.loadavg.join(" ")}`);
log("peak probe ...");
const peakBefore = await peak(quick);
log(`  ${peakBefore.gflops.median.toFixed(1)} GFLOP/s`);
log("kernels ...");
const kern = await kernels(quick);
const peakAfter = await peak(quick);
// The ceiling is the register peak, the higher of its two runs, so no kernel is flattered by a slow probe.
const peakGflops = Math.max(peakBefore.gflops.median, peakAfter.gflops.median);

const sides = [
  { name: "mdn-wasm", script: "e2e/mdn.mjs", args: {} },
  { name: "tfjs-cpu", script: "e2e/tfjs.mjs", args: { backend: "cpu" } },
  { name: "tfjs-wasm", script: "e2e/tfjs.mjs", args: { backend: "wasm" } },
];
const rounds = quick ? 1 : 3;
const runs = Object.fromEntries(sides.map((s) => [s.name, []]));
for (let r = 0; r < rounds; r++) {
  // Alternate the order each round so no side always runs first (or right after the heaviest one).
  const order = r % 2 ? [...sides].reverse() : sides;
  for (const s of order) {
    log(`round ${r + 1}/${rounds}: ${s.name} ...`);
    const p = spawnSync(process.execPath, [here + s.script, JSON.stringify({ ...s.args, quick })], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (p.status !== 0) throw new Error(`${s.name} failed:\n${p.stderr}`);
    runs[s.name].push(JSON.parse(p.stdout.trim().split("\n").pop()));
  }
}
log("memory ...");
function memoryRun(flags, args) {
  const p = spawnSync(process.execPath, [...flags, here + "memory.mjs", ...args], { encoding: "utf8" });
  if (p.status !== 0) throw new Error(`memory ${args.join(" ")} failed:\n${p.stderr}`);
  return JSON.parse(p.stdout.trim().split("\n").pop());
}
const memory = memoryRun(["--expose-gc"], ["heap"]);
const SEMI = ["--max-semi-space-size=1", "--min-semi-space-size=1"];
memory.scavenges = Object.fromEntries([1, 2].map((models) => {
  const few = memoryRun(SEMI, ["scav", "128", String(models)]);
  const many = memoryRun(SEMI, ["scav", "4", String(models)]);
  const extra = Math.max(0, many.scavenges - few.scavenges);
  return [models === 1 ? "oneModel" : "twoModels", { few, many, perBatchBoundBytes: ((extra + 1) * 1048576) / (many.batches - few.batches) }];
}));

/** Across rounds: median of the per-round medians, min of mins, max of maxes. */
function across(name, pick) {
  const xs = runs[name].map(pick);
  return { median: median(xs.map((x) => x.median)), min: Math.min(...xs.map((x) => x.min)), max: Math.max(...xs.map((x) => x.max)) };
}
const METRICS = [
  { key: "w1", label: "W1 seed fit (512 rows, 128 epochs), ms", pick: (o) => o.w1.fitMs, lower: true },
  { key: "w2train", label: "W2 training, rows/s", pick: (o) => o.w2.trainRowsPerS },
  { key: "w2predict", label: "W2 predict at batch 4096, rows/s", pick: (o) => o.w2.predictRowsPerS },
  { key: "w3train", label: "W3 training, rows/s", pick: (o) => o.w3.trainRowsPerS },
  { key: "predict1", label: "Seed model single-row predict, us", pick: (o) => o.predict1.us, lower: true },
];
const e2e = {};
for (const m of METRICS) e2e[m.key] = Object.fromEntries(sides.map((s) => [s.name, across(s.name, m.pick)]));
/** How many times better mdn-wasm is than a peer (time: peer / ours; rate: ours / peer). */
const ratio = (m, peer) => (m.lower ? e2e[m.key][peer].median / e2e[m.key]["mdn-wasm"].median : e2e[m.key]["mdn-wasm"].median / e2e[m.key][peer].median);
const tfjsInfo = runs["tfjs-wasm"][0];

const results = {
  date: started.toISOString(), quick, rounds, machine: mach, loadavgAtEnd: machine().loadavg, versions: versions(),
  peak: { before: peakBefore, after: peakAfter, gflops: peakGflops },
  kernels: kern, e2e, tfjsWasm: { simd: tfjsInfo.wasmSimd, threads: tfjsInfo.wasmThreads }, memory,
};
writeFileSync(here + "results.json", JSON.stringify(results, null, 2) + "\n");

// ---- RESULTS.md ----
const f = (x, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const mmm = (r, d = 1) => `${f(r.median, d)} (${f(r.min, d)}–${f(r.max, d)})`;
const pct = (g) => `${f((100 * g) / peakGflops, 0)}%`;
const best = (m) => (m.lower ? Math.min : Math.max)(e2e[m.key]["tfjs-cpu"].median, e2e[m.key]["tfjs-wasm"].median);
const md = [];
md.push("# Benchmarks: mdn-wasm vs TensorFlow.js and vs the SIMD peak", "");
md.push(`Generated by \`npm run bench${quick ? ":quick" : ""}\` (bench/run.mjs) on ${started.toISOString()}; raw figures in results.json.`);
md.push("Figures are medians, with (min–max) across samples and rounds. Higher is better except where a unit of time is given.", "");
md.push("## Machine", "");
md.push(`- CPU: ${mach.cpu}${mach.mhz ? ` at ${f(mach.mhz, 0)} MHz` : ""}, ${mach.cores} cores (SIMD flags: ${mach.simdFlags.join(", ")}), ${mach.memoryGiB} GiB`);
md.push(`- ${mach.os}; Node ${mach.node} (V8 ${mach.v8}); every measurement runs on one thread`);
md.push(`- Load average at start ${mach.loadavg.join(" / ")}, at end ${results.loadavgAtEnd.join(" / ")} (1/5/15 min): other processes shared the 2 cores, so absolute figures are noisy; ratios come from alternating rounds`);
md.push(`- Packages: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`, "");
md.push("## SIMD peak", "");
md.push(`bench/assembly/peak.ts (AssemblyScript, \`asc --enable simd -O3\`), f32x4 mul + add; WebAssembly SIMD has no fused multiply-add, so a mul+add pair is 8 flops. The register peak runs 12 independent chains x_j += x_(j+1) * c on registers only (every product reads the previous step's accumulators, so nothing is hoisted or folded; the .wat keeps all 12 mul+add pairs in the loop). The tile probes are the GEMM inner step with operands loaded from L1, 8 (4 x 8 tile) or 12 (6 x 8) accumulators: the best a GEMM kernel can sustain.`, "");
md.push(`| probe | before kernels, GFLOP/s | after kernels, GFLOP/s |`, "| --- | --- | --- |");
md.push(`| registers, 12 chains | ${mmm(peakBefore.register)} | ${mmm(peakAfter.register)} |`);
md.push(`| 4 x 8 tile | ${mmm(peakBefore.tile4x8)} | ${mmm(peakAfter.tile4x8)} |`);
md.push(`| 6 x 8 tile | ${mmm(peakBefore.tile6x8)} | ${mmm(peakAfter.tile6x8)} |`, "");
md.push(`**Peak used for the percentages: ${f(peakGflops)} GFLOP/s** (the register peak, the higher of its two medians).`, "");
md.push("## Kernels", "");
md.push("Dense layer, square (I = O = width). Forward is one product (2·N·I·O flops); backward is dinp and dw (4·N·I·O flops) plus db.", "");
md.push("| N | width | forward GFLOP/s | % of peak | backward GFLOP/s | % of peak |", "| --- | --- | --- | --- | --- | --- |");
for (const d of kern.dense) md.push(`| ${d.N} | ${d.I} | ${mmm(d.forward)} | ${pct(d.forward.median)} | ${mmm(d.backward)} | ${pct(d.backward.median)} |`);
md.push("", "Mixture NLL with its gradient, as a training step calls it (mixture_<type>_forward with its gradient output, exp sigma, batch of 256 rows):", "");
md.push("| covariance | K | D | rows/s |", "| --- | --- | --- | --- |");
for (const m of kern.mixture) md.push(`| ${m.covariance} | ${m.K} | ${m.D} | ${mmm(m.rowsPerS, 0)} |`);
md.push("", "Adam (one flat loop over the parameter region):", "");
md.push("| parameters | parameters/s |", "| --- | --- |");
for (const a of kern.adam) md.push(`| ${f(a.n, 0)} | ${mmm(a.paramsPerS, 0)} |`);
md.push("", "## End to end", "");
md.push(`Same model, data and settings on each side, each side in its own process, ${rounds} round(s) in alternating order. Model: Dense -> relu -> Dropout(0.2) -> BatchNorm per hidden layer, a Dense head of K + K·D + K outputs, the isotropic mixture NLL in log space (TensorFlow.js: tfjs-core + tfjs-layers with a custom loss written like ours, bench/e2e/tfjs.mjs). Adam, shuffle every epoch.`, "");
md.push("- W1: the seed's fit: 2 -> [32, 32] -> K = 4, D = 2; 512 rows with 20% validation, batch 128, 128 epochs, validation loss every epoch; wall time of fit.");
md.push("- W2: 2 -> [256, 256] -> K = 8, D = 2; 65,536 rows, batch 256: training rows/s; predict rows/s at batch 4096.");
md.push("- W3: 16 -> [128, 128] -> K = 16, D = 16; 16,384 rows, batch 256: training rows/s.");
md.push("- Single-row predict of the seed model: one input row in, pi, mu and sigma out as arrays.");
md.push(`- mdn-wasm's training rates are whole epochs of fit. TensorFlow.js's are rates over a bounded number of batches: timed inside one fit over the full data from the end of batch 3 over the next ${quick ? 8 : 24} batches, then stopped (set-up left out, which favours it).`);
if (quick) md.push("- Quick mode: TensorFlow.js warms up for W1 with a 4-epoch fit instead of a whole untimed fit; every timed W1 fit is the full 128 epochs.");
md.push(`- TensorFlow.js wasm backend: SIMD ${tfjsInfo.wasmSimd ? "on" : "OFF"}, threads ${tfjsInfo.wasmThreads ? "on" : "off"} (tfjs-backend-wasm does not run its threaded build in Node, so both libraries use one thread).`, "");
md.push("| workload | mdn-wasm | TF.js cpu | TF.js wasm (SIMD) | mdn / TF.js cpu | mdn / TF.js wasm |", "| --- | --- | --- | --- | --- | --- |");
for (const m of METRICS) {
  const d = m.key === "predict1" ? 2 : m.key === "w1" ? 1 : 0;
  const e = e2e[m.key];
  md.push(`| ${m.label} | ${mmm(e["mdn-wasm"], d)} | ${mmm(e["tfjs-cpu"], d)} | ${mmm(e["tfjs-wasm"], d)} | ${f(ratio(m, "tfjs-cpu"))}x | ${f(ratio(m, "tfjs-wasm"))}x |`);
}
md.push("", "Ratios are \"times better\": for times, peer / mdn-wasm; for rates, mdn-wasm / peer.", "");
md.push("## Targets", "");
const w1 = METRICS[0], w2 = METRICS[1], p1 = METRICS[4];
const fwdBig = kern.dense.filter((d) => d.I >= 256).map((d) => (100 * d.forward.median) / peakGflops);
const w1x = best(w1) / e2e.w1["mdn-wasm"].median;
md.push("| target | measured | met |", "| --- | --- | --- |");
md.push(`| W1 at least 100x faster than TF.js on its best backend | ${f(w1x)}x (${f(e2e.w1["mdn-wasm"].median)} ms vs ${f(best(w1), 0)} ms) | ${w1x >= 100 ? "yes" : "no"} |`);
md.push(`| W2 training at least 15x TF.js wasm | ${f(ratio(w2, "tfjs-wasm"))}x (${f(e2e.w2train["mdn-wasm"].median, 0)} rows/s) | ${ratio(w2, "tfjs-wasm") >= 15 ? "yes" : "no"} |`);
md.push(`| Dense forward at width >= 256 at least 70% of peak | ${f(Math.min(...fwdBig), 0)}–${f(Math.max(...fwdBig), 0)}% | ${Math.min(...fwdBig) >= 70 ? "yes" : "no"} |`);
md.push(`| Single-row predict at most 2 us | ${f(e2e.predict1["mdn-wasm"].median, 2)} us | ${e2e.predict1["mdn-wasm"].median <= 2 ? "yes" : "no"} |`, "");
md.push("## Memory", "");
md.push(`\`node --expose-gc bench/memory.mjs heap\`: ${memory.epochs} epochs of the seed's fit (${memory.batchesPerEpoch} batches + validation per epoch), a forced GC at every epoch end.`, "");
md.push(`- JS heap after GC: ${f(memory.heapAfterGc.epoch1 / 1024, 0)} KiB after epoch 1, ${f(memory.heapAfterGc.epoch10 / 1024, 0)} KiB after 10, ${f(memory.heapAfterGc.epoch50 / 1024, 0)} KiB after 50, ${f(memory.heapAfterGc.epoch100 / 1024, 0)} KiB after 100 (growth from epoch 10 to 100: ${f(memory.retainedGrowthBytes / 1024, 1)} KiB: the History's arrays and whatever V8 keeps of compiled code and feedback; not per batch, see the scavenge counts).`);
const sc = memory.scavenges;
const scLine = (c) => `${c.few.epochs} epochs at batch 128 (${f(c.few.batches, 0)} batches): ${c.few.scavenges} scavenges; at batch 4 (${f(c.many.batches, 0)} batches): ${c.many.scavenges}; so at most ${f(c.perBatchBoundBytes, 1)} bytes per batch`;
md.push(`- Allocation per batch, counted by scavenges with a 1 MiB young generation (\`bench/memory.mjs scav\`, fresh process each): one model in the process: ${scLine(sc.oneModel)}. With another model trained first in the same process (every kernel call site has seen two wasm instances, so V8 stops inlining the calls; a double argument would then be boxed, which is why a step passes integers only): ${scLine(sc.twoModels)}.`);
writeFileSync(here + "RESULTS.md", md.join("\n") + "\n");
log("wrote bench/RESULTS.md and bench/results.json");
