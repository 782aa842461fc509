// CSV in and out for the command line, streamed: memory holds one block of rows, never the file.
// Our own RFC 4180 parser (no dependency: the library has one runtime dependency and the CLI
// should not add more), because we need what small libraries rarely report: the physical line on
// which every record starts, so an error can name the line and column of a bad cell. Handles
// quoted fields with delimiters, newlines and doubled quotes, CRLF / LF / CR line ends, a UTF-8
// byte-order mark, and a missing final line break. Blank lines are skipped (as pandas does). Bytes
// that are not UTF-8 are an error naming their line, never a silent U+FFFD. Cells are strings
// here; numbers are parsed per column.

import { createReadStream } from "node:fs";
import { CliError } from "./errors.js";

const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * An incremental CSV parser: push text in pieces of any size, get each complete record with the
 * 1-based line it starts on. A piece may end anywhere, even inside a quoted field or between the
 * CR and LF of one line break.
 */
export class CsvParser {
  private fields: string[] = [];
  private field = "";
  /** 0 at a field's start, 1 in an unquoted field, 2 in a quoted one, 3 just after its closing quote. */
  private state = 0;
  private line = 1;
  private recordLine = 1;
  private quoteLine = 0;
  /** A CR that ended the last piece: held back until we know whether LF follows. */
  private heldCr = false;
  private readonly delim: number;

  constructor(
    private readonly file: string,
    delimiter: string,
    private readonly emit: (fields: string[], line: number) => void,
  ) {
    this.delim = delimiter.charCodeAt(0);
  }

  push(piece: string): void {
    let text = piece;
    if (this.heldCr) {
      text = "\r" + text;
      this.heldCr = false;
    }
    if (text.length > 0 && text.charCodeAt(text.length - 1) === CR) {
      text = text.slice(0, -1);
      this.heldCr = true;
    }
    this.scan(text);
  }

  /** The end of the input: finishes the last record. */
  end(): void {
    if (this.heldCr) {
      this.heldCr = false;
      this.scan("\r");
    }
    if (this.state === 2) throw new CliError(`${this.file}, line ${this.quoteLine}, field ${this.fields.length + 1}: a quoted field is never closed`);
    if (this.state !== 0 || this.fields.length > 0) this.endRecord();
  }

  /** Advance past the line break at text[i] (CR, LF or CRLF). */
  private lineBreak(text: string, i: number): number {
    this.line++;
    return text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
  }

  private endRecord(): void {
    this.fields.push(this.field);
    this.emit(this.fields, this.recordLine);
    this.fields = [];
    this.field = "";
    this.state = 0;
  }

  private scan(text: string): void {
    const n = text.length;
    const d = this.delim;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case 0: // a field's start
          if (this.fields.length === 0) {
            if (c === LF || c === CR) {
              i = this.lineBreak(text, i); // a blank line
              continue;
            }
            this.recordLine = this.line;
          }
          if (c === QUOTE) {
            this.state = 2;
            this.quoteLine = this.line;
            i++;
          } else {
            this.state = 1;
          }
          continue;
        case 1: {
          let j = i;
          let cj = c;
          while (j < n && cj !== d && cj !== LF && cj !== CR && cj !== QUOTE) cj = text.charCodeAt(++j);
          this.field += text.slice(i, j);
          i = j;
          if (j === n) continue;
          if (cj === QUOTE) throw new CliError(`${this.file}, line ${this.line}, field ${this.fields.length + 1}: a quote inside an unquoted field (quote the whole field and double the quote)`);
          this.state = 3;
          continue;
        }
        case 2: {
          const q = text.indexOf('"', i);
          const j = q < 0 ? n : q;
          for (let k = i; k < j; k++) {
            const ck = text.charCodeAt(k);
            if (ck === LF || (ck === CR && text.charCodeAt(k + 1) !== LF)) this.line++;
          }
          this.field += text.slice(i, j);
          if (q < 0) return;
          if (q + 1 === n) {
            // The quote may be the first of a doubled pair split across pieces: decide on the next.
            this.state = 4;
            return;
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            this.field += '"';
            i = q + 2;
          } else {
            this.state = 3;
            i = q + 1;
          }
          continue;
        }
        case 4: // a quote ended the last piece
          if (c === QUOTE) {
            this.field += '"';
            this.state = 2;
            i++;
          } else {
            this.state = 3;
          }
          continue;
        default: // 3: after a field, at a delimiter or line break
          if (c === d) {
            this.fields.push(this.field);
            this.field = "";
            this.state = 0;
            i++;
          } else if (c === LF || c === CR) {
            this.endRecord();
            i = this.lineBreak(text, i);
          } else {
            throw new CliError(`${this.file}, line ${this.line}, field ${this.fields.length + 1}: text after a closing quote (a quote inside a field must be doubled: "")`);
          }
      }
    }
  }
}

/** Split a whole CSV text into records, with the 1-based line each starts on. */
export function parseCsv(text: string, file: string, delimiter = ","): { records: string[][]; lines: number[] } {
  const records: string[][] = [];
  const lines: number[] = [];
  const p = new CsvParser(file, delimiter, (f, l) => {
    records.push(f);
    lines.push(l);
  });
  p.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  p.end();
  return { records, lines };
}

/**
 * Where the first byte that is not UTF-8 sits: its offset, value and line. Read again from the
 * start, only once decoding has failed, so the common path is the native decoder alone.
 */
async function findBadUtf8(path: string): Promise<{ offset: number; byte: number; line: number }> {
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  let start = 0;
  let startLine = 1;
  let line = 1;
  let offset = 0;
  let lastCr = false;
  let last = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++, offset++) {
      const b = chunk[i]!;
      if (need === 0) {
        if (b === LF) {
          if (!lastCr) line++;
        } else if (b === CR) {
          line++;
        }
        lastCr = b === CR;
        if (b < 0x80) continue;
        [start, startLine, last] = [offset, line, b];
        if (b >= 0xc2 && b <= 0xdf) [need, lo, hi] = [1, 0x80, 0xbf];
        else if (b === 0xe0) [need, lo, hi] = [2, 0xa0, 0xbf];
        else if (b === 0xed) [need, lo, hi] = [2, 0x80, 0x9f]; // no UTF-16 surrogates
        else if (b >= 0xe1 && b <= 0xef) [need, lo, hi] = [2, 0x80, 0xbf];
        else if (b === 0xf0) [need, lo, hi] = [3, 0x90, 0xbf];
        else if (b >= 0xf1 && b <= 0xf3) [need, lo, hi] = [3, 0x80, 0xbf];
        else if (b === 0xf4) [need, lo, hi] = [3, 0x80, 0x8f]; // nothing past U+10FFFF
        else return { offset, byte: b, line };
      } else {
        if (b < lo || b > hi) return { offset: start, byte: last, line: startLine };
        [need, lo, hi] = [need - 1, 0x80, 0xbf];
      }
    }
  }
  return { offset: start, byte: last, line: startLine };
}

/**
 * The records of a file in the order they come, a piece of the file at a time (each call of the
 * iterator gives the records completed by one read). Decoding is strict UTF-8.
 */
async function* fileRecords(path: string, delimiter: string): AsyncGenerator<{ records: string[][]; lines: number[] }> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let records: string[][] = [];
  let lines: number[] = [];
  const parser = new CsvParser(path, delimiter, (f, l) => {
    records.push(f);
    lines.push(l);
  });
  const take = () => {
    const out = { records, lines };
    records = [];
    lines = [];
    return out;
  };
  let stream;
  try {
    stream = createReadStream(path, { highWaterMark: 1 << 16 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        stream.destroy();
        const bad = await findBadUtf8(path);
        throw new CliError(`${path}, line ${bad.line}: byte 0x${bad.byte.toString(16).padStart(2, "0")} (at byte ${bad.offset} of the file) is not UTF-8 text; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`);
      }
      parser.push(text);
      if (records.length > 0) yield take();
    }
    try {
      parser.push(decoder.decode());
    } catch {
      const bad = await findBadUtf8(path);
      throw new CliError(`${path}, line ${bad.line}: the file ends inside a UTF-8 character (byte 0x${bad.byte.toString(16)} at byte ${bad.offset}); save the file as UTF-8`);
    }
    parser.end();
    if (records.length > 0) yield take();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    stream?.destroy();
  }
}

/** A decimal number as a CSV cell may hold it: no hex, no empty string, no Infinity or NaN. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isNumber(cell: string): boolean {
  return NUMBER.test(cell.trim());
}

export type HeaderMode = "auto" | "yes" | "no";

/** Data rows of a table, a block at a time, with the 1-based line each starts on. */
export interface Block {
  rows: string[][];
  lines: number[];
}

/**
 * A CSV file opened for one pass: the header (if any) is read at open, data rows come in blocks
 * from `blocks`. With `header: "auto"` the first record is a header when any of its fields is not
 * a number (a data row of numbers is never taken for names). Every record must have as many fields
 * as the first.
 */
export class Table {
  /** Column names from the header row, or null when the file has none. */
  readonly names: string[] | null;
  readonly width: number;
  /** Data rows read so far (all of them once `blocks` has finished). */
  rowCount = 0;
  private readonly firstLine: number;

  private constructor(
    readonly file: string,
    first: string[],
    firstLine: number,
    hasHeader: boolean,
    private pending: { records: string[][]; lines: number[] },
    private readonly rest: AsyncGenerator<{ records: string[][]; lines: number[] }>,
  ) {
    this.width = first.length;
    this.firstLine = firstLine;
    this.names = hasHeader ? first.map((f) => f.trim()) : null;
  }

  static async open(path: string, header: HeaderMode = "auto", delimiter = ","): Promise<Table> {
    const gen = fileRecords(path, delimiter);
    for (; ;) {
      const next = await gen.next();
      if (next.done) throw new CliError(`${path}: the file is empty (no rows)`);
      const { records, lines } = next.value;
      if (records.length === 0) continue;
      const first = records[0]!;
      const hasHeader = header === "yes" || (header === "auto" && first.some((f) => !isNumber(f)));
      const pending = hasHeader ? { records: records.slice(1), lines: lines.slice(1) } : { records: [first, ...records.slice(1)], lines };
      return new Table(path, first, lines[0]!, hasHeader, pending, gen);
    }
  }

  /** How a column is shown in messages: its name and 0-based index. */
  label(c: number): string {
    return this.names ? `column "${this.names[c]}" (index ${c})` : `column ${c}`;
  }

  /** The data rows in blocks of exactly `size` (the last may be shorter); one pass only. */
  async *blocks(size: number): AsyncGenerator<Block> {
    let rows: string[][] = [];
    let lines: number[] = [];
    let source: { records: string[][]; lines: number[] } | null = this.pending;
    this.pending = { records: [], lines: [] };
    try {
      while (source) {
        this.checkWidths(source.records, source.lines);
        for (let r = 0; r < source.records.length; r++) {
          rows.push(source.records[r]!);
          lines.push(source.lines[r]!);
          if (rows.length === size) {
            this.rowCount += size;
            yield { rows, lines };
            rows = [];
            lines = [];
          }
        }
        const next = await this.rest.next();
        source = next.done ? null : next.value;
      }
    } finally {
      // A consumer that stops early (an error in a later block) closes the file.
      await this.rest.return(undefined);
    }
    this.rowCount += rows.length;
    if (this.rowCount === 0) throw new CliError(`${this.file}: a header line and no data rows`);
    if (rows.length > 0) yield { rows, lines };
  }

  private checkWidths(records: string[][], at: number[]): void {
    const w = this.width;
    for (let r = 0; r < records.length; r++) {
      const got = records[r]!.length;
      if (got !== w) {
        const what = got < w ? `column ${got + 1}${this.names ? ` ("${this.names[got]}")` : ""} is missing` : `column ${w + 1} is extra`;
        throw new CliError(`${this.file}, line ${at[r]}: ${got} fields where line ${this.firstLine} has ${w}; ${what}`);
      }
    }
  }

  /**
   * Columns `cols` of a block's rows as a row-major float64 matrix; a bad cell names its line and
   * column, and `hint` (when given) says what to do about it.
   */
  numbers(block: Block, cols: number[], hint = ""): Float64Array {
    const d = cols.length;
    const out = new Float64Array(block.rows.length * d);
    for (let r = 0; r < block.rows.length; r++) {
      const row = block.rows[r]!;
      for (let j = 0; j < d; j++) {
        const c = cols[j]!;
        const cell = row[c]!.trim();
        const where = () => `${this.file}, line ${block.lines[r]}, ${this.label(c)}`;
        if (cell === "") throw new CliError(`${where()}: missing value${hint}`);
        if (!NUMBER.test(cell)) throw new CliError(`${where()}: expected a number, got ${JSON.stringify(cell)}${hint}`);
        const v = Number(cell);
        if (!Number.isFinite(Math.fround(v))) throw new CliError(`${where()}: ${cell} is beyond float32 range`);
        out[r * d + j] = v;
      }
    }
    return out;
  }
}

/** Exact powers of ten (10^22 is the last a double holds exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * The shortest decimal of 6 to 9 significant digits that reads back as the same float32 value
 * (9 always does). Fast path: the digits as an integer m = round(|f| 10^k) and the value m / 10^k,
 * both exact or correctly rounded while 10^k is exact, printed by String (a double's shortest
 * form, so trailing zeros go); toPrecision, about three times slower, covers the rest.
 */
export function formatF32(v: number): string {
  const f = Math.fround(v);
  const a = Math.abs(f);
  if (a >= 1e-13 && a < 1e22) {
    let e = Math.floor(Math.log10(a));
    if (e + 1 >= 0 && e + 1 < 23 && a >= POW10[e + 1]!) e++; // log10 a hair low just under a power of ten
    for (let p = 6; p <= 9; p++) {
      const k = p - 1 - e;
      if (k > 22 || k < -22) break;
      const m = Math.round(k >= 0 ? a * POW10[k]! : a / POW10[-k]!);
      const d = k >= 0 ? m / POW10[k]! : m * POW10[-k]!;
      if (Math.fround(d) === a) return String(f < 0 ? -d : d);
    }
  }
  for (let p = 6; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(Number(f.toPrecision(9)));
}

export function quote(field: string, delimiter: string): string {
  return /["\r\n]/.test(field) || field.includes(delimiter) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** One CSV line (with its LF): text cells quoted where needed, numbers as float32 values. */
export function csvLine(cells: ArrayLike<string | number>, delimiter: string): string {
  let s = "";
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    if (i > 0) s += delimiter;
    s += typeof c === "number" ? formatF32(c) : quote(c, delimiter);
  }
  return s + "\n";
}

/** A whole CSV document (LF line ends, final line break) from a header and rows of cells. */
export function writeCsv(header: string[], rows: Iterable<ArrayLike<string | number>>, delimiter = ","): string {
  let s = csvLine(header, delimiter);
  for (const row of rows) s += csvLine(row, delimiter);
  return s;
}
