// The CLI's CSV reader and writer, in process: RFC 4180 quoting, line ends, BOM, header detection,
// and errors that name the line and column.
import { describe, expect, it } from "vitest";
import { formatF32, numericColumns, parseCsv, resolveColumns, toTable, writeCsv } from "../src/cli/csv.js";

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
};

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
  });

  it("rejects an unclosed quote and stray quotes, naming line and field", () => {
    expect(errorOf(() => parseCsv('a,b\n1,"2\n3,4\n', "f.csv"))).toBe("f.csv, line 2, field 2: a quoted field is never closed");
    expect(errorOf(() => parseCsv('a,b\n1,"2"x\n', "f.csv"))).toMatch(/^f\.csv, line 2, field 2: text after a closing quote/);
    expect(errorOf(() => parseCsv('a,b\n1,2"\n', "f.csv"))).toMatch(/^f\.csv, line 2, field 2: a quote inside an unquoted field/);
  });
});

describe("toTable and numericColumns", () => {
  it("detects a header only when the first line has a non-number", () => {
    expect(toTable("x,y\n1,2\n", "f").names).toEqual(["x", "y"]);
    expect(toTable("1,2\n3,4\n", "f").names).toBeNull();
    expect(toTable("1,2\n3,4\n", "f", "yes").names).toEqual(["1", "2"]);
    expect(toTable("a,b\n3,4\n", "f", "no").rows).toEqual([["a", "b"], ["3", "4"]]);
  });

  it("names the line and the missing column of a short row, and the extra column of a long one", () => {
    expect(errorOf(() => toTable("x,y,z\n1,2,3\n4,5\n", "d.csv"))).toBe('d.csv, line 3: 2 fields where line 1 has 3; column 3 ("z") is missing');
    expect(errorOf(() => toTable("1,2\n4,5,6\n", "d.csv"))).toBe("d.csv, line 2: 3 fields where line 1 has 2; column 3 is extra");
  });

  it("rejects an empty file and a header without rows", () => {
    expect(errorOf(() => toTable("", "e.csv"))).toBe("e.csv: the file is empty (no rows)");
    expect(errorOf(() => toTable("\uFEFF\r\n\n", "e.csv"))).toBe("e.csv: the file is empty (no rows)");
    expect(errorOf(() => toTable("a,b\n", "e.csv"))).toBe("e.csv: a header line and no data rows");
  });

  it("parses numbers and names the line and column of text, a missing cell or an overflow", () => {
    const t = toTable('x,y\n1.5, -2e-3\n"3",.25\n', "d.csv");
    expect(Array.from(numericColumns(t, [1, 0]).data)).toEqual([-2e-3, 1.5, 0.25, 3]);
    const bad = toTable("x,y\n1,2\n3,abc\n,4\n5,1e99\n", "d.csv");
    expect(errorOf(() => numericColumns(bad, [1]))).toBe('d.csv, line 3, column "y" (index 1): expected a number, got "abc"');
    expect(errorOf(() => numericColumns(bad, [0]))).toBe('d.csv, line 4, column "x" (index 0): missing value');
    expect(errorOf(() => numericColumns(toTable("1,2\n5,1e99\n", "n.csv"), [1]))).toBe("n.csv, line 2, column 1: 1e99 is beyond float32 range");
    expect(errorOf(() => numericColumns(toTable("1,0x10\n", "n.csv", "no"), [1]))).toMatch(/line 1, column 1: expected a number, got "0x10"/);
  });

  it("resolves columns by name first, then by 0-based index", () => {
    const t = toTable("a,b,2\n1,2,3\n", "f.csv");
    expect(resolveColumns(t, "b, a", "--x")).toEqual([1, 0]);
    expect(resolveColumns(t, "2,1", "--x")).toEqual([2, 1]);
    expect(errorOf(() => resolveColumns(t, "c", "--y"))).toBe('--y: no column "c" in f.csv, which has columns "a", "b", "2"');
    expect(errorOf(() => resolveColumns(toTable("1,2\n", "g.csv"), "5", "--y"))).toBe('--y: no column "5" in g.csv, which has 2 columns (indices 0-1) and no header');
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
