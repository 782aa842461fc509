// Builds the three kernel modules (asconfig.json targets) with asc and fails on any compiler
// warning as on an error: the build stays at zero warnings (README "Layout").
//   release: assembly/index.ts -> build/mdn.wasm (shipped)
//   full, debug: assembly/full.ts -> build/mdn.full.wasm, build/mdn.debug.wasm (tests)
import asc from "assemblyscript/asc";

const TARGETS = [
  ["assembly/index.ts", "release"],
  ["assembly/full.ts", "full"],
  ["assembly/full.ts", "debug"],
];
const only = process.argv[2];

let failed = false;
for (const [entry, target] of TARGETS) {
  if (only && target !== only) continue;
  let text = "";
  const sink = { write: (s) => ((text += String(s)), true) };
  const { error } = await asc.main([entry, "--target", target], { stdout: process.stdout, stderr: sink });
  process.stderr.write(text);
  if (error || /\bWARNING\b/.test(text)) {
    console.error(`asc ${entry} --target ${target}: ${error ? error.message : "warnings (the build allows none)"}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
