// Output for the commands: the place checked before any work, results streamed through a
// temporary file that is renamed into place only when complete (or to stdout), and groups of files
// (a model and its facts) replaced together under a lock.
//
// Temporary files are `.<name>.<pid>.<random>.tmp` beside the target (a rename is atomic only
// within one file system). Each is removed when its write fails, and on process exit: also by
// process.exit (a second Ctrl-C in train) and on SIGINT, SIGTERM and SIGHUP, which end the process
// through process.exit here. Only what cannot be caught (SIGKILL, V8 running out of heap) leaves
// one behind.

import { unlinkSync } from "node:fs";
import { type FileHandle, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CliError, UsageError } from "./errors.js";

/** Our temporary files and locks not yet renamed or removed. */
const ours = new Set<string>();
let watching = false;

/**
 * Remember a file to remove at exit; the first one installs the handlers (so merely importing this
 * module, as tests do, changes nothing). A signal's default action would end the process without
 * "exit" handlers; Ctrl-C is left to a command that listens for it itself (train stops after the
 * current batch).
 */
function track(path: string): void {
  ours.add(path);
  if (watching) return;
  watching = true;
  process.on("exit", () => {
    for (const p of ours) {
      try {
        unlinkSync(p);
      } catch {
        // Already gone.
      }
    }
  });
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) === 1) process.exit(code);
    });
  }
}

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

async function kind(path: string): Promise<"missing" | "dir" | "file" | "other" | { error: string }> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "missing" : { error: code ?? (e as Error).message };
  }
}

/**
 * Check, before any work, that `path` can be written as a file: its folder exists and is a folder,
 * the path is not a folder (nor a device), and a file can be created there. Throws a CliError that
 * names the path and what to do.
 */
export async function checkOutputPlace(path: string, option: string): Promise<void> {
  if (path === "") throw new UsageError(`${option}: expected a file name, got ""`);
  const at = `${option} ${path}`;
  if (/[/\\]$/.test(path)) throw new CliError(`${at}: that names a folder; give a file name, e.g. ${join(path, "model.mdn")}`);
  const dir = dirname(resolve(path));
  // Folders as the user wrote them: relative to here unless the path was absolute.
  const shown = (p: string) => (isAbsolute(path) ? p : relative(process.cwd(), p) || ".");
  const place = await kind(dir);
  if (place !== "dir") {
    // Walk down from the root to the first part of the path that is missing or not a folder.
    const parts: string[] = [];
    for (let p = dir; ; p = dirname(p)) {
      parts.unshift(p);
      if (dirname(p) === p) break;
    }
    for (const p of parts) {
      const k = await kind(p);
      if (k === "missing") throw new CliError(`${at}: the folder ${shown(p)} does not exist; create it first (mkdir -p ${dirname(path)}) or choose another place`);
      if (k === "file" || k === "other") throw new CliError(`${at}: ${shown(p)} is a file, not a folder; choose another place`);
      if (typeof k === "object") throw new CliError(`${at}: cannot reach the folder ${shown(p)} (${k.error}); choose another place`);
    }
  }
  const target = await kind(path);
  if (target === "dir") throw new CliError(`${at}: that is a folder; give a file name inside it, e.g. ${join(path, "model.mdn")}`);
  if (target === "other") throw new CliError(`${at}: not a regular file (a device or pipe); leave out ${option} to write to stdout`);
  const probe = tempName(path);
  try {
    track(probe);
    await (await open(probe, "wx")).close();
    await unlink(probe);
  } catch (e) {
    throw new CliError(`${at}: cannot create files in ${dirname(path)} (${codeOf(e)}); choose another place or change the folder's permissions`);
  } finally {
    ours.delete(probe);
  }
}

/** A write target that becomes visible only when complete (a file) or streams (stdout). */
export interface Output {
  /** Buffered: text reaches the file or stdout in pieces of about a megabyte. */
  write(text: string): Promise<void>;
  /** Flush; for a file, rename it into place. */
  commit(): Promise<void>;
  /** After a failure: for a file, remove the temporary one (the target is untouched). */
  discard(): Promise<void>;
}

const FLUSH_CHARS = 1 << 20;

async function writeAll(fh: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length;) at += (await fh.write(bytes, at)).bytesWritten;
}

function stdoutWrite(text: string): Promise<void> {
  return new Promise((done, fail) => process.stdout.write(text, (e) => (e ? fail(e) : done())));
}

/** Open --out (checked first) or, with no path or "-", stdout. */
async function openOutput(path: string | undefined, option = "--out"): Promise<Output> {
  let pending = "";
  if (path === undefined || path === "-") {
    return {
      async write(text) {
        pending += text;
        if (pending.length < FLUSH_CHARS) return;
        const chunk = pending;
        pending = "";
        await stdoutWrite(chunk);
      },
      async commit() {
        if (pending) await stdoutWrite(pending);
        pending = "";
      },
      async discard() {
        // What was printed stays printed; the exit code says the output is incomplete.
        if (pending) await stdoutWrite(pending).catch(() => { });
      },
    };
  }
  await checkOutputPlace(path, option);
  const tmp = tempName(path);
  track(tmp);
  let fh: FileHandle | null = null;
  try {
    fh = await open(tmp, "wx");
  } catch (e) {
    ours.delete(tmp);
    throw new CliError(`${option} ${path}: cannot create a file in ${dirname(path)} (${codeOf(e)})`);
  }
  const file = fh;
  const fail = (e: unknown) => new CliError(`${option} ${path}: cannot write the file (${codeOf(e)})`);
  return {
    async write(text) {
      pending += text;
      if (pending.length < FLUSH_CHARS) return;
      const chunk = pending;
      pending = "";
      await writeAll(file, chunk).catch((e) => Promise.reject(fail(e)));
    },
    async commit() {
      try {
        await writeAll(file, pending);
        pending = "";
        await file.close();
        await rename(tmp, path);
        ours.delete(tmp);
      } catch (e) {
        throw fail(e);
      }
    },
    async discard() {
      await file.close().catch(() => { });
      await unlink(tmp).catch(() => { });
      ours.delete(tmp);
    },
  };
}

/** Run `body` writing to --out (or stdout): the file is committed when it succeeds, discarded if not. */
export async function writeTo(path: string | undefined, body: (out: Output) => Promise<void>): Promise<void> {
  const out = await openOutput(path);
  try {
    await body(out);
  } catch (e) {
    await out.discard();
    throw e;
  }
  await out.commit();
}

/** How long a writer waits for another one's lock before giving up. */
const LOCK_WAIT_MS = 30_000;

/** Is the process that wrote this lock gone (or the lock empty and old)? */
async function staleLock(lock: string): Promise<boolean> {
  try {
    const text = await readFile(lock, "utf8");
    const pid = Number(text.trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return Date.now() - (await stat(lock)).mtimeMs > 5000;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch {
    return false; // Gone already, or unreadable: try again to take it.
  }
}

/**
 * Run `body` holding `lock`, a file created exclusively (O_EXCL) and holding our pid. Another
 * holder is waited for (its critical section is a few renames); a lock whose process has died
 * is removed.
 */
async function withLock<T>(lock: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (; ;) {
    try {
      track(lock);
      const fh = await open(lock, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      ours.delete(lock);
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (await staleLock(lock)) {
        await unlink(lock).catch(() => { });
        continue;
      }
      if (Date.now() > deadline) throw new CliError(`${lock}: another process has held this lock for ${LOCK_WAIT_MS / 1000} s; if no mdn-wasm is writing there, delete the file`);
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
    }
  }
  try {
    return await body();
  } finally {
    await unlink(lock).catch(() => { });
    ours.delete(lock);
  }
}

/**
 * Replace several files together: each is written to a temporary file first, then all are renamed
 * into place under `<first>.lock`. Two processes writing the same files therefore never leave
 * some from one and some from the other: whoever renames last leaves all of its own.
 */
export async function replaceTogether(files: Array<{ path: string; data: string | Uint8Array }>): Promise<void> {
  const temps: string[] = [];
  try {
    for (const f of files) {
      const tmp = tempName(f.path);
      track(tmp);
      temps.push(tmp);
      const fh = await open(tmp, "wx");
      try {
        await fh.writeFile(f.data);
      } finally {
        await fh.close();
      }
    }
    await withLock(`${files[0]!.path}.lock`, async () => {
      for (let i = 0; i < files.length; i++) await rename(temps[i]!, files[i]!.path);
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${files[0]!.path}: cannot write the file (${codeOf(e)})`);
  } finally {
    for (const t of temps) {
      await unlink(t).catch(() => { });
      ours.delete(t);
    }
  }
}
