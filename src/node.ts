// mdn-wasm/node: the library plus file conveniences for Node. Kept out of the default entry so that
// browser bundles never see `node:` imports.
//
//   import { MDN, saveFile, loadFile } from "mdn-wasm/node";
//   await saveFile(model, "model.mdn");
//   const again = await loadFile("model.mdn");
//   const module = await loadModule("node_modules/mdn-wasm/dist/mdn.wasm"); // paths and file: URLs too

import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, MdnError, ModelFormatError } from "./core/errors.js";
import { type CreateOptions, MDN } from "./model/mdn.js";
import { loadModule as loadModuleAnywhere, type WasmSource } from "./engine/wasm.js";

// This entry's loadModule (below) replaces the default entry's.
export * from "./index.js";

/** Files past this size are refused before they are read (a model's state must fit wasm memory). */
const MAX_FILE_BYTES = 1 << 30;

/**
 * Write bytes next to `path`, then rename over it: a crash leaves the old file or the new, never
 * half, and a failed write or rename (a folder at `path`, a full disk) leaves no temporary file.
 */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Read a file, refusing ones too large to be a model before reading them. */
async function readBounded(path: string): Promise<Uint8Array> {
  const f = await open(path, "r");
  try {
    const { size } = await f.stat();
    if (size > MAX_FILE_BYTES) throw new ModelFormatError("TOO_LARGE", `${size} bytes is over the ${MAX_FILE_BYTES}-byte limit for model files`);
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await f.read(bytes, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === size ? bytes : bytes.subarray(0, at);
  } finally {
    await f.close();
  }
}

/** model.save() to a file. */
export async function saveFile(model: MDN, path: string): Promise<void> {
  await writeAtomically(path, model.save());
}

/** model.saveCheckpoint() to a file. */
export async function saveCheckpointFile(model: MDN, path: string): Promise<void> {
  await writeAtomically(path, model.saveCheckpoint());
}

/** MDN.load from a file. */
export async function loadFile(path: string, options?: CreateOptions): Promise<MDN> {
  return MDN.load(await readBounded(path), options);
}

/** MDN.loadCheckpoint from a file. */
export async function loadCheckpointFile(path: string, options?: CreateOptions): Promise<MDN> {
  return MDN.loadCheckpoint(await readBounded(path), options);
}

/**
 * loadModule, plus what only Node can read: a file path (absolute, or relative to the working
 * directory) or a file: URL (string or URL). Everything else goes to the default entry's loadModule.
 */
export async function loadModule(source?: WasmSource, argument = "source"): Promise<WebAssembly.Module> {
  const path = filePath(source, argument);
  if (path === null) return loadModuleAnywhere(source, argument);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const error = new MdnError("INVALID_ARGUMENT", argument, "a readable .wasm file", `${JSON.stringify(path)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    error.cause = e;
    throw error;
  }
  return loadModuleAnywhere(bytes, argument);
}

/** The file a source names, or null when it is not a file (bytes, a Module, an http: URL...). */
function filePath(source: unknown, argument: string): string | null {
  const fileUrl = source instanceof URL ? source.protocol === "file:" && source : typeof source === "string" && /^file:/i.test(source) && source;
  if (fileUrl) {
    try {
      return fileURLToPath(fileUrl);
    } catch (e) {
      const error = new MdnError("INVALID_ARGUMENT", argument, "a file: URL of this machine (file:///path)", `${describe(String(fileUrl))} (${(e as Error).message})`);
      error.cause = e;
      throw error;
    }
  }
  // A scheme of two or more letters makes a URL to fetch (http:, data:, blob:); "C:\x" is a path.
  if (typeof source !== "string" || /^[a-z][a-z0-9+.-]+:/i.test(source)) return null;
  return resolve(source);
}
