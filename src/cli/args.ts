// Command-line arguments: our own small parser rather than node:util parseArgs, because every
// message must be ours (parseArgs words an unknown option with an unbalanced quote and no
// suggestion, and calls `--epochs -3` "ambiguous"), and the converters that turn option strings
// into checked numbers with bounds written for people.

import { UsageError } from "./errors.js";

export interface OptionSpec {
  [name: string]: { type: "string" | "boolean"; short?: string };
}
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
  /** Library argument names (MdnError.argument, by prefix) and the flag that sets each. */
  flags?: Record<string, string>;
  run(values: Values, positionals: string[]): Promise<number>;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), for suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `options` to `word` (a prefix, or at most a third of its letters different). */
function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = o.startsWith(word) || word.startsWith(o) ? 0.5 : distance(word, o);
    if (d < bestD) [best, bestD] = [o, d];
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

export const didYouMean = (word: string, options: readonly string[], show = (s: string) => s): string => {
  const c = closest(word, options);
  return c === undefined ? "" : ` (did you mean ${show(c)}?)`;
};

/**
 * Parse argv for one command; `--help` / `-h` is handled by the caller. A string option takes the
 * next argument whatever it looks like (so `--epochs -3` reaches the number check and `--out -`
 * means stdout), unless that argument is another option of this command: then the value is
 * missing. `--name=value` works too. An option given twice is an error rather than a silent choice.
 */
export function parseCommand(cmd: Command, argv: string[]): { values: Values; positionals: string[]; help: boolean } {
  const spec: OptionSpec = { ...cmd.options, help: { type: "boolean", short: "h" } };
  const longs = Object.keys(spec);
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  const show = (name: string) => `--${name}`;
  const values: Values = {};
  const positionals: string[] = [];
  const isOption = (a: string | undefined) =>
    a !== undefined && ((a.startsWith("--") && a.slice(2).split("=")[0]! in spec) || (/^-[A-Za-z]$/.test(a) && byShort.has(a[1]!)));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (!(name in spec)) throw new UsageError(`${cmd.name}: unknown option --${name}${didYouMean(name, longs, show)}`);
    } else if (a.length > 1 && a.startsWith("-") && !/^-[\d.]/.test(a)) {
      const found = byShort.get(a[1]!);
      if (found === undefined || a.length > 2) {
        const all = [...byShort.keys()].map((s) => `-${s}`).join(", ");
        throw new UsageError(`${cmd.name}: unknown option ${a}${found === undefined ? "" : ` (write ${a.slice(0, 2)} and its value as two arguments)`}; short options here: ${all}`);
      }
      name = found;
    } else {
      positionals.push(a);
      continue;
    }
    if (values[name] !== undefined) throw new UsageError(`${cmd.name}: --${name} is given twice`);
    if (spec[name]!.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`${cmd.name}: --${name} takes no value (got "${inline}")`);
      values[name] = true;
      continue;
    }
    if (inline !== undefined) {
      values[name] = inline;
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || isOption(next)) throw new UsageError(`${cmd.name}: --${name} needs a value${next === undefined ? "" : ` (got the option ${next})`}`);
    values[name] = next;
    i++;
  }
  const help = values.help === true;
  if (!help && positionals.length !== cmd.positionals.length) {
    const want = cmd.positionals.map((p) => `<${p}>`).join(" ");
    const n = positionals.length;
    throw new UsageError(`${cmd.name}: expected ${want}, got ${plural(n, "argument")}${n ? ": " + positionals.join(" ") : ""}`);
  }
  return { values, positionals, help };
}

/** "1 column", "2 columns". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** 1000000 -> "1,000,000"; bounds in messages are for people. */
export const readable = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 20 });

export function str(v: Values, name: string): string | undefined {
  const s = v[name];
  return typeof s === "string" ? s : undefined;
}

export function required(v: Values, name: string, cmd: string): string {
  const s = str(v, name);
  if (s === undefined) throw new UsageError(`${cmd}: --${name} is required`);
  return s;
}

/** What an integer range reads as: "a positive integer", "an integer from 1 to 1,024". */
function intRange(lo: number, hi: number): string {
  if (hi === Infinity) return lo === 1 ? "a positive integer" : lo === 0 ? "an integer of 0 or more" : `an integer of at least ${readable(lo)}`;
  return `an integer from ${readable(lo)} to ${readable(hi)}`;
}

/** An integer option in [lo, hi], or `fallback` when absent. */
export function int(v: Values, name: string, fallback: number, lo = 1, hi = Infinity): number {
  const s = str(v, name);
  if (s === undefined) return fallback;
  const n = Number(s.trim());
  if (!/^[+-]?\d+$/.test(s.trim()) || n < lo || n > hi || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name}: expected ${intRange(lo, hi)}, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** A number option between lo and hi (each end included unless open), or `fallback` when absent. */
export function num(v: Values, name: string, fallback: number, lo: number, hi: number, { loOpen = false, hiOpen = false } = {}): number {
  const s = str(v, name);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || (loOpen ? n <= lo : n < lo) || (hiOpen ? n >= hi : n > hi)) {
    const low = `${loOpen ? "greater than" : "at least"} ${readable(lo)}`;
    const range = hi === Infinity ? low : `${low} and ${hiOpen ? "below" : "at most"} ${readable(hi)}`;
    throw new UsageError(`--${name}: expected a number ${range}, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** A choice among fixed words. */
export function choice<T extends string>(v: Values, name: string, options: readonly T[], fallback: T): T {
  const s = str(v, name);
  if (s === undefined) return fallback;
  if (!options.includes(s as T)) throw new UsageError(`--${name}: expected one of ${options.join(", ")}, got ${JSON.stringify(s)}${didYouMean(s, options)}`);
  return s as T;
}

/** "64,64" -> [64, 64], each in [1, max]. */
export function intList(v: Values, name: string, fallback: number[], max: number): number[] {
  const s = str(v, name);
  if (s === undefined) return fallback;
  if (s.trim() === "") return [];
  return s.split(",").map((p) => {
    if (!/^\d+$/.test(p.trim()) || Number(p) < 1 || Number(p) > max) {
      throw new UsageError(`--${name}: expected integers from 1 to ${readable(max)} separated by commas, got ${JSON.stringify(s)}`);
    }
    return Number(p);
  });
}

/**
 * A list of column names or indices as --x / --y / --labels take it: comma-separated, with CSV
 * quoting for a name that holds a comma or a quote (`--x '"a,b",c'` is the columns `a,b` and
 * `c`; a quote inside is doubled). Spaces around an item are dropped. A quoted item is always a
 * name, never an index.
 */
export interface ColumnRef {
  text: string;
  quoted: boolean;
}

export function columnList(spec: string, option: string): ColumnRef[] {
  const items: ColumnRef[] = [];
  let i = 0;
  const bad = (what: string) => new UsageError(`${option} ${JSON.stringify(spec)}: ${what} (a name with a comma or quote is written in double quotes, a quote inside doubled: --x '"a,b",c')`);
  for (; ;) {
    while (spec[i] === " " || spec[i] === "\t") i++;
    if (spec[i] === '"') {
      let text = "";
      i++;
      for (; ;) {
        if (i >= spec.length) throw bad("a quote is never closed");
        if (spec[i] === '"') {
          if (spec[i + 1] === '"') {
            text += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += spec[i++];
      }
      while (spec[i] === " " || spec[i] === "\t") i++;
      if (i < spec.length && spec[i] !== ",") throw bad("text after a closing quote");
      items.push({ text, quoted: true });
    } else {
      let j = i;
      while (j < spec.length && spec[j] !== ",") j++;
      const text = spec.slice(i, j).trim();
      if (text.includes('"')) throw bad("a quote inside an unquoted name");
      if (text === "") throw bad("an empty column name in the list");
      items.push({ text, quoted: false });
      i = j;
    }
    if (i >= spec.length) return items;
    i++; // the comma
  }
}

/** The --x / --y text that names these columns (the inverse of columnList). */
export function columnSpec(names: string[]): string {
  return names.map((n) => (/[",]|^\s|\s$/.test(n) || n === "" ? `"${n.replace(/"/g, '""')}"` : n)).join(",");
}
