// Model files across engines: a file saved in Node (by test/global-setup.ts, this run) loads here
// (Node or Chromium) with the same predictions, and the same model saved here has the same bytes,
// so a file saved in the browser loads in Node as well.
import { describe, expect, inject, it } from "vitest";
import { modelFileCase, predictionHash } from "./seed-model.js";
import { IN_NODE } from "./util.js";

describe(`model files across engines (${IN_NODE ? "node" : "chromium"} vs node)`, () => {
  const want = inject("nodeModelFile");

  it("a file saved in Node loads here with bit-identical predictions", async () => {
    expect(await predictionHash(Uint8Array.from(want.bytes))).toBe(want.loadedHash);
  });

  it("the same model saved here is byte-identical to Node's file", async () => {
    const here = await modelFileCase();
    expect(Array.from(here.bytes)).toEqual(want.bytes);
    expect(here.loadedHash).toBe(want.loadedHash);
  });
});
