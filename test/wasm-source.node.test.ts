// loadModule from the Node entry also reads files: absolute and relative paths, file: URLs as
// strings and as URL objects. The default entry refuses them with a message that names this one.
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadModule, MDN, MdnError } from "../src/node.js";
import { hashWeights } from "./util.js";

const WASM = fileURLToPath(new URL("../build/mdn.wasm", import.meta.url));
const CONFIG = { inputDim: 2, outputDim: 1, components: 2, hidden: [8], seed: 3 };

async function trainedHash(module?: WebAssembly.Module): Promise<string> {
  const m = await MDN.create(CONFIG, module === undefined ? {} : { module });
  await m.fit([[0, 1], [1, 0], [0.5, 0.5], [-1, 2]], [1, -1, 0, 2], { epochs: 3, batchSize: 2 });
  return hashWeights(m.getWeights());
}

describe("loadModule (mdn-wasm/node)", () => {
  it("reads an absolute path, a relative path, a file: URL string and a file: URL; each trains as the embedded kernels do", async () => {
    // Before: "Failed to parse URL" for a relative path, "fetch failed" for a file: URL.
    const want = await trainedHash();
    const sources: Array<string | URL> = [WASM, relative(process.cwd(), WASM), `./${relative(process.cwd(), WASM)}`, pathToFileURL(WASM).href, pathToFileURL(WASM)];
    for (const source of sources) {
      const module = await loadModule(source);
      expect(module, String(source)).toBeInstanceOf(WebAssembly.Module);
      expect(await trainedHash(module), String(source)).toBe(want);
    }
  });

  it("a missing file or a file: URL of another host rejects with INVALID_ARGUMENT naming the argument", async () => {
    const cases: Array<[string, string]> = [
      ["no/such/mdn.wasm", "ENOENT"],
      ["file://elsewhere/mdn.wasm", "file: URL of this machine"],
      [fileURLToPath(new URL("../build/", import.meta.url)), "EISDIR"],
    ];
    for (const [source, says] of cases) {
      const err = await loadModule(source, "module").catch((e: unknown) => e);
      expect(err, source).toBeInstanceOf(MdnError);
      expect(err, source).toMatchObject({ code: "INVALID_ARGUMENT", argument: "module" });
      expect((err as MdnError).message, source).toContain(says);
    }
  });

  it("a file that is not mdn-wasm's kernels rejects as the default entry does", async () => {
    const err = await loadModule(fileURLToPath(new URL("../package.json", import.meta.url))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MdnError);
    expect((err as MdnError).message).toContain("do not compile");
  });

  it("http:, data: and every non-file source still go to the default entry's loader", async () => {
    const bytes = new Uint8Array(await (await import("node:fs/promises")).readFile(WASM));
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    const dataUrl = `data:application/wasm;base64,${btoa(bin)}`;
    for (const source of [dataUrl, new URL(dataUrl), bytes]) expect(await loadModule(source)).toBeInstanceOf(WebAssembly.Module);
  });
});
