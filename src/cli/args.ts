// Command-line arguments through node:util parseArgs (strict: unknown options and missing values
// are usage errors), and the converters that turn option strings into checked numbers.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full --help text. */
  help: string;
  /** Names of the positional arguments, all required. */
  positionals: string[];
  options: OptionSpec;
  run(values: Values, positionals: string[]): Promise<number>;
}

/** Parse argv for one command; `--help` is handled by the caller. */
export function parseCommand(cmd: Command, argv: string[]): { values: Values; positionals: string[]; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...cmd.options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${cmd.name}: ${(e as Error).message}`);
  }
  const values = parsed.values as Values;
  const help = values.help === true;
  if (!help && parsed.positionals.length !== cmd.positionals.length) {
    const want = cmd.positionals.map((p) => `<${p}>`).join(" ");
    throw new UsageError(`${cmd.name}: expected ${want}, got ${parsed.positionals.length} argument(s)${parsed.positionals.length ? ": " + parsed.positionals.join(" ") : ""}`);
  }
  return { values, positionals: parsed.positionals, help };
}

export function str(v: Values, name: string): string | undefined {
  const s = v[name];
  return typeof s === "string" ? s : undefined;
}

export function required(v: Values, name: string, cmd: string): string {
  const s = str(v, name);
  if (s === undefined) throw new UsageError(`${cmd}: --${name} is required`);
  return s;
}

/** An integer option in [lo, hi], or `fallback` when absent. */
export function int(v: Values, name: string, fallback: number, lo = 1, hi = Number.MAX_SAFE_INTEGER): number {
  const s = str(v, name);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!/^[+-]?\d+$/.test(s.trim()) || n < lo || n > hi) throw new UsageError(`--${name}: expected an integer from ${lo} to ${hi}, got ${JSON.stringify(s)}`);
  return n;
}

/** A number option in [lo, hi] (hi excluded when hiOpen), or `fallback` when absent. */
export function num(v: Values, name: string, fallback: number, lo: number, hi: number, hiOpen = false): number {
  const s = str(v, name);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < lo || (hiOpen ? n >= hi : n > hi)) {
    throw new UsageError(`--${name}: expected a number in [${lo}, ${hi}${hiOpen ? ")" : "]"}, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** A choice among fixed words. */
export function choice<T extends string>(v: Values, name: string, options: readonly T[], fallback: T): T {
  const s = str(v, name);
  if (s === undefined) return fallback;
  if (!options.includes(s as T)) throw new UsageError(`--${name}: expected one of ${options.join(", ")}, got ${JSON.stringify(s)}`);
  return s as T;
}

/** "64,64" -> [64, 64]. */
export function intList(v: Values, name: string, fallback: number[]): number[] {
  const s = str(v, name);
  if (s === undefined) return fallback;
  if (s.trim() === "") return [];
  return s.split(",").map((p) => {
    if (!/^\d+$/.test(p.trim()) || Number(p) < 1) throw new UsageError(`--${name}: expected positive integers separated by commas, got ${JSON.stringify(s)}`);
    return Number(p);
  });
}
