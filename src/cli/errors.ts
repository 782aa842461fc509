// The CLI's failures and their exit codes: 1 for bad input (a file, a cell, a model that does not
// fit the data or memory, an output place that cannot be written), 2 for bad usage (an unknown
// command or option, a missing or malformed argument), 70 for an internal error (a bug: the one
// line asks for a report). Messages are one line written for the person at the terminal, without
// a stack trace.

import { MdnError, ModelFormatError } from "../node.js";

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
/** sysexits.h EX_SOFTWARE: the CLI or the library failed in a way it does not expect. */
export const EXIT_INTERNAL = 70;
/** Training stopped by Ctrl-C; the best model so far was still written (shell convention 128 + 2). */
export const EXIT_INTERRUPTED = 130;

/** Bad input: exit code 1. */
export class CliError extends Error {
  readonly exitCode: number = EXIT_INPUT;
}

/** Bad usage: exit code 2; the message is followed by a pointer to --help. */
export class UsageError extends CliError {
  override readonly exitCode = EXIT_USAGE;
}

const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, " ").trim();

/** A library error in CLI words: the flag that sets the argument at fault, when there is one. */
function libraryMessage(e: MdnError, flags: Record<string, string>): string {
  const prefix = Object.keys(flags)
    .filter((k) => e.argument === k || e.argument.startsWith(k + ".") || e.argument.startsWith(k + "["))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? e.message : `${flags[prefix]}: expected ${e.expected}, got ${e.received}`;
}

/** Out of wasm or JS memory: what a too-large model or file shows as. */
export function isOutOfMemory(e: unknown): e is RangeError {
  return e instanceof RangeError && /memory|allocation|out of bounds|Invalid (typed )?array length|Invalid string length|Array buffer/i.test(e.message);
}

/**
 * Any failure as one line on stderr and its exit code. Set MDN_DEBUG=1 to see the stack of an
 * internal error.
 */
export function report(e: unknown, command: { name: string; flags?: Record<string, string> } | undefined): number {
  const say = (text: string) => process.stderr.write(`mdn-wasm: ${oneLine(text)}\n`);
  if (e instanceof CliError) {
    say(e.message);
    if (e.exitCode === EXIT_USAGE) process.stderr.write(`Try: mdn-wasm ${command ? command.name + " " : ""}--help\n`);
    return e.exitCode;
  }
  // The library's typed errors are bad input too (e.g. a model whose input width differs).
  if (e instanceof MdnError && e.code === "TOO_LARGE") {
    say(`the model does not fit in memory: expected ${e.expected}, got ${e.received}; use fewer or smaller --hidden layers, fewer --components or a smaller --batch-size`);
    return EXIT_INPUT;
  }
  if (e instanceof MdnError) {
    say(libraryMessage(e, command?.flags ?? {}));
    return EXIT_INPUT;
  }
  if (e instanceof ModelFormatError) {
    say(e.message);
    return EXIT_INPUT;
  }
  if (isOutOfMemory(e)) {
    say(`out of memory: ${e.message}`);
    return EXIT_INPUT;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  say(`internal error: ${err.name}: ${err.message} (a bug; please report it with the command line${process.env.MDN_DEBUG ? "" : "; MDN_DEBUG=1 shows where it happened"})`);
  if (process.env.MDN_DEBUG) process.stderr.write(`${err.stack}\n`);
  return EXIT_INTERNAL;
}
