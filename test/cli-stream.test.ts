// Streaming (issue 14, point 14): the CLI reads and writes CSV a block of rows at a time, so the
// JS heap it needs does not grow with the file, and results across blocks are the library's.
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../src/cli/csv.js";
import { loadModel } from "../src/cli/modelfile.js";
import { blockRows, blockSeed } from "../src/cli/sample.js";
import { adjustedRandScore, seedClusters } from "../src/index.js";
import { assertBuilt, clustersCsv, start } from "./cli-run.js";

let dir = "";
const at = (f: string) => join(dir, f);
const run = (...args: string[]) => start(args, { cwd: dir });

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "mdn-cli-stream-"));
  writeFileSync(at("small.csv"), clustersCsv(400, 1));
  const t = await run("train", "small.csv", "--x", "x1,x2", "--y", "y1,y2", "--hidden", "8", "--epochs", "5", "--seed", "1", "--out", "m.mdn");
  expect(t.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("memory does not grow with the number of rows", () => {
  /**
   * 100,000 rows (6 MB of CSV) under a 32 MB JS heap. The old code held the file as one string,
   * every cell as a string and the whole output as one string: each of these commands died of
   * heap exhaustion (SIGABRT) here from 80,000 rows on, as 3.5 million rows did without a limit.
   * Streaming keeps about 12 MB live whatever the length. Train still needs its numbers (8 bytes
   * a cell, outside the JS heap), but no longer the text.
   */
  it("predicts, samples, evaluates and trains 100,000 rows in a 32 MB heap", async () => {
    const ROWS = 100_000;
    const file = createWriteStream(at("big.csv"));
    file.write("x1,x2,y1,y2\n");
    for (let i = 0; i < ROWS; i += 1000) {
      let s = "";
      for (let j = i; j < i + 1000; j++) s += `${(j % 1000) / 1000},${(j % 777) / 777},${(j % 13) / 13},${(j % 7) / 7}\n`;
      file.write(s);
    }
    file.end();
    await finished(file);
    const heap = ["--max-old-space-size=32"];
    let stdoutLines = 0;
    const [predict, mean, sample, evaluate, train] = await Promise.all([
      start(["predict", "m.mdn", "big.csv", "--out", "p.csv"], { cwd: dir, node: heap }),
      start(["predict", "m.mdn", "big.csv", "--what", "mean"], { cwd: dir, node: heap, countStdout: (d) => (stdoutLines += d.toString().split("\n").length - 1) }),
      start(["sample", "m.mdn", "big.csv", "--n", "1", "--out", "s.csv"], { cwd: dir, node: heap }),
      start(["evaluate", "m.mdn", "big.csv", "--json"], { cwd: dir, node: heap }),
      start(["train", "big.csv", "--x", "x1,x2", "--y", "y1,y2", "--hidden", "4", "--epochs", "1", "--batch-size", "4096", "--out", "t.mdn"], { cwd: dir, node: heap }),
    ]);
    for (const r of [predict, mean, sample, evaluate, train]) expect([r.code, r.signal], r.stderr.slice(-500)).toEqual([0, null]);
    const lines = (f: string) => readFileSync(at(f), "utf8").split("\n").length - 1;
    expect(lines("p.csv")).toBe(ROWS + 1);
    expect(lines("s.csv")).toBe(ROWS + 1);
    expect(stdoutLines).toBe(ROWS + 1);
    expect(JSON.parse(evaluate.stdout).rows).toBe(ROWS);
    const facts = JSON.parse(readFileSync(at("t.mdn.json"), "utf8"));
    expect(facts.rows).toEqual({ train: 80_000, validation: 20_000 });
  });
});

describe("results across blocks of rows", () => {
  it("are the library's on the whole file: predictions exactly, the mean NLL up to rounding", async () => {
    const N = 20_000; // three blocks of 8,192 rows
    writeFileSync(at("mid.csv"), clustersCsv(N, 7));
    const d = seedClusters(N, 7);
    const x = { data: d.x, shape: [N, 2] as [number, number] };
    const y = { data: d.y, shape: [N, 2] as [number, number] };
    const [mean, params, ev] = await Promise.all([
      run("predict", "m.mdn", "mid.csv", "--what", "mean", "--out", "mean.csv"),
      run("predict", "m.mdn", "mid.csv", "--out", "params.csv"),
      run("evaluate", "m.mdn", "mid.csv", "--labels", "cluster", "--json"),
    ]);
    expect([mean.code, params.code, ev.code]).toEqual([0, 0, 0]);
    const { model } = await loadModel(at("m.mdn"));
    const rows = (f: string) => parseCsv(readFileSync(at(f), "utf8"), f).records.slice(1);
    expect(Float32Array.from(rows("mean.csv").flat(), Number)).toEqual(Float32Array.from(model.mean(x)));
    const p = model.predict(x);
    const got = rows("params.csv");
    expect(got).toHaveLength(N);
    const K = model.components;
    for (const r of [0, 8191, 8192, 16384, N - 1]) {
      const want = [...p.pi.subarray(K * r, K * r + K), ...p.mu.subarray(2 * K * r, 2 * K * r + 2 * K), ...p.sigma.subarray(K * r, K * r + K)];
      expect(Float32Array.from(got[r]!, Number), `row ${r}`).toEqual(Float32Array.from(want));
    }
    const out = JSON.parse(ev.stdout);
    expect(Math.abs(out.nll - model.evaluate(x, y))).toBeLessThan(1e-12 * Math.abs(out.nll));
    const pi = p.pi;
    const argmax = Array.from({ length: N }, (_, r) => {
      let best = 0;
      for (let k = 1; k < K; k++) if (pi[r * K + k]! > pi[r * K + best]!) best = k;
      return best;
    });
    expect(out.ari).toBe(adjustedRandScore(Array.from(d.z, (z) => `c${z}`), argmax));
  });

  it("modes: rows keep their numbers in later blocks", async () => {
    const N = 8200;
    writeFileSync(at("modes.csv"), clustersCsv(N, 8));
    const r = await run("predict", "m.mdn", "modes.csv", "--what", "modes", "--out", "modes.out.csv");
    expect(r.code).toBe(0);
    const out = parseCsv(readFileSync(at("modes.out.csv"), "utf8"), "modes.out.csv").records.slice(1);
    const { model } = await loadModel(at("m.mdn"));
    const from = 8188; // the last rows of the first block and the first of the second
    const want = model.modes({ data: seedClusters(N, 8).x.subarray(2 * from, 2 * (from + 8)), shape: [8, 2] });
    const got = out.filter((row) => Number(row[0]) >= from && Number(row[0]) < from + 8);
    const expected = want.flatMap((m, i) => Array.from({ length: m.shape[0] }, (_, j) => [from + i, j, m.density[j]!, m.points[2 * j]!, m.points[2 * j + 1]!].map(Math.fround)));
    expect(got.map((row) => row.map((c) => Math.fround(Number(c))))).toEqual(expected);
  });

  it("sample: the first block is model.sample's with --seed, later ones use blockSeed", async () => {
    const n = 100;
    const per = blockRows(n); // 655 rows a block
    expect(per).toBe(655);
    const N = per + 3;
    writeFileSync(at("s2.csv"), clustersCsv(N, 3));
    const r = await run("sample", "m.mdn", "s2.csv", "--n", String(n), "--seed", "5", "--out", "s2.out.csv");
    expect(r.code).toBe(0);
    const lines = readFileSync(at("s2.out.csv"), "utf8").split("\n").slice(1, -1);
    expect(lines).toHaveLength(N * n);
    const { model } = await loadModel(at("m.mdn"));
    const x = seedClusters(N, 3).x;
    const expectBlock = (first: number, count: number, seed: number) => {
      const s = model.sample({ data: x.subarray(2 * first, 2 * (first + count)), shape: [count, 2] }, { n, seed });
      for (const i of [0, count * n - 1]) {
        const cells = lines[first * n + i]!.split(",").map(Number);
        expect(cells.slice(0, 3)).toEqual([first + Math.floor(i / n), i % n, s.components[i]]);
        expect(Float32Array.from(cells.slice(3))).toEqual(s.samples.subarray(2 * i, 2 * i + 2));
      }
    };
    expectBlock(0, per, 5);
    expectBlock(per, 3, blockSeed(5, 1));
    // Seeds for later blocks are safe integers, distinct per block and per seed.
    const seeds = new Set([0, 1, 2, 3].flatMap((s) => [1, 2, 3, 1000].map((b) => blockSeed(s, b))));
    expect(seeds.size).toBe(16);
    for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
  });
});
