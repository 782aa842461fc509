// mdn-wasm/node: the library plus file conveniences for Node. Kept out of the default entry so that
// browser bundles never see `node:` imports.
//
//   import { MDN, saveFile, loadFile } from "mdn-wasm/node";
//   await saveFile(model, "model.mdn");
//   const again = await loadFile("model.mdn");

import { open, rename, writeFile } from "node:fs/promises";
import { ModelFormatError } from "./errors.js";
import { type CreateOptions, MDN } from "./model.js";

export * from "./index.js";

/** Files past this size are refused before they are read (a model's state must fit wasm memory). */
const MAX_FILE_BYTES = 1 << 30;

/** Write bytes next to `path`, then rename over it: a crash leaves the old file or the new, never half. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
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
