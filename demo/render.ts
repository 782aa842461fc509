// Vega-Lite spec -> SVG string, headless: vega-lite compiles to a Vega spec and a Vega View with
// the "none" renderer draws it to SVG markup without a DOM or a canvas.

import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Spec } from "./plots.js";

export async function renderSvg(spec: Spec): Promise<string> {
  const vgSpec = compile(spec as unknown as TopLevelSpec).spec;
  const view = new View(parse(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
