// Where the CLI writes (issue 14, point 3): the output place is checked before any training, no
// temporary file is ever left behind, a model whose place vanished during training is still saved
// somewhere, and concurrent writers of one --out never leave a model and facts from different runs.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { assertBuilt, BIN, clustersCsv, DIST, expectOneLine, start } from "./cli-run.js";

let dir = "";
const at = (f: string) => join(dir, f);
const run = (...args: string[]) => start(args, { cwd: dir });
const TRAIN = ["train", "data.csv", "--x", "x1,x2", "--y", "y1,y2", "--hidden", "4", "--epochs", "3"];

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "mdn-cli-out-"));
  writeFileSync(at("data.csv"), clustersCsv(100, 1));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under a folder, recursively, as paths relative to it. */
function listing(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" }).sort();
}

/**
 * A folder where no file can be created. Permissions stop everyone but root; for root (as in CI
 * containers) sysfs refuses new files. The precondition is checked, so the test cannot pass by
 * writing somewhere writable.
 */
function unwritableFolder(): string {
  let folder = "/sys";
  if (process.getuid?.() !== 0) {
    folder = at("readonly");
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, 0o555);
  }
  expect(() => writeFileSync(join(folder, "probe.mdn"), "x"), `${folder} must refuse new files for this test`).toThrow();
  return folder;
}

describe("the output place is checked before training", () => {
  it("names a missing folder, a file in the path, a folder as --out, and an unwritable place", async () => {
    mkdirSync(at("adir"));
    mkdirSync(at("j.mdn.json"));
    const ro = unwritableFolder();
    const cases: Array<[out: string, message: RegExp]> = [
      ["nodir/m.mdn", /^mdn-wasm: --out nodir\/m\.mdn: the folder nodir does not exist; create it first \(mkdir -p nodir\)/],
      ["nodir/deeper/m.mdn", /^mdn-wasm: --out nodir\/deeper\/m\.mdn: the folder nodir does not exist/],
      ["data.csv/m.mdn", /^mdn-wasm: --out data\.csv\/m\.mdn: data\.csv is a file, not a folder/],
      ["adir", /^mdn-wasm: --out adir: that is a folder; give a file name inside it, e.g\. adir\/model\.mdn/],
      ["adir/", /^mdn-wasm: --out adir\/: that names a folder; give a file name, e.g\. adir\/model\.mdn/],
      ["j.mdn", /^mdn-wasm: --out j\.mdn\.json: that is a folder/],
      [join(ro, "m.mdn"), new RegExp(`^mdn-wasm: --out ${join(ro, "m\\.mdn")}: cannot create files in ${ro} \\((EACCES|EPERM|EROFS)\\); choose another place`)],
    ];
    const before = listing(dir);
    const results = await Promise.all(cases.map(([out]) => run(...TRAIN, "--out", out)));
    results.forEach((r, i) => {
      const [out, message] = cases[i]!;
      expect([out, r.code], r.stderr).toEqual([out, 1]);
      expect(expectOneLine(r)).toMatch(message);
      // Nothing was trained: no column summary, no epoch line.
      expect(r.stderr).not.toMatch(/^(inputs:|epoch )/m);
    });
    // No temporary file anywhere (the old code left <out>.<pid>.tmp beside a folder --out).
    expect(listing(dir)).toEqual(before);
  });

  it("checks predict's and sample's --out the same way, and writes the file only when complete", async () => {
    const t = await run(...TRAIN, "--out", "m.mdn");
    expect(t.code).toBe(0);
    const before = listing(dir);
    const [p, s] = await Promise.all([run("predict", "m.mdn", "data.csv", "--out", "nodir/p.csv"), run("sample", "m.mdn", "data.csv", "--out", "adir")]);
    expect([p.code, s.code]).toEqual([1, 1]);
    expect(expectOneLine(p)).toMatch(/^mdn-wasm: --out nodir\/p\.csv: the folder nodir does not exist/);
    expect(expectOneLine(s)).toMatch(/^mdn-wasm: --out adir: that is a folder/);
    // A bad cell in the second block of rows: the first block was already predicted and written
    // to the temporary file; the failure removes it and leaves no p.csv.
    const rows = clustersCsv(9000, 2).split("\r\n");
    rows[8500] = rows[8500]!.replace(/^[^,]+/, "oops");
    writeFileSync(at("late.csv"), rows.join("\n"));
    const late = await run("predict", "m.mdn", "late.csv", "--what", "mean", "--out", "p.csv");
    expect(late.code).toBe(1);
    expect(expectOneLine(late)).toBe('mdn-wasm: late.csv, line 8501, column "x1" (index 0): expected a number, got "oops"');
    expect(listing(dir)).toEqual([...before, "late.csv"].sort());
  });
});

describe("stopping a command", () => {
  it("removes its temporary file on Ctrl-C, SIGTERM and SIGHUP", async () => {
    const t = await run(...TRAIN, "--out", "s.mdn");
    expect(t.code).toBe(0);
    const before = listing(dir);
    const signals = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const;
    const results = await Promise.all(
      signals.map(
        ([signal]) =>
          new Promise<number | null>((resolve, reject) => {
            // 100 rows x a million draws: long enough to be stopped while writing.
            const child = spawn(process.execPath, [BIN, "sample", "s.mdn", "data.csv", "--n", "1000000", "--out", `${signal}.csv`], { cwd: dir, stdio: "ignore" });
            const poll = setInterval(() => {
              if (readdirSync(dir).some((f) => f.startsWith(`.${signal}.csv.`) && f.endsWith(".tmp"))) {
                clearInterval(poll);
                child.kill(signal);
              }
            }, 20);
            // A child that ignored the signal must not outlive the test.
            const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
            child.on("error", reject);
            child.on("close", (code) => {
              clearInterval(poll);
              clearTimeout(guard);
              resolve(code);
            });
          }),
      ),
    );
    expect(results).toEqual(signals.map(([, code]) => code));
    expect(listing(dir)).toEqual(before);
  });
});

describe("a trained model is not lost", () => {
  it("saves it under the temporary folder when --out's folder vanished during training", async () => {
    mkdirSync(at("gone"));
    writeFileSync(at("big.csv"), clustersCsv(2000, 4));
    let sent = false;
    const r = await start(["train", "big.csv", "--x", "x1,x2", "--y", "y1,y2", "--epochs", "100000", "--batch-size", "8", "--out", "gone/m.mdn"], {
      cwd: dir,
      onStderr: (err, child) => {
        // Once training runs, take the folder away and stop training: the write must fail.
        if (!sent && /^epoch 2\//m.test(err)) {
          sent = true;
          rmSync(at("gone"), { recursive: true });
          child.kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(1);
    const m = /^mdn-wasm: gone\/m\.mdn: cannot write the file \(ENOENT\); the trained model was saved to (\S+) \(and \S+\.json\) instead: move both where you want them$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const rescued = m![1]!;
    try {
      const info = await run("info", rescued, "--json");
      expect(info.code).toBe(0);
      expect(JSON.parse(info.stdout).facts).toMatchObject({ x: ["x1", "x2"], y: ["y1", "y2"], interrupted: true });
    } finally {
      rmSync(dirname(rescued), { recursive: true, force: true });
    }
  });
});

describe("concurrent writers of one --out", () => {
  /**
   * Writers in separate processes, each with its own model (seed = its id) and facts (data =
   * "run-<id>"), all released at once, round after round into a fresh folder. A round's pair is
   * consistent when the facts name the run whose seed the model carries: checked from the files
   * themselves, not from the SHA-256 the writers record. The old code (one rename, then the
   * other, unlocked) split 17 of 40 rounds like this.
   */
  it("never leave a model and facts from different runs, nor a lock or temporary file", async () => {
    const N = 8;
    const ROUNDS = 40;
    const child = `
      import { createInterface } from "node:readline";
      const [dist, base, id] = process.argv.slice(1);
      const { MDN } = await import(dist + "node.js");
      const { saveModel } = await import(dist + "cli/modelfile.js");
      const model = await MDN.create({ inputDim: 1, outputDim: 1, components: 1, hidden: [2], seed: Number(id) });
      const facts = { x: ["x"], y: ["y"], data: "run-" + id, rows: { train: 1, validation: 0 }, epochs: 0, bestEpoch: -1,
        loss: null, valLoss: null, interrupted: false, seconds: 0, createdAt: "" };
      process.stdout.write("ready\\n");
      for await (const round of createInterface({ input: process.stdin })) {
        await saveModel(base + "/" + round + "/m.mdn", model, facts);
        process.stdout.write("done\\n");
      }`;
    const base = at("race");
    mkdirSync(base);
    const writers = Array.from({ length: N }, (_, id) => {
      const c = spawn(process.execPath, ["--input-type=module", "-e", child, DIST, base, String(id)], { stdio: ["pipe", "pipe", "inherit"] });
      const lines = createInterface({ input: c.stdout })[Symbol.asyncIterator]();
      const exited = new Promise<number | null>((r) => c.on("close", r));
      return { c, next: () => lines.next(), exited };
    });
    try {
      await Promise.all(writers.map((w) => w.next()));
      const split: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const folder = join(base, String(round));
        mkdirSync(folder);
        for (const w of writers) w.c.stdin!.write(`${round}\n`);
        const done = await Promise.all(writers.map((w) => w.next()));
        expect(done.map((d) => d.value)).toEqual(Array(N).fill("done"));
        const facts = JSON.parse(readFileSync(join(folder, "m.mdn.json"), "utf8"));
        const model = await MDN.load(readFileSync(join(folder, "m.mdn")));
        if (facts.data !== `run-${model.config.seed}`) split.push(`round ${round}: model of run ${model.config.seed}, facts of ${facts.data}`);
        model.dispose();
        expect(readdirSync(folder).sort()).toEqual(["m.mdn", "m.mdn.json"]);
      }
      expect(split).toEqual([]);
    } finally {
      for (const w of writers) w.c.stdin!.end();
    }
    expect(await Promise.all(writers.map((w) => w.exited))).toEqual(Array(N).fill(0));
  });

  it("leave one run's pair when whole train commands race, and a split pair is refused at load", async () => {
    const runs = await Promise.all([0, 1, 2, 3].map((seed) => run(...TRAIN, "--seed", String(seed), "--out", "same.mdn")));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(readdirSync(dir).filter((f) => f.startsWith("same") || f.startsWith(".same"))).toEqual(["same.mdn", "same.mdn.json"]);
    const info = await run("info", "same.mdn", "--json");
    expect(info.code).toBe(0);
    // A model file copied over without its facts: the facts' checksum no longer matches.
    const other = await run(...TRAIN, "--seed", "9", "--out", "other.mdn");
    expect(other.code).toBe(0);
    writeFileSync(at("same.mdn"), readFileSync(at("other.mdn")));
    const p = await run("predict", "same.mdn", "data.csv");
    expect(p.code).toBe(1);
    expect(expectOneLine(p)).toBe("mdn-wasm: same.mdn.json: describes another model file than same.mdn (the SHA-256 it records differs); retrain, or delete it and name the columns with --x / --y");
    // Facts written before the checksum was recorded still load.
    const facts = JSON.parse(readFileSync(at("other.mdn.json"), "utf8"));
    delete facts.model;
    writeFileSync(at("same.mdn.json"), JSON.stringify(facts));
    expect((await run("predict", "same.mdn", "data.csv", "--what", "mean")).code).toBe(0);
    expect(existsSync(at("same.mdn.lock"))).toBe(false);
  });
});
