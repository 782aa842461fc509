// The README's code blocks come from the runnable programs in examples/, so that they cannot drift:
// a region in an example,
//
//   // #region use            (# #region use in shell scripts, <!-- #region use --> in HTML)
//   ...code...
//   // #endregion
//
// is copied into the README between
//
//   <!-- example: examples/quick-start.mjs#use -->
//   ```js
//   ...
//   ```
//   <!-- /example -->
//
//   node scripts/readme-examples.mjs            rewrite those blocks in README.md
//   node scripts/readme-examples.mjs --check    exit 1 if any block differs (test/examples.test.ts)
//   --readme FILE                               another README (for the test of the check itself)

import { readFileSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const LANGUAGE = { ".mjs": "js", ".js": "js", ".sh": "sh", ".html": "html" };
const BLOCK = /<!-- example: (\S+?)#(\S+) -->\n([\s\S]*?)<!-- \/example -->/g;

/** The named regions of one example file. */
function regions(file) {
  const found = new Map();
  let name = null;
  let lines = [];
  readFileSync(join(ROOT, file), "utf8").split("\n").forEach((line, i) => {
    const start = /^\s*(?:\/\/|#|<!--)\s*#region\s+(\S+)/.exec(line);
    if (start) {
      if (name !== null) throw new Error(`${file}:${i + 1}: #region ${start[1]} inside #region ${name}`);
      name = start[1];
      lines = [];
    } else if (/^\s*(?:\/\/|#|<!--)\s*#endregion/.test(line)) {
      if (name === null) throw new Error(`${file}:${i + 1}: #endregion without #region`);
      if (found.has(name)) throw new Error(`${file}: two regions named ${name}`);
      found.set(name, lines.join("\n").replace(/\s+$/, "") + "\n");
      name = null;
    } else if (name !== null) {
      lines.push(line);
    }
  });
  if (name !== null) throw new Error(`${file}: #region ${name} has no #endregion`);
  return found;
}

/** The README with every example block replaced by its region, and the blocks that changed. */
export function render(readme) {
  const changed = [];
  const cache = new Map();
  const text = readme.replace(BLOCK, (whole, file, name, body) => {
    if (!cache.has(file)) cache.set(file, regions(file));
    const code = cache.get(file).get(name);
    if (code === undefined) throw new Error(`README names ${file}#${name}, which has no such region`);
    const fresh = "```" + (LANGUAGE[extname(file)] ?? "") + "\n" + code + "```\n";
    if (fresh !== body) changed.push(`${file}#${name}`);
    return `<!-- example: ${file}#${name} -->\n${fresh}<!-- /example -->`;
  });
  return { text, changed, blocks: [...readme.matchAll(BLOCK)].length };
}

const { values } = parseArgs({ options: { check: { type: "boolean", default: false }, readme: { type: "string", default: join(ROOT, "README.md") } } });
const { text, changed, blocks } = render(readFileSync(values.readme, "utf8"));
if (values.check) {
  if (changed.length) {
    console.error(`README.md differs from the examples in ${changed.join(", ")}: run node scripts/readme-examples.mjs`);
    process.exitCode = 1;
  } else {
    console.log(`README.md: ${blocks} code blocks match the examples`);
  }
} else {
  writeFileSync(values.readme, text);
  console.log(`README.md: ${blocks} code blocks from the examples, ${changed.length} rewritten`);
}
