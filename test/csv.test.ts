// The CLI's CSV reader and writer, in process: RFC 4180 quoting, line ends, BOM, header detection,
// errors that name the line and column, the streaming parser fed in pieces of every size, and
// strict UTF-8.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { columnList, columnSpec } from "../src/cli/args.js";
import { CsvParser, formatF32, parseCsv, Table, writeCsv } from "../src/cli/csv.js";
import { columnsOf } from "../src/cli/io.js";

const dir = mkdtempSync(join(tmpdir(), "mdn-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** Write text (or bytes) to a fresh file and return its path. */
const file = (content: string | Uint8Array, name = `f${files++}.csv`) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const errorOf = async (f: () => unknown): Promise<string> => {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
};

/** Every data row of a file, through Table's blocks. */
async function readAll(path: string, header: "auto" | "yes" | "no" = "auto", delimiter = ",", size = 3) {
  const t = await Table.open(path, header, delimiter);
  const rows: string[][] = [];
  const lines: number[] = [];
  for await (const b of t.blocks(size)) {
    expect(b.rows.length).toBeLessThanOrEqual(size);
    rows.push(...b.rows);
    lines.push(...b.lines);
  }
  return { names: t.names, rows, lines, count: t.rowCount };
}

describe("parseCsv", () => {
  it("reads quoted fields with delimiters, doubled quotes and line breaks, and tracks lines", () => {
    const text = '\uFEFFa,"b,c","say ""hi"""\r\n1,"two\r\nlines",3\r\n\r\n4,5,""\n';
    const { records, lines } = parseCsv(text, "f.csv");
    expect(records).toEqual([
      ["a", "b,c", 'say "hi"'],
      ["1", "two\r\nlines", "3"],
      ["4", "5", ""],
    ]);
    expect(lines).toEqual([1, 2, 5]);
  });

  it("accepts a missing final line break, CR-only line ends and empty fields", () => {
    expect(parseCsv("1,,3\r4,5,6", "f").records).toEqual([["1", "", "3"], ["4", "5", "6"]]);
    expect(parseCsv("x;y\n1;2", "f", ";").records).toEqual([["x", "y"], ["1", "2"]]);
    expect(parseCsv("1,2,\n", "f").records).toEqual([["1", "2", ""]]);
  });

  it("rejects an unclosed quote and stray quotes, naming line and field", () => {
    expect(() => parseCsv('a,b\n1,"2\n3,4\n', "f.csv")).toThrow("f.csv, line 2, field 2: a quoted field is never closed");
    expect(() => parseCsv('a,b\n1,"2"x\n', "f.csv")).toThrow(/^f\.csv, line 2, field 2: text after a closing quote/);
    expect(() => parseCsv('a,b\n1,2"\n', "f.csv")).toThrow(/^f\.csv, line 2, field 2: a quote inside an unquoted field/);
  });

  it("gives the same records and lines whatever the pieces the text arrives in", () => {
    const text = 'h1,"h,2"\r\n"a ""q""",1\r\n\r\n"multi\r\nline\rcell",2\n\n3,"x"\r4,""\r\n5,6';
    const whole = parseCsv(text, "f");
    for (const size of [1, 2, 3, 5, 7]) {
      const records: string[][] = [];
      const lines: number[] = [];
      const p = new CsvParser("f", ",", (f, l) => {
        records.push(f);
        lines.push(l);
      });
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      p.end();
      expect({ records, lines }, `pieces of ${size}`).toEqual(whole);
    }
    expect(whole.lines).toEqual([1, 2, 4, 8, 9, 10]);
  });
});

describe("Table", () => {
  it("detects a header only when the first line has a non-number, and hands rows out in blocks", async () => {
    expect((await readAll(file("x,y\n1,2\n"))).names).toEqual(["x", "y"]);
    expect((await readAll(file("1,2\n3,4\n"))).names).toBeNull();
    expect((await readAll(file("1,2\n3,4\n"), "yes")).names).toEqual(["1", "2"]);
    expect((await readAll(file("a,b\n3,4\n"), "no")).rows).toEqual([["a", "b"], ["3", "4"]]);
    const lines = Array.from({ length: 10 }, (_, i) => `${i},${i * 2}`);
    const all = await readAll(file(`\uFEFFa,b\n${lines.join("\n")}\n`), "auto", ",", 4);
    expect(all.names).toEqual(["a", "b"]);
    expect(all.rows).toEqual(lines.map((l) => l.split(",")));
    expect(all.lines).toEqual(lines.map((_, i) => i + 2));
    expect(all.count).toBe(10);
  });

  it("names the line and the missing column of a short row, and the extra column of a long one", async () => {
    expect(await errorOf(() => readAll(file("x,y,z\n1,2,3\n4,5\n", "d.csv")))).toBe(`${join(dir, "d.csv")}, line 3: 2 fields where line 1 has 3; column 3 ("z") is missing`);
    expect(await errorOf(() => readAll(file("1,2\n4,5,6\n", "e.csv")))).toBe(`${join(dir, "e.csv")}, line 2: 3 fields where line 1 has 2; column 3 is extra`);
  });

  it("rejects an empty file, a header without rows and a file that is not there", async () => {
    const e = file("", "e.csv");
    expect(await errorOf(() => readAll(e))).toBe(`${e}: the file is empty (no rows)`);
    expect(await errorOf(() => readAll(file("\uFEFF\r\n\n", "e.csv")))).toBe(`${e}: the file is empty (no rows)`);
    expect(await errorOf(() => readAll(file("a,b\n", "e.csv")))).toBe(`${e}: a header line and no data rows`);
    expect(await errorOf(() => readAll(join(dir, "none.csv")))).toBe(`${join(dir, "none.csv")}: cannot read the file (ENOENT)`);
  });

  it("rejects bytes that are not UTF-8, naming the line, instead of decoding them to U+FFFD", async () => {
    const latin1 = file(Buffer.concat([Buffer.from("x,y\n1,2\n"), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(",3\n")]), "l.csv");
    expect(await errorOf(() => readAll(latin1))).toBe(`${latin1}, line 3: byte 0xe9 (at byte 11 of the file) is not UTF-8 text; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`);
    const header = file(Buffer.concat([Buffer.from([0x6e, 0xe4, 0x6d, 0x65]), Buffer.from(",y\n1,2\n")]), "h.csv");
    expect(await errorOf(() => Table.open(header))).toMatch(/h\.csv, line 1: byte 0xe4 \(at byte 1 of the file\) is not UTF-8 text/);
    // Truncated and overlong sequences, and a surrogate, on later lines (CRLF counted once).
    for (const [bytes, line] of [[[0xc3], 2], [[0xc0, 0xaf], 3], [[0xed, 0xa0, 0x80], 2]] as const) {
      const f = file(Buffer.concat([Buffer.from("a,b\r\n1,2\r\n".repeat(line - 1).slice(0, line === 2 ? 5 : 10)), Buffer.from(bytes)]));
      expect(await errorOf(() => readAll(f)), String(bytes)).toMatch(new RegExp(`, line ${line}: `));
    }
    // Real UTF-8, a genuine U+FFFD included, reads as text.
    expect((await readAll(file("név,\uFFFD\n1,2\n"))).names).toEqual(["név", "\uFFFD"]);
  });

  it("parses numbers and names the line and column of text, a missing cell or an overflow", async () => {
    const numbers = async (text: string, cols: number[], header: "auto" | "no" = "auto") => {
      const t = await Table.open(file(text, "d.csv"), header);
      const out: number[] = [];
      for await (const b of t.blocks(2)) out.push(...t.numbers(b, cols));
      return out;
    };
    expect(await numbers('x,y\n1.5, -2e-3\n"3",.25\n', [1, 0])).toEqual([-2e-3, 1.5, 0.25, 3]);
    const bad = "x,y\n1,2\n3,abc\n,4\n5,1e99\n";
    const d = join(dir, "d.csv");
    expect(await errorOf(() => numbers(bad, [1]))).toBe(`${d}, line 3, column "y" (index 1): expected a number, got "abc"`);
    expect(await errorOf(() => numbers(bad, [0]))).toBe(`${d}, line 4, column "x" (index 0): missing value`);
    expect(await errorOf(() => numbers("1,2\n5,1e99\n", [1]))).toBe(`${d}, line 2, column 1: 1e99 is beyond float32 range`);
    expect(await errorOf(() => numbers("1,0x10\n", [1], "no"))).toMatch(/line 1, column 1: expected a number, got "0x10"/);
  });
});

describe("column lists", () => {
  it("resolves columns by name first, then by 0-based index", async () => {
    const t = await Table.open(file("a,b,2\n1,2,3\n", "f.csv"));
    expect(columnsOf(t, "b, a", "--x")).toEqual([1, 0]);
    expect(columnsOf(t, "2,1", "--x")).toEqual([2, 1]);
    expect(() => columnsOf(t, "c", "--y")).toThrow(`--y: no column "c" in ${join(dir, "f.csv")}, which has columns "a", "b", "2"`);
    const g = await Table.open(file("1,2\n", "g.csv"));
    expect(() => columnsOf(g, "5", "--y")).toThrow(`--y: no column "5" in ${join(dir, "g.csv")}, which has 2 columns (indices 0-1) and no header`);
    expect(() => columnsOf(t, "a,b,a", "--x")).toThrow('--x: column "a" (index 0) is named twice');
  });

  it("names a column holding a comma or a quote with CSV quoting, and refuses an ambiguous name", async () => {
    expect(columnList(' "a,b" , c,"say ""hi"""', "--x")).toEqual([
      { text: "a,b", quoted: true },
      { text: "c", quoted: false },
      { text: 'say "hi"', quoted: true },
    ]);
    for (const names of [["a,b", "c"], ['q"uote', " pad "], ["plain", "1"]]) expect(columnList(columnSpec(names), "--x").map((r) => r.text)).toEqual(names);
    expect(() => columnList('"a,b', "--x")).toThrow(/--x "\\"a,b": a quote is never closed/);
    expect(() => columnList("a,,b", "--x")).toThrow(/an empty column name/);
    const t = await Table.open(file('"a,b",c,"1"\n1,2,3\n'));
    expect(columnsOf(t, '"a,b",c', "--x")).toEqual([0, 1]);
    // Unquoted, "a" and "b" are two names; quoted, "1" is a name, never an index.
    expect(() => columnsOf(t, "a,b", "--x")).toThrow(/no column "a"/);
    expect(columnsOf(t, '"1"', "--x")).toEqual([2]);
    const twice = await Table.open(file("x,y,x\n1,2,3\n"));
    expect(() => columnsOf(twice, "x", "--x")).toThrow(/--x: column name "x" is ambiguous: .* has it at indices 0 and 2/);
    expect(columnsOf(twice, "2", "--x")).toEqual([2]);
  });
});

describe("writeCsv", () => {
  it("round-trips text and float32 values through parseCsv", () => {
    const values = [0.1, -1 / 3, 1e-30, 3.4e38, 123456789, 0];
    const text = writeCsv(['a"b', "c,d"], [["x\ny", 1], ...values.map((v) => ["v", v])]);
    const { records } = parseCsv(text, "f");
    expect(records[0]).toEqual(['a"b', "c,d"]);
    expect(records[1]).toEqual(["x\ny", "1"]);
    expect(records.slice(2).map((r) => Math.fround(Number(r[1])))).toEqual(values.map((v) => Math.fround(v)));
    expect(formatF32(0.1)).toBe("0.1");
  });
});
