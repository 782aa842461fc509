// What the CLI says (issue 14, points 17, 12 and 15 on the CLI side): every mistake and every
// library failure reaches the person at the terminal as one line in the CLI's own words, with the
// documented exit code, and train says which columns it uses.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { report } from "../src/cli/errors.js";
import { MdnError, ModelFormatError, seedClusters } from "../src/index.js";
import { assertBuilt, clustersCsv, expectOneLine, type Run, start } from "./cli-run.js";

let dir = "";
const at = (f: string) => join(dir, f);
const run = (...args: string[]) => start(args, { cwd: dir });
const FAST = ["--hidden", "4", "--epochs", "2"];

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "mdn-cli-msg-"));
  writeFileSync(at("data.csv"), clustersCsv(60, 1));
  const r = await run("train", "data.csv", "--x", "x1,x2", "--y", "y1,y2", ...FAST, "--out", "m.mdn");
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs in parallel; each must exit with `code` and say exactly `line` (or match it). */
async function expectErrors(cases: Array<[args: string[], code: number, line: string | RegExp]>): Promise<Run[]> {
  const results = await Promise.all(cases.map(([args]) => run(...args)));
  results.forEach((r, i) => {
    const [args, code, line] = cases[i]!;
    expect([args.join(" "), r.code], r.stderr).toEqual([args.join(" "), code]);
    const said = expectOneLine(r);
    if (typeof line === "string") expect(said).toBe(`mdn-wasm: ${line}`);
    else expect(said).toMatch(line);
  });
  return results;
}

describe("options", () => {
  it("names an unknown option in our words, with the option meant", async () => {
    const rs = await expectErrors([
      [["train", "data.csv", "--y", "y1", "--out", "x.mdn", "--epoch", "3"], 2, "train: unknown option --epoch (did you mean --epochs?)"],
      [["predict", "m.mdn", "data.csv", "--wat", "mean"], 2, "predict: unknown option --wat (did you mean --what?)"],
      [["train", "data.csv", "--y", "y1", "--out", "x.mdn", "--frobnicate"], 2, "train: unknown option --frobnicate"],
      [["trian", "data.csv"], 2, 'unknown command "trian" (did you mean train?); commands: train, evaluate, predict, sample, info, export'],
      [["train", "data.csv", "--y", "--out", "x.mdn"], 2, "train: --y needs a value (got the option --out)"],
      [["train", "data.csv", "--y", "y1", "--out"], 2, "train: --out needs a value"],
      [["train", "data.csv", "--y", "y1", "--out", "x.mdn", "--normalize=yes"], 2, 'train: --normalize takes no value (got "yes")'],
      [["train", "data.csv", "--y", "y1", "--y", "y2", "--out", "x.mdn"], 2, "train: --y is given twice"],
      [["predict", "m.mdn", "data.csv", "--what", "means"], 2, '--what: expected one of params, mean, modes, got "means" (did you mean mean?)'],
    ]);
    for (const r of rs) {
      expect(r.stderr).not.toMatch(/Unknown option|ERR_PARSE_ARGS|To specify a positional/);
      expect(r.stderr).toMatch(/\nTry: mdn-wasm (\w+ )?--help\n$/);
    }
  });

  it("says what a number must be, with bounds people can read", async () => {
    const base = ["train", "data.csv", "--y", "y1,y2", "--x", "x1,x2", "--out", "x.mdn"];
    await expectErrors([
      [[...base, "--epochs", "-3"], 2, '--epochs: expected an integer from 1 to 1,000,000,000, got "-3"'],
      [[...base, "--epochs", "0"], 2, '--epochs: expected an integer from 1 to 1,000,000,000, got "0"'],
      [[...base, "--learning-rate", "0"], 2, '--learning-rate: expected a number greater than 0, got "0"'],
      [[...base, "--learning-rate", "-1e-3"], 2, '--learning-rate: expected a number greater than 0, got "-1e-3"'],
      [[...base, "--components", "2000"], 2, '--components: expected an integer from 1 to 1,024, got "2000"'],
      [[...base, "--batch-size", "2.5"], 2, '--batch-size: expected an integer from 1 to 1,048,576, got "2.5"'],
      [[...base, "--seed", "-1"], 2, '--seed: expected an integer of 0 or more, got "-1"'],
      [[...base, "--seed", "99999999999999999999"], 2, '--seed: expected an integer of 0 or more, got "99999999999999999999"'],
      [[...base, "--validation-split", "1"], 2, '--validation-split: expected a number at least 0 and below 1, got "1"'],
      [[...base, "--hidden", "8,0"], 2, '--hidden: expected integers from 1 to 65,536 separated by commas, got "8,0"'],
      [["sample", "m.mdn", "data.csv", "--n", "0"], 2, '--n: expected an integer from 1 to 1,000,000, got "0"'],
      [["sample", "m.mdn", "data.csv", "--temperature", "-1"], 2, '--temperature: expected a number at least 0 and at most 1,000,000, got "-1"'],
    ]);
    const helps = await Promise.all(["train", "predict", "sample", "evaluate", "info"].map((c) => run(c, "--help")));
    for (const h of helps) expect(h.stdout).not.toMatch(/9007199254740991|MAX_SAFE/);
  });

  it("names --validation-split, not the library's option, when too few rows are left", async () => {
    writeFileSync(at("one.csv"), "x,y\n1,2\n");
    writeFileSync(at("three.csv"), "x,y\n1,2\n3,4\n5,6\n");
    await expectErrors([
      [["train", "one.csv", "--y", "y", "--out", "o.mdn"], 1, "--validation-split 0.2 on 1 row leaves 0 training rows and 1 validation row; each side needs at least one: use more rows, another split, or --validation-split 0"],
      [["train", "three.csv", "--y", "y", "--validation-split", "1e-17", "--out", "o.mdn"], 1, /^mdn-wasm: --validation-split 1e-17 on 3 rows leaves 3 training rows and 0 validation rows;/],
    ]);
    const ok = await run("train", "one.csv", "--y", "y", "--validation-split", "0", ...FAST, "--out", "o.mdn");
    expect(ok.code).toBe(0);
  });
});

describe("files", () => {
  it("rejects a damaged facts file with its name and what to do, in every command", async () => {
    const good = readFileSync(at("m.mdn.json"), "utf8");
    const facts = JSON.parse(good);
    const damaged: Array<[text: string, why: string]> = [
      ["{bad", "not JSON: "],
      ['{"x":1}', "x: expected a list of 2 input column names"],
      ["null", "the file: expected a JSON object"],
      [JSON.stringify({ ...facts, y: ["y1"] }), "y: expected a list of 2 target column names"],
      [JSON.stringify({ ...facts, bestEpoch: "2" }), "bestEpoch: expected an epoch number"],
      [JSON.stringify({ ...facts, rows: null }), "rows: expected { train, validation } row counts"],
      [JSON.stringify({ ...facts, model: { sha256: 3 } }), "model: expected { bytes, sha256 } of the model file"],
    ];
    // Each damage through one command, the four commands in turn, so each meets several.
    const commands = [["info", "m.mdn"], ["predict", "m.mdn", "data.csv"], ["evaluate", "m.mdn", "data.csv"], ["sample", "m.mdn", "data.csv"]];
    for (const [i, [text, why]] of damaged.entries()) {
      writeFileSync(at("m.mdn.json"), text);
      const r = await run(...commands[i % commands.length]!);
      expect(r.code, r.stderr).toBe(1);
      const line = expectOneLine(r);
      expect(line.startsWith(`mdn-wasm: m.mdn.json: not a facts file for m.mdn (${why}`), line).toBe(true);
      expect(line).toMatch(/; delete it and name the columns with --x \/ --y$/);
    }
    writeFileSync(at("m.mdn.json"), good);
    expect((await run("info", "m.mdn")).code).toBe(0);
  });

  it("refuses bytes that are not UTF-8, naming the file and line, rather than reading U+FFFD", async () => {
    writeFileSync(at("latin1.csv"), Buffer.concat([Buffer.from("x,"), Buffer.from([0x70, 0xe9, 0x72, 0x69, 0x6f, 0x64, 0x65]), Buffer.from("\n1,2\n3,4\n")]));
    await expectErrors([
      [["train", "latin1.csv", "--y", "1", "--validation-split", "0", "--out", "l.mdn"], 1, "latin1.csv, line 1: byte 0xe9 (at byte 3 of the file) is not UTF-8 text; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"],
    ]);
  });

  it("refuses a column name that two columns share instead of taking the first", async () => {
    writeFileSync(at("twice.csv"), "x,y,x\n1,2,3\n4,5,6\n7,8,9\n");
    await expectErrors([
      [["train", "twice.csv", "--y", "y", "--out", "t.mdn"], 1, 'twice.csv: columns 0 and 2 are both named "x"; rename one (the model records its columns by name)'],
      [["train", "twice.csv", "--x", "x", "--y", "y", "--out", "t.mdn"], 1, '--x: column name "x" is ambiguous: twice.csv has it at indices 0 and 2; rename one, or pick by index'],
      [["train", "twice.csv", "--x", "2", "--y", "y", "--out", "t.mdn"], 1, 'twice.csv: columns 0 and 2 are both named "x"; rename one (the model records its columns by name)'],
    ]);
  });

  it("names a column that holds a comma with CSV quotes in --x / --y, and finds it again by name", async () => {
    writeFileSync(at("comma.csv"), `"size, cm",weight,"say ""hi""",target\n${Array.from({ length: 20 }, (_, i) => `${i},${i % 3},${i % 5},${i * 2}`).join("\n")}\n`);
    const t = await run("train", "comma.csv", "--x", '"size, cm",weight,"say ""hi"""', "--y", "target", ...FAST, "--out", "c.mdn");
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/^inputs: {2}"size, cm", weight, "say \\"hi\\""\ntargets: target\n/m);
    const info = JSON.parse((await run("info", "c.mdn", "--json")).stdout);
    expect(info.facts.x).toEqual(["size, cm", "weight", 'say "hi"']);
    const p = await run("predict", "c.mdn", "comma.csv", "--what", "mean");
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.split("\n")).toHaveLength(22);
    await expectErrors([[["predict", "c.mdn", "comma.csv", "--x", "size, cm"], 1, /^mdn-wasm: --x: no column "size" in comma\.csv/]]);
  });

  it("says in CLI words, with the right plural, when --x names the wrong number of columns", async () => {
    const one = await run("train", "data.csv", "--x", "x1", "--y", "y1", ...FAST, "--out", "one.mdn");
    expect(one.code).toBe(0);
    await expectErrors([
      [["predict", "one.mdn", "data.csv", "--x", "x1,x2"], 1, "--x names 2 columns, but the model takes 1 input (it was trained on x1)"],
      [["predict", "m.mdn", "data.csv", "--x", "x1"], 1, "--x names 1 column, but the model takes 2 inputs (it was trained on x1, x2)"],
      [["evaluate", "m.mdn", "data.csv", "--y", "y1,y2,x1"], 1, "--y names 3 columns, but the model takes 2 targets (it was trained on y1, y2)"],
    ]);
  });
});

describe("columns train chooses", () => {
  it("prints the inputs, targets and row split before training", async () => {
    const r = await run("train", "data.csv", "--x", "x1,x2", "--y", "y1,y2", ...FAST, "--out", "p.mdn");
    expect(r.code).toBe(0);
    expect(r.stderr.startsWith("inputs:  x1, x2\ntargets: y1, y2\nrows:    48 for training, 12 for validation (the last 12 rows of the file)\nepoch 1/2 ")).toBe(true);
  });

  it("does not take a label column as an input unless --x names it", async () => {
    // The cluster as 0, 1, 2: numbers, so the old code silently trained on it as a third input.
    writeFileSync(at("labels.csv"), clustersCsv(60, 2, (z) => String(z)));
    const ids = [...new Set(seedClusters(60, 2).z)].sort((a, b) => a - b).join(", ");
    await expectErrors([
      [
        ["train", "labels.csv", "--y", "y1,y2", ...FAST, "--out", "l.mdn"],
        2,
        `train: column "cluster" (index 4) looks like a label, not an input: its 60 values are only the integers ${ids}. Name the inputs with --x (e.g. --x x1,x2), or --x x1,x2,cluster to use it as an input`,
      ],
    ]);
    const chosen = await run("train", "labels.csv", "--x", "x1,x2,cluster", "--y", "y1,y2", ...FAST, "--out", "l.mdn");
    expect(chosen.code).toBe(0);
    expect(chosen.stderr).toMatch(/^inputs: {2}x1, x2, cluster\n/);
    // Without label-like columns the default is printed as such.
    writeFileSync(at("plain.csv"), clustersCsv(60, 2).replace(/,c\d\r\n/g, "\r\n").replace(",cluster", ""));
    const plain = await run("train", "plain.csv", "--y", "y1,y2", ...FAST, "--out", "d.mdn");
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/^inputs: {2}x1, x2 {2}\(every column not in --y; --x to choose\)\n/);
  });
});

describe("library failures", () => {
  it("reports a model too large for memory as one line, exit 1, not a stack trace", async () => {
    await expectErrors([[["train", "data.csv", "--x", "x1,x2", "--y", "y1,y2", "--hidden", "40000,40000", "--epochs", "1", "--out", "huge.mdn"], 1, /^mdn-wasm: .*memory/i]]);
  });

  it("turns every kind of error into one line and its exit code", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((s) => lines.push(String(s)) > 0);
    try {
      const train = { name: "train", flags: { "options.validationSplit": "--validation-split", "config.hidden": "--hidden" } };
      const cases: Array<[unknown, number, string]> = [
        [new MdnError("INVALID_CONFIG", "options.validationSplit", "a split leaving rows on both sides of 1 rows", "0.2"), 1, "mdn-wasm: --validation-split: expected a split leaving rows on both sides of 1 rows, got 0.2\n"],
        [new MdnError("INVALID_CONFIG", "config.hidden[1].units", "an integer from 1 to 65536", "0"), 1, "mdn-wasm: --hidden: expected an integer from 1 to 65536, got 0\n"],
        [new MdnError("SHAPE_MISMATCH", "x", "2 columns", "3 columns"), 1, "mdn-wasm: x: expected 2 columns, got 3 columns\n"],
        [new ModelFormatError("BAD_MAGIC", "not an mdn-wasm file"), 1, "mdn-wasm: model file rejected (BAD_MAGIC): not an mdn-wasm file\n"],
        [new RangeError("WebAssembly.Memory.grow(): Unable to grow instance memory"), 1, "mdn-wasm: out of memory: WebAssembly.Memory.grow(): Unable to grow instance memory\n"],
        [new TypeError("Cannot read properties of undefined (reading 'x')\n    at f (file.js:1:1)"), 70, "mdn-wasm: internal error: TypeError: Cannot read properties of undefined (reading 'x') at f (file.js:1:1) (a bug; please report it with the command line; MDN_DEBUG=1 shows where it happened)\n"],
      ];
      for (const [e, code, line] of cases) {
        lines.length = 0;
        expect(report(e, train)).toBe(code);
        expect(lines).toEqual([line]);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
