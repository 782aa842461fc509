#!/usr/bin/env node
// mdn-wasm command line (the package's `bin`): train, evaluate, predict, sample and info on CSV
// files, built on the library's public API only. Exit codes: 0 ok, 1 bad input, 2 bad usage,
// 70 internal error, 130 training interrupted by Ctrl-C (the best model so far was written).

import { readFileSync } from "node:fs";
import { type Command, didYouMean, parseCommand } from "./args.js";
import { EXIT_OK, EXIT_USAGE, report, UsageError } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { exportCommand } from "./export.js";
import { info } from "./info.js";
import { predict } from "./predict.js";
import { sample } from "./sample.js";
import { train } from "./train.js";

const COMMANDS: Command[] = [train, evaluate, predict, sample, info, exportCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `Usage: mdn-wasm <command> [options]   (mdn-wasm <command> --help for its options)

Mixture density networks p(y | x) on CSV files.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Example:
  mdn-wasm train data.csv --x x1,x2 --y y1,y2 --components 4 --out model.mdn
  mdn-wasm evaluate model.mdn test.csv --labels cluster
  mdn-wasm sample model.mdn test.csv --n 10 --out samples.csv

Exit codes: 0 ok, 1 bad input (a file, a cell, a model that does not fit the data or memory,
an output place that cannot be written), 2 bad usage (unknown command or option, missing or
malformed argument), 70 internal error (a bug), 130 training stopped by Ctrl-C (the best model
so far was still written). Every error is one line on stderr.`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(version() + "\n");
    return EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) {
      const names = COMMANDS.map((c) => c.name);
      throw new UsageError(`unknown command ${JSON.stringify(name)}${didYouMean(name, names)}; commands: ${names.join(", ")}`);
    }
    const { values, positionals, help } = parseCommand(cmd, rest);
    if (help) {
      process.stdout.write(cmd.help + "\n");
      return EXIT_OK;
    }
    return await cmd.run(values, positionals);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return EXIT_OK;
    return report(e, cmd);
  }
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(EXIT_OK);
  process.exit(report(e, undefined));
});
// Whatever escapes main (an error in a stream callback) is still one line and an exit code.
process.on("uncaughtException", (e) => process.exit(report(e, undefined)));
process.on("unhandledRejection", (e) => process.exit(report(e, undefined)));
process.exitCode = await main(process.argv.slice(2));
