// The CLI's failures and their exit codes: 1 for bad input (a file, a cell, a model that does not
// fit the data), 2 for bad usage (an unknown command or option, a missing or malformed argument).
// Messages are written for the person at the terminal, without a stack trace.

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
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
