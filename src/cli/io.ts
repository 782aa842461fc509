// Input for the commands: open a CSV table with the shared --header / --delimiter options, and
// find columns in it by the names or indices --x / --y / --labels give, or the ones a model
// recorded at training.

import { choice, columnList, type ColumnRef, type OptionSpec, plural, str, type Values } from "./args.js";
import { type Block, type HeaderMode, Table } from "./csv.js";
import { CliError, UsageError } from "./errors.js";
import { loadModel } from "./modelfile.js";

/** Rows per block when streaming a file through a model: bounded memory, calls big enough to be fast. */
export const BLOCK_ROWS = 8192;

export const CSV_OPTIONS: OptionSpec = {
  header: { type: "string" },
  delimiter: { type: "string" },
};

export const CSV_HELP = `  --header auto|yes|no   Is the first line column names? auto (default): yes when any of its
                         fields is not a number.
  --delimiter C          Field separator, default ","; "tab" or "\\t" for tab-separated files.
Columns (--x, --y, --labels) are header names or 0-based indices separated by commas; a name
holding a comma or a quote goes in double quotes, a quote inside doubled: --x '"a,b",c'.`;

export function delimiterOf(v: Values): string {
  const d = str(v, "delimiter") ?? ",";
  const c = d === "tab" || d === "\\t" ? "\t" : d;
  if (c.length !== 1 || c === '"' || c === "\n" || c === "\r") throw new UsageError(`--delimiter: expected one character other than a quote or line break, got ${JSON.stringify(d)}`);
  return c;
}

export async function openTable(path: string, v: Values): Promise<Table> {
  const header = choice<HeaderMode>(v, "header", ["auto", "yes", "no"], "auto");
  return Table.open(path, header, delimiterOf(v));
}

/**
 * Resolve column references to 0-based indices: a name from the header first, else (unquoted) an
 * index. A name that two header columns share is an error rather than a silent pick of the first,
 * and so is a column named twice in one list.
 */
export function resolveColumns(t: Table, refs: ColumnRef[], option: string): number[] {
  const cols = refs.map(({ text, quoted }) => {
    const named = t.names ? t.names.flatMap((n, i) => (n === text ? [i] : [])) : [];
    if (named.length > 1) {
      throw new CliError(`${option}: column name ${JSON.stringify(text)} is ambiguous: ${t.file} has it at indices ${named.join(" and ")}; rename one, or pick by index`);
    }
    if (named.length === 1) return named[0]!;
    if (!quoted && /^\d+$/.test(text) && Number(text) < t.width) return Number(text);
    const have = t.names ? `columns ${t.names.map((s) => JSON.stringify(s)).join(", ")}` : `${plural(t.width, "column")} (indices 0-${t.width - 1}) and no header`;
    throw new CliError(`${option}: no column ${JSON.stringify(text)} in ${t.file}, which has ${have}`);
  });
  cols.forEach((c, i) => {
    if (cols.indexOf(c) !== i) throw new UsageError(`${option}: ${t.label(c)} is named twice`);
  });
  return cols;
}

/** A --x / --y / --labels list resolved in a table. */
export function columnsOf(t: Table, spec: string, option: string): number[] {
  return resolveColumns(t, columnList(spec, option), option);
}

/** Names for a table's columns as the facts file records them: header names, else indices. */
export function columnNames(t: Table, cols: number[]): string[] {
  return cols.map((c) => (t.names ? t.names[c]! : String(c)));
}

/** "x1, x2" for messages, names quoted only where they need it. */
export function listNames(names: string[]): string {
  return names.map((n) => (/^[^,"\s]([^,"]*[^,"\s])?$/.test(n) ? n : JSON.stringify(n))).join(", ");
}

/**
 * The model's input (and, when wanted, target) columns in a table: from --x / --y when given,
 * else the names (or indices) recorded at training in the model's facts file. The count must be
 * the model's.
 */
export function modelColumns(t: Table, v: Values, recorded: { x: string[]; y: string[] } | null, dims: { x: number; y: number }, which: "x" | "xy") {
  const pick = (option: "x" | "y") => {
    const role = option === "x" ? "input" : "target";
    const given = str(v, option);
    let cols: number[];
    if (given !== undefined) {
      cols = columnsOf(t, given, `--${option}`);
    } else {
      if (!recorded) throw new UsageError(`--${option} is needed: the model has no facts file (model.mdn.json) recording its columns`);
      cols = resolveColumns(
        t,
        recorded[option].map((text) => ({ text, quoted: false })),
        `the model's ${role} columns (--${option} to choose others)`,
      );
    }
    const want = dims[option];
    if (cols.length !== want) {
      const trained = recorded ? ` (it was trained on ${listNames(recorded[option])})` : "";
      throw new CliError(`--${option} names ${plural(cols.length, "column")}, but the model takes ${plural(want, role)}${trained}`);
    }
    return cols;
  };
  return { x: pick("x"), y: which === "xy" ? pick("y") : null };
}

/** A model file and a data file opened together, the model's columns found in the data. */
export async function modelAndTable(modelPath: string, dataPath: string, v: Values, which: "x" | "xy") {
  const { model, facts } = await loadModel(modelPath);
  const table = await openTable(dataPath, v);
  return { model, facts, table, ...modelColumns(table, v, facts, { x: model.inputDim, y: model.outputDim }, which) };
}

/** Columns of a block's rows as the (N, d) matrix the library takes. */
export function matrix(t: Table, block: Block, cols: number[], hint?: string): { data: Float64Array; shape: [number, number] } {
  return { data: t.numbers(block, cols, hint), shape: [block.rows.length, cols.length] };
}
