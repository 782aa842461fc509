// Files for the commands: read a CSV table with the shared --header / --delimiter options, find a
// model's columns in it, and write results to --out or stdout.

import { readFile, rename, writeFile } from "node:fs/promises";
import { choice, type OptionSpec, str, type Values } from "./args.js";
import { type HeaderMode, numericColumns, resolveColumns, type Table, toTable } from "./csv.js";
import { CliError, UsageError } from "./errors.js";

export const CSV_OPTIONS: OptionSpec = {
  header: { type: "string" },
  delimiter: { type: "string" },
};

export const CSV_HELP = `  --header auto|yes|no   Is the first line column names? auto (default): yes when any of its
                         fields is not a number.
  --delimiter C          Field separator, default ","; "tab" or "\\t" for tab-separated files.`;

function delimiterOf(v: Values): string {
  const d = str(v, "delimiter") ?? ",";
  const c = d === "tab" || d === "\\t" ? "\t" : d;
  if (c.length !== 1 || c === '"' || c === "\n" || c === "\r") throw new UsageError(`--delimiter: expected one character other than a quote or line break, got ${JSON.stringify(d)}`);
  return c;
}

export async function readTable(path: string, v: Values): Promise<Table> {
  const header = choice<HeaderMode>(v, "header", ["auto", "yes", "no"], "auto");
  const delimiter = delimiterOf(v);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CliError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return toTable(text, path, header, delimiter);
}

/** The delimiter for output files: the one the input used. */
export function outputDelimiter(v: Values): string {
  return delimiterOf(v);
}

/**
 * The model's input (and, when wanted, target) columns in a table: from --x / --y when given,
 * else the names (or indices) recorded at training in the model's facts file.
 */
export function modelColumns(t: Table, v: Values, recorded: { x: string[]; y: string[] } | null, which: "x" | "xy") {
  const pick = (option: "x" | "y") => {
    const given = str(v, option);
    if (given !== undefined) return resolveColumns(t, given, `--${option}`);
    if (!recorded) throw new UsageError(`--${option} is needed: the model has no facts file (model.mdn.json) recording its columns`);
    return resolveColumns(t, recorded[option].join(","), `the model's ${option === "x" ? "input" : "target"} columns (--${option} to choose others)`);
  };
  const x = numericColumns(t, pick("x"));
  return { x, y: which === "xy" ? numericColumns(t, pick("y")) : null };
}

/** Write text to a file (atomically) or, with no path or "-", to stdout. */
export async function writeOutput(path: string | undefined, text: string): Promise<void> {
  if (path === undefined || path === "-") {
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
    return;
  }
  await atomicWrite(path, text);
}

/** Write through a temporary file and a rename, so an interrupted write never leaves half a file. */
export async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    throw new CliError(`${path}: cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
