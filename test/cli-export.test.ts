// `mdn-wasm export model.mdn --onnx out.onnx`: the real bin (dist/cli/main.js, built by pretest) in
// a child process; the ONNX file it writes, run by onnxruntime-web, gives what predict gives.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MDN } from "../src/index.js";
import { regression } from "./util.js";

const BIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let dir = "";
const at = (f: string) => join(dir, f);
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
  ort.env.wasm.numThreads = 1;
  dir = mkdtempSync(join(tmpdir(), "mdn-export-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mdn-wasm export", () => {
  it("writes an ONNX file that onnxruntime runs to predict's numbers", async () => {
    const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 3, covariance: "full", normalize: true, hidden: [{ units: 8, dropout: 0.1, batchNorm: true }], seed: 4 });
    const { x, y } = regression(128, 4);
    await m.fit(x, y, { epochs: 3, batchSize: 32 });
    writeFileSync(at("m.mdn"), m.save());
    const r = run("export", "m.mdn", "--onnx", "m.onnx");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote m\.onnx .*sigma \(N, 3, 2, 2\)/);
    const s = await ort.InferenceSession.create(new Uint8Array(readFileSync(at("m.onnx"))));
    const out = await s.run({ x: new ort.Tensor("float32", x.data, x.shape) });
    const p = m.predict(x);
    for (const k of ["pi", "mu", "sigma"] as const) {
      const got = out[k]!.data as Float32Array;
      const max = Math.max(...p[k].map(Math.abs));
      p[k].forEach((w, i) => expect(Math.abs(got[i]! - w), `${k}[${i}]`).toBeLessThanOrEqual(1e-5 * Math.abs(w) + 1e-6 * max));
    }
    m.dispose();
  });

  it("is listed in the help, and fails with exit 2 without --onnx and exit 1 on a bad model file", () => {
    expect(run("--help").stdout).toMatch(/^ {2}export +a model file as an ONNX graph/m);
    const usage = run("export", "m.mdn");
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--onnx is required/);
    writeFileSync(at("bad.mdn"), "not a model");
    const bad = run("export", "bad.mdn", "--onnx", "bad.onnx");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.mdn: model file rejected/);
    expect(existsSync(at("bad.onnx"))).toBe(false);
    const missing = run("export", "missing.mdn", "--onnx", "x.onnx");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/missing\.mdn: cannot read the model file \(ENOENT\)/);
  });
});
