// Shared by every bench script: timing through tinybench, and the facts about the machine.
import { readFileSync } from "node:fs";
import os from "node:os";
import { Bench } from "tinybench";

/**
 * Time fn with tinybench: `iterations` samples after `warmup` untimed calls (at least `time` ms
 * of samples). fn may return { overriddenDuration } (ms) to time only part of its work. Returns
 * the latency samples' median, min and max in ms.
 */
export async function measure(fn, { iterations = 10, time = 0, warmup = 1 } = {}) {
  const bench = new Bench({ iterations, time, warmup: warmup > 0, warmupIterations: warmup, warmupTime: 0, retainSamples: true, throws: true });
  bench.add("task", fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return { median: r.latency.p50, min: r.latency.min, max: r.latency.max, samples: r.latency.samples?.length ?? iterations };
}

/** CPU model, cores, memory, load, OS, node: written at the top of RESULTS.md. */
export function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  const mhz = /cpu MHz\s*:\s*(.*)/.exec(cpuinfo)?.[1];
  const flags = /flags\s*:\s*(.*)/.exec(cpuinfo)?.[1].split(" ") ?? [];
  return {
    cpu: model,
    mhz: mhz ? Number(mhz) : null,
    simdFlags: ["sse4_2", "avx", "avx2", "fma", "avx512f"].filter((f) => flags.includes(f)),
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
  };
}

/** Exact versions of the packages in play, from their package.json files. */
export function versions() {
  const v = (p) => JSON.parse(readFileSync(new URL(`../node_modules/${p}/package.json`, import.meta.url), "utf8")).version;
  const self = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  return {
    "mdn-wasm": self.version,
    assemblyscript: v("assemblyscript"),
    tinybench: v("tinybench"),
    "@tensorflow/tfjs-core": v("@tensorflow/tfjs-core"),
    "@tensorflow/tfjs-layers": v("@tensorflow/tfjs-layers"),
    "@tensorflow/tfjs-backend-cpu": v("@tensorflow/tfjs-backend-cpu"),
    "@tensorflow/tfjs-backend-wasm": v("@tensorflow/tfjs-backend-wasm"),
  };
}
