// The web demo: trains the seed model in a worker and redraws the loss curve and the test-set
// scatter after every epoch; the trained model then comes back to the page, which scores it on the
// test rows. Plain canvas drawing, no plotting library.
import { type Prediction, seedClusters } from "../../src/index.js";
import { trainInWorker } from "../../src/worker.js";

const N = 1024;
const N_TRAIN = 512;
const K = 4;
const EPOCHS = 128;
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

const data = seedClusters(N, 0);
const xTest = data.x.subarray(2 * N_TRAIN);
const test = { x: { data: xTest, shape: [N - N_TRAIN, 2] as [number, number] }, y: { data: data.y.subarray(2 * N_TRAIN), shape: [N - N_TRAIN, 2] as [number, number] } };
const worker = new Worker(new URL("./train.worker.ts", import.meta.url), { type: "module" });
const status = document.getElementById("status")!;
let controller: AbortController | null = null;

function setState(state: string, text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}

async function train(): Promise<void> {
  controller?.abort(new Error("restarted"));
  const run = new AbortController();
  controller = run;
  const loss: number[] = [];
  const valLoss: number[] = [];
  setState("training", "training...");
  try {
    const { model } = await trainInWorker(
      worker,
      {
        config: {
          inputDim: 2, outputDim: 2, components: K, seed: 0,
          hidden: [
            { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
            { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
          ],
        },
        x: { data: data.x.subarray(0, 2 * N_TRAIN), shape: [N_TRAIN, 2] },
        y: { data: data.y.subarray(0, 2 * N_TRAIN), shape: [N_TRAIN, 2] },
        fit: { epochs: EPOCHS, batchSize: 128, validationSplit: 0.2, optimizer: { learningRate: 1e-3, epsilon: 1e-8 } },
        watch: test.x,
        minEpochMs: 40,
      },
      {
        signal: run.signal,
        onEpochEnd: (report) => {
          loss.push(report.logs.loss);
          valLoss.push(report.logs.val_loss!);
          drawLoss(loss, valLoss);
          drawScatter(report.watch!);
          document.body.dataset.epoch = String(report.epoch + 1);
          setState("training", `epoch ${report.epoch + 1}/${EPOCHS}  loss ${report.logs.loss.toFixed(3)}  val_loss ${report.logs.val_loss!.toFixed(3)}`);
        },
      },
    );
    // The whole model is on the page now (weights, statistics, training state): score it here.
    drawScatter(model.predict(test.x));
    const nll = model.evaluate(test.x, test.y);
    model.dispose();
    setState("done", `done: ${loss.length} epochs, final val_loss ${valLoss.at(-1)!.toFixed(3)}, test NLL ${nll.toFixed(3)}`);
  } catch (error) {
    if (run.signal.aborted) {
      if (controller === run) setState("stopped", `stopped after ${loss.length} epochs`);
    } else {
      setState("error", String(error));
    }
  }
}

/** A plot area inside a canvas with linear scales; returns the context and the two scales. */
function frame(id: string, [x0, x1]: [number, number], [y0, y1]: [number, number]) {
  const canvas = document.getElementById(id) as HTMLCanvasElement;
  const ctx = canvas.getContext("2d")!;
  const pad = { l: 48, r: 16, t: 12, b: 28 };
  const w = canvas.width - pad.l - pad.r;
  const h = canvas.height - pad.t - pad.b;
  const sx = (v: number) => pad.l + ((v - x0) / (x1 - x0)) * w;
  const sy = (v: number) => pad.t + h - ((v - y0) / (y1 - y0)) * h;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#999";
  ctx.strokeRect(pad.l, pad.t, w, h);
  ctx.fillStyle = "#555";
  ctx.font = "11px system-ui";
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4;
    const yv = y0 + ((y1 - y0) * i) / 4;
    ctx.fillText(Number(xv.toPrecision(3)).toString(), sx(xv) - 8, pad.t + h + 16);
    ctx.fillText(Number(yv.toPrecision(3)).toString(), 4, sy(yv) + 4);
  }
  return { ctx, sx, sy };
}

function drawLoss(loss: number[], valLoss: number[]): void {
  const all = [...loss, ...valLoss];
  const { ctx, sx, sy } = frame("loss", [0, EPOCHS], [Math.min(...all), Math.max(...all)]);
  const line = (values: number[], color: string, label: string, row: number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => (i === 0 ? ctx.moveTo(sx(i + 1), sy(v)) : ctx.lineTo(sx(i + 1), sy(v))));
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.fillText(label, sx(EPOCHS) - 70, 28 + 14 * row);
  };
  line(loss, COLORS[0]!, "train", 0);
  line(valLoss, COLORS[1]!, "validation", 1);
}

function drawScatter({ pi, mu }: Prediction): void {
  const { ctx, sx, sy } = frame("scatter", [-5, 5], [-5, 5]);
  for (let r = 0; r < N - N_TRAIN; r++) {
    let k = 0;
    for (let j = 1; j < K; j++) if (pi[r * K + j]! > pi[r * K + k]!) k = j;
    ctx.fillStyle = COLORS[k]! + "80";
    ctx.beginPath();
    ctx.arc(sx(xTest[2 * r]!), sy(xTest[2 * r + 1]!), 2.5, 0, 2 * Math.PI);
    ctx.fill();
    const mx = sx(mu[(r * K + k) * 2]!);
    const my = sy(mu[(r * K + k) * 2 + 1]!);
    ctx.strokeStyle = COLORS[k]!;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(mx - 4, my - 4);
    ctx.lineTo(mx + 4, my + 4);
    ctx.moveTo(mx - 4, my + 4);
    ctx.lineTo(mx + 4, my - 4);
    ctx.stroke();
  }
}

document.getElementById("start")!.addEventListener("click", () => void train());
document.getElementById("stop")!.addEventListener("click", () => controller?.abort(new Error("stopped")));
void train();
