// Vega-Lite specs for the seed notebook's three figures. Plain JSON-able objects and nothing from
// node:, so a browser page can hand the same specs to vega-embed; demo/render.ts turns them into
// SVG headless in Node.

/** A Vega-Lite spec: kept as plain data (see vega-lite's TopLevelSpec for the full type). */
export type Spec = Record<string, unknown>;

export interface Point {
  x: number;
  y: number;
  label: number;
}

const WIDTH = 420;
const HEIGHT = 360;

/** Shared look: white background (PNG viewers), no chart border, readable fonts. */
const CONFIG = {
  background: "white",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 15, anchor: "middle" },
};

/** Categorical colours for cluster labels (Tableau 10); the notebook's `bwr` colormap makes clusters 1 and 2 pale. */
const CLUSTER_COLORS = { scheme: "tableau10" };

/** matplotlib's marker='x' (a diagonal cross), as a Vega symbol path in the unit square. */
const X_SHAPE = "M-0.5,-0.5L0.5,0.5M-0.5,0.5L0.5,-0.5";

function scatterLayer(points: Point[], legendTitle: string): Spec {
  return {
    name: "points",
    data: { values: points },
    mark: { type: "point", filled: true, size: 22, opacity: 0.8 },
    encoding: {
      x: { field: "x", type: "quantitative", title: "x₁", scale: { zero: false } },
      y: { field: "y", type: "quantitative", title: "x₂", scale: { zero: false } },
      color: { field: "label", type: "nominal", title: legendTitle, scale: CLUSTER_COLORS },
    },
  };
}

/** Figure 1: the training inputs coloured by their true cluster. */
export function trainingDataSpec(points: Point[]): Spec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "training data",
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    ...scatterLayer(points, "true cluster"),
  };
}

/** Figure 2: the test inputs coloured by argmax(pi), with the predicted means as black crosses. */
export function testDataSpec(points: Point[], means: Array<{ x: number; y: number; label: number }>): Spec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "test data",
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    layer: [
      scatterLayer(points, "argmax π"),
      {
        name: "means",
        data: { values: means },
        mark: { type: "point", shape: X_SHAPE, size: 400, strokeWidth: 4, color: "black", filled: false, opacity: 1 },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          tooltip: [{ field: "label", title: "component" }, { field: "x" }, { field: "y" }],
        },
      },
    ],
  };
}

/** Figure 3: training and validation loss per epoch (train blue, val red, as the notebook). */
export function lossSpec(loss: number[], valLoss: number[]): Spec {
  const values = [
    ...loss.map((v, i) => ({ epoch: i + 1, loss: v, set: "train" })),
    ...valLoss.map((v, i) => ({ epoch: i + 1, loss: v, set: "val" })),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Mixture Density Network",
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    name: "loss",
    data: { values },
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "Epochs", scale: { domainMin: 1 } },
      y: { field: "loss", type: "quantitative", title: "Negative log-likelihood loss", scale: { zero: false } },
      color: {
        field: "set",
        type: "nominal",
        title: null,
        scale: { domain: ["train", "val"], range: ["#1f3fd6", "#d62728"] },
        legend: { orient: "top-left" },
      },
    },
  };
}
