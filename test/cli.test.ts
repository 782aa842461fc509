// The command line end to end: the real bin (dist/cli/main.js, built by `npm test`'s pretest) in a
// child process on small CSV files. Results are checked against the library run in process on
// the same model file, so the CSV round trip and the column handling are what is under test.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../src/cli/csv.js";
import { loadModel } from "../src/cli/modelfile.js";
import { Progress } from "../src/cli/progress.js";
import { adjustedRandScore, normalizedMutualInfoScore, seedClusters } from "../src/index.js";
import { assertBuilt, clustersCsv, type Run, start as startIn } from "./cli-run.js";

let dir = "";
const at = (f: string) => join(dir, f);
const start = (args: string[], onStderr?: Parameters<typeof startIn>[1]["onStderr"]): Promise<Run> => startIn(args, { cwd: dir, onStderr });
const run = (...args: string[]) => start(args);

const readRows = (f: string) => parseCsv(readFileSync(at(f), "utf8"), f).records;

/** The model most tests use: m.mdn, trained once. */
const TRAIN = ["train", "train.csv", "--x", "x1,x2", "--y", "y1,y2", "-k", "4", "--hidden", "16,16", "--epochs", "40", "--seed", "3", "--out", "m.mdn"];

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "mdn-cli-"));
  writeFileSync(at("train.csv"), clustersCsv(400, 1));
  writeFileSync(at("test.csv"), clustersCsv(200, 2));
  writeFileSync(at("few.csv"), clustersCsv(3, 5));
  const r = await run(...TRAIN);
  expect(r.stderr).toMatch(/wrote m\.mdn/);
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mdn-wasm train, info, evaluate, predict, sample", () => {

  it("trains with one progress line per epoch off a terminal and records the facts", async () => {
    const again = await run(...TRAIN.slice(0, -1), "m2.mdn");
    expect(again.stderr.match(/^epoch \d+\/40 loss -?\d+\.\d+ val_loss -?\d+\.\d+ \d+ms$/gm)).toHaveLength(40);
    const info = await run("info", "m.mdn", "--json");
    expect(info.code).toBe(0);
    const { config, facts, params } = JSON.parse(info.stdout);
    expect(config).toMatchObject({ inputDim: 2, outputDim: 2, components: 4, seed: 3 });
    expect(config.hidden.map((h: { units: number }) => h.units)).toEqual([16, 16]);
    expect(facts).toMatchObject({ x: ["x1", "x2"], y: ["y1", "y2"], rows: { train: 320, validation: 80 }, epochs: 40, interrupted: false });
    expect(params.total).toBe(3 * 16 + 17 * 16 + 17 * (8 + 4 + 4));
    // The best epoch's val_loss is the lowest of the 40 printed.
    const vals = [...again.stderr.matchAll(/val_loss (-?\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(facts.valLoss.toFixed(4)).toBe(Math.min(...vals).toFixed(4));
    const text = await run("info", "m.mdn");
    expect(text.stdout).toMatch(/Total params: 592\n/);
    expect(text.stdout).toMatch(/inputs: +x1, x2\ntargets: +y1, y2/);
  });

  it("is bit-reproducible with a seed", async () => {
    const [a, b] = await Promise.all([run("predict", "m.mdn", "test.csv", "-o", "pa.csv"), run("predict", "m2.mdn", "test.csv", "-o", "pb.csv")]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(readFileSync(at("pa.csv"), "utf8")).toBe(readFileSync(at("pb.csv"), "utf8"));
  });

  it("evaluates the mean NLL the library computes, and ARI / NMI against a label column", async () => {
    const r = await run("evaluate", "m.mdn", "test.csv", "--labels", "cluster", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const { model } = await loadModel(at("m.mdn"));
    const d = seedClusters(200, 2);
    // CSV cells are the float32 values written out in full, so the library sees the same inputs.
    expect(out.nll).toBe(model.evaluate({ data: d.x, shape: [200, 2] }, { data: d.y, shape: [200, 2] }));
    expect(out.rows).toBe(200);
    expect(out.ari).toBeGreaterThan(0.8);
    expect(out.nmi).toBeGreaterThan(0.7);
    expect(out.assignment).toBe("argmax of pi");
    const text = await run("evaluate", "m.mdn", "test.csv");
    expect(text.stdout).toBe(`rows      200\nmean NLL  ${out.nll.toFixed(6)}\n`);
  });

  it("predicts the mixture parameters and the mean exactly as the library does", async () => {
    const r = await run("predict", "m.mdn", "test.csv", "--what", "params", "--out", "params.csv");
    expect(r.code).toBe(0);
    const [header, ...rows] = readRows("params.csv");
    expect(header).toEqual([
      ...[0, 1, 2, 3].map((k) => `pi_${k}`),
      ...[0, 1, 2, 3].flatMap((k) => [`mu_${k}_y1`, `mu_${k}_y2`]),
      ...[0, 1, 2, 3].map((k) => `sigma_${k}`),
    ]);
    const { model } = await loadModel(at("m.mdn"));
    const p = model.predict({ data: seedClusters(200, 2).x, shape: [200, 2] });
    expect(rows).toHaveLength(200);
    const got = Float32Array.from(rows.flat(), Number);
    const want = new Float32Array(200 * 16);
    for (let r = 0; r < 200; r++) want.set([...p.pi.subarray(4 * r, 4 * r + 4), ...p.mu.subarray(8 * r, 8 * r + 8), ...p.sigma.subarray(4 * r, 4 * r + 4)], 16 * r);
    expect(got).toEqual(want);

    const m = await run("predict", "m.mdn", "test.csv", "--what", "mean");
    const [mh, ...mrows] = parseCsv(m.stdout, "stdout").records;
    expect(mh).toEqual(["y1", "y2"]);
    // model.mean is float64; the CSV holds it rounded to float32.
    expect(Float32Array.from(mrows.flat(), Number)).toEqual(Float32Array.from(model.mean({ data: seedClusters(200, 2).x, shape: [200, 2] })));
  });

  it("samples n draws per row as model.sample does, reproducibly by seed", async () => {
    const n = 50;
    const [a, b, c] = await Promise.all([
      run("sample", "m.mdn", "few.csv", "--n", String(n), "--temperature", "0.5", "--out", "sa.csv"),
      run("sample", "m.mdn", "few.csv", "--n", String(n), "--temperature", "0.5", "--out", "sb.csv"),
      run("sample", "m.mdn", "few.csv", "--n", String(n), "--seed", "9", "--out", "sc.csv"),
    ]);
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    expect(readFileSync(at("sa.csv"), "utf8")).toBe(readFileSync(at("sb.csv"), "utf8"));
    expect(readFileSync(at("sa.csv"), "utf8")).not.toBe(readFileSync(at("sc.csv"), "utf8"));
    const [header, ...rows] = readRows("sa.csv");
    expect(header).toEqual(["row", "sample", "component", "y1", "y2"]);
    expect(rows).toHaveLength(3 * n);
    const { model } = await loadModel(at("m.mdn"));
    const want = model.sample({ data: seedClusters(3, 5).x, shape: [3, 2] }, { n, temperature: 0.5, seed: 0 });
    expect(rows.map((r) => r.slice(0, 3).map(Number))).toEqual([...want.components].map((k, i) => [Math.floor(i / n), i % n, k]));
    expect(Float32Array.from(rows.flatMap((r) => r.slice(3)), Number)).toEqual(want.samples);
  });

  it("lists the modes of every row as model.modes does, and ARI / NMI by responsibilities", async () => {
    const [m, e] = await Promise.all([
      run("predict", "m.mdn", "few.csv", "--what", "modes", "-o", "modes.csv"),
      run("evaluate", "m.mdn", "test.csv", "--labels", "cluster", "--assign", "posterior", "--json"),
    ]);
    expect([m.code, e.code]).toEqual([0, 0]);
    const { model } = await loadModel(at("m.mdn"));
    const modes = model.modes({ data: seedClusters(3, 5).x, shape: [3, 2] });
    const [header, ...rows] = readRows("modes.csv");
    expect(header).toEqual(["row", "mode", "density", "y1", "y2"]);
    const want = modes.flatMap((rm, r) => Array.from({ length: rm.shape[0] }, (_, j) => [r, j, rm.density[j]!, rm.points[2 * j]!, rm.points[2 * j + 1]!].map(Math.fround)));
    expect(rows.map((r) => r.map((c) => Math.fround(Number(c))))).toEqual(want);
    const d = seedClusters(200, 2);
    const labels = model.labels({ data: d.x, shape: [200, 2] }, { data: d.y, shape: [200, 2] });
    const out = JSON.parse(e.stdout);
    expect(out.assignment).toBe("argmax of the responsibilities");
    expect(out.ari).toBe(adjustedRandScore(Array.from(d.z, (z) => `c${z}`), labels));
    expect(out.nmi).toBe(normalizedMutualInfoScore(Array.from(d.z, (z) => `c${z}`), labels));
  });

  it("trains diagonal and full covariance heads and names their sigma columns by target", async () => {
    const heads = ["diagonal", "full"];
    const trained = await Promise.all(heads.map((c) => run("train", "train.csv", "--x", "x1,x2", "--y", "y1,y2", "-k", "2", "--hidden", "8", "--epochs", "2", "--covariance", c, "--out", `${c}.mdn`)));
    expect(trained.map((r) => r.code)).toEqual([0, 0]);
    const [diag, full] = await Promise.all(heads.map((c) => run("predict", `${c}.mdn`, "few.csv")));
    expect(diag!.stdout.split("\n")[0]).toBe("pi_0,pi_1,mu_0_y1,mu_0_y2,mu_1_y1,mu_1_y2,sigma_0_y1,sigma_0_y2,sigma_1_y1,sigma_1_y2");
    expect(full!.stdout.split("\n")[0]).toMatch(/,sigma_0_y1_y1,sigma_0_y1_y2,sigma_0_y2_y1,sigma_0_y2_y2,sigma_1_y1_y1,/);
  });

  it("standardises with --normalize and keeps the statistics in the model file", async () => {
    const r = await run("train", "train.csv", "--y", "y1,y2", "--x", "x1,x2", "--normalize", "--epochs", "3", "--hidden", "8", "--out", "n.mdn");
    expect(r.code).toBe(0);
    const info = JSON.parse((await run("info", "n.mdn", "--json")).stdout);
    expect(info.config.normalize).toBe(true);
    const d = seedClusters(400, 1);
    const mean = (j: number) => {
      let s = 0;
      for (let i = 0; i < 320; i++) s += d.x[2 * i + j]!;
      return s / 320;
    };
    expect(info.normalization.xMean[0]).toBeCloseTo(mean(0), 4);
    expect(info.normalization.xMean[1]).toBeCloseTo(mean(1), 4);
    const plain = JSON.parse((await run("info", "m.mdn", "--json")).stdout);
    expect(plain.normalization).toBeNull();
  });

  it("works without the facts file when --x / --y name the columns", async () => {
    writeFileSync(at("bare.mdn"), readFileSync(at("m.mdn")));
    const noCols = await run("predict", "bare.mdn", "test.csv", "--what", "mean");
    expect(noCols.code).toBe(2);
    expect(noCols.stderr).toMatch(/--x is needed: the model has no facts file/);
    const p = await run("predict", "bare.mdn", "test.csv", "--what", "mean", "--x", "x1,x2");
    expect(p.code).toBe(0);
    const withFacts = await run("predict", "m.mdn", "test.csv", "--what", "mean");
    expect(p.stdout).toBe(withFacts.stdout.replace("y1,y2", "y0,y1"));
    const text = await run("info", "bare.mdn");
    expect(text.stdout).toMatch(/facts: +none \(bare\.mdn\.json is missing/);
  });

  it("reads headerless and semicolon files with columns by index", async () => {
    const rows = readFileSync(at("train.csv"), "utf8").split("\r\n").slice(1, 201).map((l) => l.split(",").slice(0, 4).join(";"));
    writeFileSync(at("plain.csv"), rows.join("\n"));
    const t = await run("train", "plain.csv", "--delimiter", ";", "--x", "0,1", "--y", "2,3", "--epochs", "2", "--hidden", "8", "--out", "p.mdn");
    expect(t.code).toBe(0);
    const info = JSON.parse((await run("info", "p.mdn", "--json")).stdout);
    expect(info.facts).toMatchObject({ x: ["0", "1"], y: ["2", "3"] });
    const e = await run("evaluate", "p.mdn", "plain.csv", "--delimiter", ";", "--json");
    expect(Number.isFinite(JSON.parse(e.stdout).nll)).toBe(true);
  });
});

describe("mdn-wasm errors and exit codes", () => {
  it("exits 1 on bad files, naming the line and column", async () => {
    const cases: Array<[file: string, text: string, message: string]> = [
      ["text.csv", "x,y\n1,2\n3,4\n5,oops\n", 'text.csv, line 4, column "y" (index 1): expected a number, got "oops"'],
      ["missing.csv", 'x,y\n1,2\n"",4\n', 'missing.csv, line 3, column "x" (index 0): missing value (the inputs are every column not in --y; name them with --x)'],
      ["ragged.csv", "x,y\n1,2\n3\n5,6\n", 'ragged.csv, line 3: 1 fields where line 1 has 2; column 2 ("y") is missing'],
      ["nocol.csv", "x,z\n1,2\n", '--y: no column "y" in nocol.csv, which has columns "x", "z"'],
      ["empty.csv", "", "empty.csv: the file is empty (no rows)"],
    ];
    const results = await Promise.all(
      cases.map(([file, text]) => {
        writeFileSync(at(file), text);
        return run("train", file, "--y", "y", "--epochs", "1", "--out", "never.mdn");
      }),
    );
    results.forEach((r, i) => expect([r.code, r.stderr]).toEqual([1, `mdn-wasm: ${cases[i]![2]}\n`]));
    const none = await run("info", "nothere.mdn");
    expect([none.code, none.stderr]).toEqual([1, "mdn-wasm: nothere.mdn: cannot read the model file (ENOENT)\n"]);
    expect(readdirSync(dir).filter((f) => f.includes("never"))).toEqual([]);
  });

  it("exits 1 when the data does not fit the model, and names the file for a non-model", async () => {
    writeFileSync(at("other.csv"), "a,b\n1,2\n");
    const r = await run("predict", "m.mdn", "other.csv");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mdn-wasm: the model's input columns \(--x to choose others\): no column "x1" in other\.csv/);
    const notModel = await run("info", "other.csv");
    expect(notModel.code).toBe(1);
    expect(notModel.stderr).toMatch(/^mdn-wasm: other\.csv: model file rejected \((TRUNCATED|BAD_MAGIC)\)/);
  });

  it("exits 2 on bad usage and points at --help", async () => {
    const cases = [
      ["bogus"],
      ["train", "train.csv", "--out", "x.mdn"],
      ["train", "train.csv", "--y", "y1", "--out", "x.mdn", "--epochs", "many"],
      ["train", "train.csv", "--y", "y1", "--out", "x.mdn", "--frobnicate"],
      ["predict", "m.mdn"],
      ["predict", "m.mdn", "test.csv", "--what", "median"],
      [],
    ];
    const results = await Promise.all(cases.map((c) => run(...c)));
    results.forEach((r, i) => expect([cases[i], r.code]).toEqual([cases[i], 2]));
    expect(results[1]!.stderr).toBe("mdn-wasm: train: --y is required\nTry: mdn-wasm train --help\n");
    expect(results[2]!.stderr).toMatch(/--epochs: expected an integer from 1 to 1,000,000,000, got "many"/);
    expect(results[3]!.stderr).toMatch(/^mdn-wasm: train: unknown option --frobnicate\n/);
  });

  it("prints --help for every command with exit code 0", async () => {
    const cmds = ["train", "evaluate", "predict", "sample", "info"];
    const results = await Promise.all(cmds.map((c) => run(c, "--help")));
    results.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`Usage: mdn-wasm ${cmds[i]} `)).toBe(true);
    });
    const top = await run("--help");
    expect(top.code).toBe(0);
    for (const c of cmds) expect(top.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(top.stdout).toMatch(/Exit codes: 0 ok, 1 bad input/);
  });
});

describe("Ctrl-C during training", () => {
  it("stops after the current batch, writes the best model so far and exits 130", async () => {
    writeFileSync(at("big.csv"), clustersCsv(2000, 4));
    let sent = 0;
    const r = await start(["train", "big.csv", "--x", "x1,x2", "--y", "y1,y2", "--epochs", "100000", "--batch-size", "8", "--out", "int.mdn"], (err, child) => {
      // Interrupt once two epochs have ended, so there is a best epoch to keep.
      if (!sent && /^epoch 2\//m.test(err)) {
        sent = performance.now();
        child.kill("SIGINT");
      }
    });
    expect(sent).toBeGreaterThan(0);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted: stopping after this batch/);
    expect(r.stderr).toMatch(/wrote int\.mdn \(best epoch \d+: .*\) after an interrupt/);
    const info = await run("info", "int.mdn", "--json");
    expect(info.code).toBe(0);
    const { facts } = JSON.parse(info.stdout);
    expect(facts.interrupted).toBe(true);
    expect(facts.epochs).toBeGreaterThanOrEqual(2);
    expect(facts.epochs).toBeLessThan(100000);
    const vals = [...r.stderr.matchAll(/val_loss (-?\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(facts.valLoss.toFixed(4)).toBe(Math.min(...vals).toFixed(4));
    // At most one batch ran after the interrupt: the epochs reported before it are all there were.
    const epochsSeen = [...r.stderr.matchAll(/^epoch (\d+)\//gm)].length;
    expect(facts.epochs).toBeLessThanOrEqual(epochsSeen + 1);
    // The file holds the best epoch's weights: its NLL on the validation rows (the last 20% of the
    // file, as --validation-split 0.2 takes them) is the recorded val_loss.
    const lines = readFileSync(at("big.csv"), "utf8").trimEnd().split("\n");
    writeFileSync(at("val.csv"), [lines[0], ...lines.slice(1 + 1600)].join("\n") + "\n");
    const e = await run("evaluate", "int.mdn", "val.csv", "--json");
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout).nll).toBeCloseTo(facts.valLoss, 4);
  });
});

describe("progress display", () => {
  it("draws a bar in place on a terminal and writes one line per epoch otherwise", () => {
    const sink = (isTTY: boolean) => {
      const chunks: string[] = [];
      return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream };
    };
    const tty = sink(true);
    const p = new Progress(tty.stream, 2, 4);
    p.batch(0, 1.5);
    p.batch(1, 1.0); // within 100 ms of the last redraw: skipped
    p.epochEnd(0, 1.25, 1.5, 3);
    p.finish();
    expect(tty.chunks).toHaveLength(3);
    expect(tty.chunks[0]).toBe("\r\x1b[2K[###.....................]  12% epoch 1/2 batch loss 1.5000");
    expect(tty.chunks[1]).toBe("\r\x1b[2K[############............]  50% epoch 1/2 loss 1.2500 val_loss 1.5000");
    expect(tty.chunks[2]).toBe("\n");
    const pipe = sink(false);
    const q = new Progress(pipe.stream, 2, 4);
    q.batch(0, 1.5);
    q.epochEnd(0, 1.25, undefined, 3.4);
    q.finish();
    expect(pipe.chunks).toEqual(["epoch 1/2 loss 1.2500 3ms\n"]);
  });
});

describe("the library entry", () => {
  it("does not reach the CLI or any node: module", () => {
    const seen = new Set<string>();
    const visit = (url: URL) => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const src = readFileSync(url, "utf8");
      for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)[^"']*?from\s*["']([^"']+)["']/g)) {
        const spec = m[1]!;
        expect(spec.startsWith("node:"), `${url.pathname} imports ${spec}`).toBe(false);
        if (spec.startsWith(".")) visit(new URL(spec, url));
      }
    };
    visit(new URL("../dist/index.js", import.meta.url));
    expect(seen.size).toBeGreaterThan(5);
    // The CLI's folder by its URL: the checkout's own path may hold "/cli/" too.
    const cli = new URL("../dist/cli/", import.meta.url).href;
    expect([...seen].some((u) => u.startsWith(cli))).toBe(false);
  });
});
