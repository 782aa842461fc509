// The web demo: the seed notebook as `npm run demo` runs it (demo/notebook.ts), trained in a worker,
// with the Node demo's own Vega-Lite figures (demo/plots.ts, drawn by demo/render.ts) redrawn after
// every epoch, the test-set ARI and NMI of argmax(pi) shown live, and the notebook's early stopping.
// At the end the trained model comes back to the page, which scores it on the test rows.
// ?seed=N&epochs=M in the URL fill the form.
import { adjustedRandScore, normalizedMutualInfoScore, type Prediction, seedClusters } from "mdn-wasm";
import { trainInWorker } from "mdn-wasm/worker";
import { lossSpec, type Point, type Spec, testDataSpec, trainingDataSpec } from "../plots.js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

const ROWS = 1024;
const TRAIN = 512;
const TEST = ROWS - TRAIN;
const K = 4;
const D = 2;
const MIN_DELTA = 0.1;
const PATIENCE = 32;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const seedInput = $<HTMLInputElement>("seed");
const epochsInput = $<HTMLInputElement>("epochs");
const status = $("status");
const worker = new Worker(new URL("./train.worker.ts", import.meta.url), { type: "module" });
let controller: AbortController | null = null;

const query = new URLSearchParams(location.search);
for (const [input, key] of [[seedInput, "seed"], [epochsInput, "epochs"]] as const) {
  const v = query.get(key);
  if (v !== null && /^\d+$/.test(v)) input.value = v;
}

/**
 * A figure drawn from a demo/plots.ts spec, live: compiled and parsed once, then each new spec's
 * inline data replace the view's datasets (scales, axes and legends follow), so an epoch costs a
 * dataflow update, not a compile. Specs that arrive while one is drawn replace each other.
 */
class LiveFigure {
  private view: View | null = null;
  private names: string[] = [];
  private next: Spec | null = null;
  private drawing: Promise<void> | null = null;
  constructor(private readonly element: HTMLElement) { }

  draw(spec: Spec): Promise<void> {
    this.next = spec;
    this.drawing ??= (async () => {
      while (this.next) {
        const spec = this.next;
        this.next = null;
        await this.render(spec);
      }
      this.drawing = null;
    })();
    return this.drawing;
  }

  private async render(spec: Spec): Promise<void> {
    const values = inlineData(spec);
    if (!this.view) {
      const vg = compile(spec as unknown as TopLevelSpec).spec;
      // vega-lite keeps each inline values array as it is: that is how its dataset is found.
      this.names = values.map((v) => vg.data!.find((d) => "values" in d && d.values === v)!.name);
      this.view = new View(parse(vg), { renderer: "svg", container: this.element, hover: true });
    } else {
      values.forEach((v, i) => this.view!.data(this.names[i]!, v));
    }
    await this.view.runAsync();
  }

  clear(): void {
    this.view?.finalize();
    this.view = null;
    this.next = null;
    this.element.replaceChildren();
  }
}

/** The inline datasets of a Vega-Lite spec: the top level's, then each layer's, in order. */
function inlineData(spec: Spec): object[][] {
  const out: object[][] = [];
  const walk = (s: Record<string, unknown>) => {
    const data = s.data as { values?: unknown } | undefined;
    if (Array.isArray(data?.values)) out.push(data.values);
    for (const layer of (s.layer as Array<Record<string, unknown>> | undefined) ?? []) walk(layer);
  };
  walk(spec);
  return out;
}

const figures = { loss: new LiveFigure($("loss")), test: new LiveFigure($("test")), train: new LiveFigure($("train")) };

function argmax(pi: Float32Array): number[] {
  return Array.from({ length: pi.length / K }, (_, r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (pi[r * K + k]! > pi[r * K + best]!) best = k;
    return best;
  });
}

/** The notebook's crosses: for each predicted label, its predicted mean averaged over the rows it labels. */
function labelMeans(mu: Float32Array, zPred: number[]): Array<{ x: number; y: number; label: number }> {
  const out = [];
  for (let label = 0; label < K; label++) {
    let n = 0, x = 0, y = 0;
    zPred.forEach((z, r) => {
      if (z !== label) return;
      n++;
      x += mu[(r * K + label) * D]!;
      y += mu[(r * K + label) * D + 1]!;
    });
    if (n) out.push({ x: x / n, y: y / n, label });
  }
  return out;
}

function setState(state: string, text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}

async function train(): Promise<void> {
  controller?.abort(new Error("restarted"));
  const run = new AbortController();
  controller = run;
  const seed = Math.max(0, Math.floor(Number(seedInput.value) || 0));
  const epochs = Math.min(5000, Math.max(1, Math.floor(Number(epochsInput.value) || 128)));
  const data = seedClusters(ROWS, seed);
  const x = data.x.slice(0, 2 * TRAIN);
  const testX = data.x.slice(2 * TRAIN);
  const zTest = Array.from(data.z.subarray(TRAIN));
  const testPoints = (zPred: number[]): Point[] => zPred.map((label, i) => ({ x: testX[2 * i]!, y: testX[2 * i + 1]!, label }));
  const loss: number[] = [];
  const valLoss: number[] = [];
  const scores = (p: Prediction) => {
    const zPred = argmax(p.pi);
    const ari = adjustedRandScore(zTest, zPred);
    const nmi = normalizedMutualInfoScore(zTest, zPred);
    $("ari").textContent = ari.toFixed(3);
    $("nmi").textContent = nmi.toFixed(3);
    Object.assign(document.body.dataset, { ari: String(ari), nmi: String(nmi) });
    return { zPred, ari, nmi };
  };
  const drawEpoch = (p: Prediction, zPred: number[]) =>
    Promise.all([figures.loss.draw(lossSpec(loss, valLoss)), figures.test.draw(testDataSpec(testPoints(zPred), labelMeans(p.mu, zPred)))]);

  delete document.body.dataset.epoch;
  setState("training", `seed ${seed}: starting...`);
  for (const f of Object.values(figures)) f.clear();
  void figures.train.draw(trainingDataSpec(Array.from({ length: TRAIN }, (_, i) => ({ x: x[2 * i]!, y: x[2 * i + 1]!, label: data.z[i]! }))));
  try {
    const { model, history } = await trainInWorker(
      worker,
      {
        config: {
          inputDim: D, outputDim: D, components: K, seed,
          hidden: [
            { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
            { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
          ],
          sigma: { activation: "exp" },
        },
        x: { data: x, shape: [TRAIN, D] },
        y: { data: data.y.slice(0, 2 * TRAIN), shape: [TRAIN, D] },
        fit: {
          epochs, batchSize: 128, shuffle: true, validationSplit: 0.2,
          optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
          // Keras 2's EarlyStopping, as in the notebook: no restore_best_weights, the last epoch is kept.
          earlyStopping: { monitor: "val_loss", minDelta: MIN_DELTA, patience: PATIENCE, restoreBestWeights: false },
        },
        watch: { data: testX, shape: [TEST, D] },
        minEpochMs: 40,
      },
      {
        signal: run.signal,
        onEpochEnd: ({ epoch, logs, watch }) => {
          if (controller !== run) return;
          loss.push(logs.loss);
          valLoss.push(logs.val_loss!);
          const { zPred } = scores(watch!);
          void drawEpoch(watch!, zPred);
          document.body.dataset.epoch = String(epoch + 1);
          status.textContent = `seed ${seed}, epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(3)}, val_loss ${logs.val_loss!.toFixed(3)}`;
        },
      },
    );
    // The whole model is on the page now (weights, statistics, training state): score it here.
    const p = model.predict({ data: testX, shape: [TEST, D] });
    const nll = model.evaluate({ data: testX, shape: [TEST, D] }, { data: data.y.slice(2 * TRAIN), shape: [TEST, D] });
    model.dispose();
    const { zPred } = scores(p);
    await drawEpoch(p, zPred);
    const ran = history.epoch.length;
    const end = history.stoppedEpoch === undefined
      ? `done: ${ran} epochs`
      : `early stopping at epoch ${ran}: val_loss did not improve by more than ${MIN_DELTA} for ${PATIENCE} epochs${history.bestEpoch === undefined ? "" : ` (best epoch ${history.bestEpoch + 1})`}`;
    if (controller === run) setState(history.stoppedEpoch === undefined ? "done" : "stopped-early", `seed ${seed}, ${end}; last val_loss ${valLoss.at(-1)!.toFixed(3)}, test NLL ${nll.toFixed(3)}`);
  } catch (error) {
    if (controller !== run) return;
    setState(run.signal.aborted ? "stopped" : "error", run.signal.aborted ? `seed ${seed}: stopped after ${loss.length} epochs` : String(error));
  }
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  void train();
});
$("stop").addEventListener("click", () => controller?.abort(new Error("stopped")));
void train();
