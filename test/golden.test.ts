// The bits of every fit and inference path in test/golden.ts, against test/fixtures/golden.json,
// in Node and in Chromium. A change here is a behaviour change: say why in the commit and
// regenerate the fixture with `MDN_GOLDEN_UPDATE=1 npx vitest run test/golden.test.ts --project node`.
import { describe, expect, it } from "vitest";
import golden from "./fixtures/golden.json" with { type: "json" };
import { CASES, goldenRun } from "./golden.js";
import { IN_NODE } from "./util.js";

const update = IN_NODE && process.env.MDN_GOLDEN_UPDATE === "1";
const fresh: Record<string, Record<string, string>> = {};

describe("golden bits", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const got = await goldenRun(c);
      if (update) {
        fresh[c.name] = got;
        return;
      }
      const want = (golden as Record<string, Record<string, string>>)[c.name];
      expect(want, `no fixture for "${c.name}"`).toBeDefined();
      expect(got).toEqual(want);
    });
  }
  if (update) {
    it("writes the fixture", async () => {
      const fsModule = "node:fs";
      const { writeFileSync } = (await import(/* @vite-ignore */ fsModule)) as typeof import("node:fs");
      writeFileSync(new URL("./fixtures/golden.json", import.meta.url), JSON.stringify(fresh, null, 2) + "\n");
    });
  }
});
