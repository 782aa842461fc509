// The demo (demo/seed.ts, built to build/demo by `npm run build:demo`, which pretest runs) in a
// reduced mode: 5 epochs, figures to a temporary folder. Two child processes, about 2 s together.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { lossSpec, testDataSpec, trainingDataSpec } from "../demo/plots.js";
import { createProgress } from "../demo/progress.js";
import { adjustedRandScore, normalizedMutualInfoScore, seedClusters } from "../src/index.js";

const run = promisify(execFile);
const DEMO = new URL("../build/demo/seed.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "mdn-demo-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function demo(args: string[]) {
  if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing: run npm run build:demo (npm test does it in pretest)`);
  return run(process.execPath, [DEMO, ...args], { maxBuffer: 1 << 24 });
}

type Node = Record<string, unknown>;

/** Every <g> whose class names this mark (Vega names mark groups `<name>_marks`), anywhere in the tree. */
function markGroups(node: unknown, name: string, found: Node[] = []): Node[] {
  if (Array.isArray(node)) node.forEach((n) => markGroups(n, name, found));
  else if (node && typeof node === "object") {
    const n = node as Node;
    const cls = n["@_class"];
    if (typeof cls === "string" && cls.split(" ").includes(`${name}_marks`)) found.push(n);
    for (const [k, v] of Object.entries(n)) if (!k.startsWith("@_")) markGroups(v, name, found);
  }
  return found;
}

function paths(groups: Node[]): Node[] {
  return groups.flatMap((g) => {
    const p = g["path"];
    return p === undefined ? [] : ((Array.isArray(p) ? p : [p]) as Node[]);
  });
}

function readSvg(path: string): unknown {
  const text = readFileSync(path, "utf8");
  expect(XMLValidator.validate(text)).toBe(true);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" }).parse(text);
}

describe("npm run demo, reduced", () => {
  const textRun = demo(["--epochs", "5", "--out", join(tmp, "text")]);
  const jsonRun = demo(["--epochs", "5", "--seed", "3", "--json", "--out", join(tmp, "json")]);

  it("prints the summary and one Keras verbose=2 line per epoch when stdout is a pipe", async () => {
    const { stdout } = await textRun;
    expect(stdout).toContain("Total params: 1,936");
    expect(stdout).toContain("Trainable params: 1,808");
    expect(stdout).toContain("Non-trainable params: 128");
    const epochs = stdout.split("\n").filter((l) => l.startsWith("Epoch "));
    expect(epochs).toHaveLength(5);
    epochs.forEach((l, i) => expect(l).toMatch(new RegExp(`^Epoch ${i + 1}/5 - \\d+(ms|\\.\\ds) - loss: -?\\d+\\.\\d{4} - val_loss: -?\\d+\\.\\d{4}$`)));
    expect(stdout).toMatch(/adjusted rand score: \d\.\d{4}/);
    expect(stdout).toMatch(/normalized MI score: \d\.\d{4}/);
    expect(stdout).not.toContain("\r");
  });

  it("writes the three figures as SVG with their marks: points, black crosses, two loss lines", async () => {
    await textRun;
    const dir = join(tmp, "text");
    const train = readSvg(join(dir, "mdn_training_data.svg"));
    expect(paths(markGroups(train, "points"))).toHaveLength(512);

    const test = readSvg(join(dir, "mdn_test_data.svg"));
    const points = paths(markGroups(test, "points"));
    expect(points).toHaveLength(512);
    const crosses = paths(markGroups(test, "means"));
    // One cross per predicted label, and the points carry one colour per predicted label.
    expect(crosses.length).toBe(new Set(points.map((p) => p["@_fill"])).size);
    for (const c of crosses) {
      expect(c["@_stroke"]).toBe("black");
      expect(String(c["@_d"]).match(/M/g)).toHaveLength(2);
    }

    const loss = readSvg(join(dir, "mdn_loss.svg"));
    const lines = paths(markGroups(loss, "loss"));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(String(l["@_d"]).match(/[ML]/g)).toHaveLength(5);
  });

  it("--json prints one JSON object whose ARI and NMI are the metrics of its own test labels", async () => {
    const { stdout, stderr } = await jsonRun;
    expect(stderr).toBe("");
    const r = JSON.parse(stdout);
    expect(r.params).toEqual({ total: 1936, trainable: 1808, nonTrainable: 128 });
    expect(r.history.loss).toHaveLength(5);
    expect(r.history.val_loss).toHaveLength(5);
    expect(r.zTest).toEqual(Array.from(seedClusters(1024, 3).z.subarray(512)));
    expect(r.zPred).toHaveLength(512);
    expect(r.zPred.every((z: number) => Number.isInteger(z) && z >= 0 && z < 4)).toBe(true);
    expect(r.ari).toBe(adjustedRandScore(r.zTest, r.zPred));
    expect(r.nmi).toBe(normalizedMutualInfoScore(r.zTest, r.zPred));
    expect(r.figures).toHaveLength(3);
    for (const f of r.figures) expect(existsSync(f)).toBe(true);
  });

  it("rejects a bad flag with exit code 2 and the usage", async () => {
    await expect(demo(["--epochs", "0"])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--epochs expects an integer >= 1") });
  });
});

describe("demo progress", () => {
  function fake(isTTY: boolean, columns?: number) {
    const writes: string[] = [];
    return { writes, stream: { isTTY, columns, write: (t: string) => writes.push(t) } };
  }

  it("redraws one line in place on a terminal, never wider than it, and ends it once", () => {
    const { writes, stream } = fake(true, 60);
    const p = createProgress(stream, 4);
    for (let e = 0; e < 4; e++) p.epochEnd(e, { loss: 1 - e / 10, val_loss: 2 }, 10);
    p.done(3);
    expect(writes.slice(0, 4).every((w) => w.startsWith("\r\x1b[2K") && !w.includes("\n") && w.length - 5 <= 59)).toBe(true);
    expect(writes[3]).toContain("Epoch 4/4 [===");
    expect(writes.slice(4)).toEqual(["\n", "Epoch 4: early stopping\n"]);
  });

  it("shows the bar, the losses and the time left when the terminal is wide", () => {
    const { writes, stream } = fake(true, 200);
    createProgress(stream, 10).epochEnd(4, { loss: 0.5, val_loss: 0.25 }, 100);
    expect(writes[0]).toBe("\r\x1b[2KEpoch  5/10 [==============>...............] loss: 0.5000 - val_loss: 0.2500 - 100ms, ETA 100ms");
  });

  it("prints one plain line per epoch when not a terminal", () => {
    const { writes, stream } = fake(false);
    const p = createProgress(stream, 2);
    p.epochEnd(0, { loss: 3, val_loss: 4 }, 1500);
    p.epochEnd(1, { loss: 2 }, 7);
    p.done();
    expect(writes).toEqual(["Epoch 1/2 - 1.5s - loss: 3.0000 - val_loss: 4.0000\n", "Epoch 2/2 - 7ms - loss: 2.0000\n"]);
  });
});

describe("demo plot specs", () => {
  it("are plain JSON data and the module imports nothing from node:", () => {
    const pts = [{ x: 1, y: 2, label: 0 }];
    for (const spec of [trainingDataSpec(pts), testDataSpec(pts, pts), lossSpec([1, 0.5], [2, 1])]) {
      expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    }
    expect(readFileSync(new URL("../demo/plots.ts", import.meta.url), "utf8")).not.toMatch(/from "node:/);
  });
});
