// CSV in and out for the command line. Our own RFC 4180 parser (about 80 lines, no dependency):
// the library has one runtime dependency and the CLI should not add more, and we need what small
// libraries rarely report: the physical line on which every record starts, so an error can name
// the line and column of a bad cell. Handles quoted fields with delimiters, newlines and doubled
// quotes, CRLF / LF / CR line ends, a UTF-8 byte-order mark, and a missing final line break.
// Blank lines are skipped (as pandas does). Tables are strings here; numbers are parsed per column.

import { CliError } from "./errors.js";

export interface Table {
  /** The file name used in messages. */
  file: string;
  /** Column names from the header row, or null when the file has none. */
  names: string[] | null;
  /** Data records (header removed), each with `width` fields. */
  rows: string[][];
  /** The 1-based line on which each data record starts. */
  lines: number[];
  width: number;
}

/** Split CSV text into records, with the 1-based line each starts on. */
export function parseCsv(text: string, file: string, delimiter = ","): { records: string[][]; lines: number[] } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // One record per iteration; a blank line (just a line break) is skipped.
    const c0 = text[i];
    if (c0 === "\n" || c0 === "\r") {
      i += c0 === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        const openLine = line;
        const openCol = fields.length;
        i++;
        for (;;) {
          if (i >= n) throw new CliError(`${file}, line ${openLine}, field ${openCol + 1}: a quoted field is never closed`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) line++;
          field += c;
          i++;
        }
        const next = text[i];
        if (i < n && next !== delimiter && next !== "\n" && next !== "\r") {
          throw new CliError(`${file}, line ${line}, field ${fields.length + 1}: text after a closing quote (a quote inside a field must be doubled: "")`);
        }
      } else {
        let j = i;
        while (j < n && text[j] !== delimiter && text[j] !== "\n" && text[j] !== "\r") j++;
        field = text.slice(i, j);
        if (field.includes('"')) {
          throw new CliError(`${file}, line ${line}, field ${fields.length + 1}: a quote inside an unquoted field (quote the whole field and double the quote)`);
        }
        i = j;
      }
      fields.push(field);
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    records.push(fields);
    lines.push(start);
    if (i < n) {
      i += text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
    }
  }
  return { records, lines };
}

/** A decimal number as a CSV cell may hold it: no hex, no empty string, no Infinity or NaN. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function isNumber(cell: string): boolean {
  return NUMBER.test(cell.trim());
}

export type HeaderMode = "auto" | "yes" | "no";

/**
 * Records -> table. With `header: "auto"` the first record is a header when any of its fields is
 * not a number (a data row of numbers is never taken for names). Every record must have as many
 * fields as the first.
 */
export function toTable(text: string, file: string, header: HeaderMode = "auto", delimiter = ","): Table {
  const { records, lines } = parseCsv(text, file, delimiter);
  if (records.length === 0) throw new CliError(`${file}: the file is empty (no rows)`);
  const first = records[0]!;
  const hasHeader = header === "yes" || (header === "auto" && first.some((f) => !isNumber(f)));
  const width = first.length;
  const names = hasHeader ? first.map((f) => f.trim()) : null;
  for (let r = 1; r < records.length; r++) {
    const got = records[r]!.length;
    if (got !== width) {
      const what = got < width ? `column ${got + 1}${names ? ` ("${names[got]}")` : ""} is missing` : `column ${width + 1} is extra`;
      throw new CliError(`${file}, line ${lines[r]}: ${got} fields where line ${lines[0]} has ${width}; ${what}`);
    }
  }
  const rows = hasHeader ? records.slice(1) : records;
  if (rows.length === 0) throw new CliError(`${file}: a header line and no data rows`);
  return { file, names, rows, lines: hasHeader ? lines.slice(1) : lines, width };
}

/** How a column is shown in messages: its name and 0-based index. */
export function columnLabel(t: Table, c: number): string {
  return t.names ? `column "${t.names[c]}" (index ${c})` : `column ${c}`;
}

/**
 * Resolve a list like "x1,x2" or "0,1" (names win over indices when the file has a header) to
 * 0-based column indices.
 */
export function resolveColumns(t: Table, spec: string, option: string): number[] {
  const parts = spec.split(",").map((s) => s.trim());
  if (parts.some((p) => p === "")) throw new CliError(`${option} ${JSON.stringify(spec)}: an empty column name in the list`);
  return parts.map((p) => {
    const named = t.names ? t.names.indexOf(p) : -1;
    if (named >= 0) return named;
    if (/^\d+$/.test(p) && Number(p) < t.width) return Number(p);
    const have = t.names ? `columns ${t.names.map((s) => JSON.stringify(s)).join(", ")}` : `${t.width} columns (indices 0-${t.width - 1}) and no header`;
    throw new CliError(`${option}: no column ${JSON.stringify(p)} in ${t.file}, which has ${have}`);
  });
}

/** Columns `cols` of every row as a row-major float64 matrix; a bad cell names its line and column. */
export function numericColumns(t: Table, cols: number[]): { data: Float64Array; shape: [number, number] } {
  const d = cols.length;
  const out = new Float64Array(t.rows.length * d);
  t.rows.forEach((row, r) => {
    cols.forEach((c, j) => {
      const cell = row[c]!.trim();
      if (cell === "") throw new CliError(`${t.file}, line ${t.lines[r]}, ${columnLabel(t, c)}: missing value`);
      if (!NUMBER.test(cell)) throw new CliError(`${t.file}, line ${t.lines[r]}, ${columnLabel(t, c)}: expected a number, got ${JSON.stringify(cell)}`);
      const v = Number(cell);
      if (!Number.isFinite(Math.fround(v))) throw new CliError(`${t.file}, line ${t.lines[r]}, ${columnLabel(t, c)}: ${cell} is beyond float32 range`);
      out[r * d + j] = v;
    });
  });
  return { data: out, shape: [t.rows.length, d] };
}

/** The shortest decimal that reads back as the same float32 value. */
export function formatF32(v: number): string {
  const f = Math.fround(v);
  for (let p = 6; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(Number(f.toPrecision(9)));
}

function quote(field: string, delimiter: string): string {
  return /["\r\n]/.test(field) || field.includes(delimiter) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** A CSV document (LF line ends, final line break) from a header and rows of cells. */
export function writeCsv(header: string[], rows: Iterable<Array<string | number>>, delimiter = ","): string {
  const out = [header.map((h) => quote(h, delimiter)).join(delimiter)];
  for (const row of rows) out.push(row.map((c) => (typeof c === "number" ? formatF32(c) : quote(c, delimiter))).join(delimiter));
  return out.join("\n") + "\n";
}
