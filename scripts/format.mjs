// The formatter: TypeScript's own (the language service's formatting, as editors apply it), over
// every .ts, .mts and .mjs file of the project, AssemblyScript included. README "Layout" says why
// this one. It re-indents and re-spaces; it never joins or wraps lines.
//   node scripts/format.mjs          rewrite the files in place
//   node scripts/format.mjs --check  list the files that differ, exit 1 if any
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../", import.meta.url));
const DIRS = ["assembly", "src", "test", "bench", "demo", "scripts", "dev"];
const SKIP = new Set(["node_modules", "fixtures", "dist", "build"]);

/** Settings: 2 spaces, semicolons kept as written, the spacing the code already uses. */
const SETTINGS = {
  ...ts.getDefaultFormatCodeSettings("\n"),
  indentSize: 2,
  tabSize: 2,
  convertTabsToSpaces: true,
  insertSpaceAfterOpeningAndBeforeClosingNonemptyBraces: true,
  insertSpaceAfterFunctionKeywordForAnonymousFunctions: true,
  insertSpaceAfterOpeningAndBeforeClosingNonemptyBrackets: false,
  placeOpenBraceOnNewLineForFunctions: false,
  placeOpenBraceOnNewLineForControlBlocks: false,
  semicolons: ts.SemicolonPreference.Ignore,
  trimTrailingWhitespace: true,
};

function files(dir) {
  const out = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|mjs)$/.test(e.name) && !p.endsWith("wasm-inline.ts")) out.push(p);
  }
  return out;
}

/** `text` as the formatter leaves it (fileName picks the language: .mjs as JavaScript). */
export function format(fileName, text) {
  const host = {
    getScriptFileNames: () => [fileName],
    getScriptVersion: () => "1",
    getScriptSnapshot: (f) => (f === fileName ? ts.ScriptSnapshot.fromString(text) : undefined),
    getCurrentDirectory: () => root,
    getCompilationSettings: () => ({ allowJs: true, noResolve: true, noLib: true }),
    getDefaultLibFileName: () => "lib.d.ts",
    fileExists: (f) => f === fileName,
    readFile: (f) => (f === fileName ? text : undefined),
  };
  const service = ts.createLanguageService(host);
  const edits = service.getFormattingEditsForDocument(fileName, SETTINGS);
  let out = text;
  for (const e of [...edits].sort((a, b) => b.span.start - a.span.start)) {
    out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.start + e.span.length);
  }
  // One newline at the end, as editors leave it.
  return out.replace(/\s*$/, "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes("--check");
  let bad = 0;
  for (const f of DIRS.flatMap(files)) {
    const text = readFileSync(join(root, f), "utf8");
    const out = format(f, text);
    if (out !== text) {
      bad++;
      if (check) console.log(`${f}: not formatted (npm run format)`);
      else writeFileSync(join(root, f), out);
    }
  }
  if (check && bad) process.exit(1);
}
