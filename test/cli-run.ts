// Running the real bin (dist/cli/main.js, built by `npm test`'s pretest) in a child process, for
// the CLI's test files.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { seedClusters } from "../src/index.js";

export const BIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
export const DIST = fileURLToPath(new URL("../dist/", import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartOptions {
  cwd: string;
  /** Flags for node itself, e.g. a heap limit. */
  node?: string[];
  /** Called with all stderr so far on each piece. */
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  /** Count stdout instead of keeping it (for outputs too large to hold). */
  countStdout?: (piece: Buffer) => void;
}

export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
}

export function start(args: string[], o: StartOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(o.node ?? []), BIN, ...args], { cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (o.countStdout ? o.countStdout(d) : (stdout += d)));
    child.stderr.on("data", (d) => {
      stderr += d;
      o.onStderr?.(stderr, child);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A CSV of the seed clusters: x1,x2 inputs, y1,y2 targets (cluster centres) and the cluster. */
export function clustersCsv(rows: number, seed: number, label = (z: number) => `c${z}`): string {
  const d = seedClusters(rows, seed);
  const lines = ["x1,x2,y1,y2,cluster"];
  for (let i = 0; i < rows; i++) lines.push(`${d.x[2 * i]},${d.x[2 * i + 1]},${d.y[2 * i]},${d.y[2 * i + 1]},${label(d.z[i]!)}`);
  return lines.join("\r\n") + "\r\n";
}

/** No stack trace: one line naming the program (and a --help pointer for usage errors). */
export function expectOneLine(r: Run): string {
  const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("Try: mdn-wasm"));
  if (lines.length !== 1 || !lines[0]!.startsWith("mdn-wasm: ") || /\n\s+at /.test(r.stderr)) {
    throw new Error(`expected one error line, got:\n${r.stderr}`);
  }
  return lines[0]!;
}
