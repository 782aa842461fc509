// Every numeric config field has a range in which a model trains with finite numbers: values past
// it are refused at create with the range named; values at its ends create and train.
import { describe, expect, it } from "vitest";
import { MDN, MdnError, seedClusters } from "../src/index.js";
import type { MDNConfig } from "../src/index.js";
import { BN_EPSILON_RANGE, MAX_DROPOUT, MAX_L2, MAX_LAYERS, resolveConfig, SIGMA_FLOOR_RANGE } from "../src/core/config.js";
import { expectedTensors, type FileHeader, MAX_HEADER_BYTES } from "../src/format/modelfile.js";

const base: MDNConfig = { inputDim: 2, outputDim: 2, components: 3, hidden: [8], seed: 1 };
const layer = (patch: object) => ({ hidden: [{ units: 8, batchNorm: true, ...patch }] });

async function refused(patch: object): Promise<MdnError> {
  try {
    await MDN.create({ ...base, ...patch } as MDNConfig);
  } catch (e) {
    if (e instanceof MdnError) return e;
    throw e;
  }
  throw new Error(`created with ${JSON.stringify(patch)}`);
}

describe("config ranges", () => {
  it("refuses configs that cannot train, naming the valid range", async () => {
    const cases: Array<[object, string, string]> = [
      [{ sigma: { floor: 1e39 } }, "config.sigma.floor", "[1e-10, 10000000000]"],
      [{ sigma: { floor: 1e-12 } }, "config.sigma.floor", "[1e-10, 10000000000]"],
      [layer({ batchNorm: { epsilon: 1e-50 } }), "config.hidden[0].batchNorm.epsilon", "[1e-10, 10000000000]"],
      [layer({ batchNorm: { epsilon: 1e11 } }), "config.hidden[0].batchNorm.epsilon", "[1e-10, 10000000000]"],
      [layer({ batchNorm: { momentum: 1.5 } }), "config.hidden[0].batchNorm.momentum", "[0, 1]"],
      [{ l2: 1e30 }, "config.l2", "[0, 1000000]"],
      [layer({ dropout: 0.99999 }), "config.hidden[0].dropout", `[0, ${MAX_DROPOUT}]`],
      [{ hidden: Array(MAX_LAYERS + 1).fill(1) }, "config.hidden", `at most ${MAX_LAYERS} layers`],
      [{ outputDim: 257 }, "config.outputDim", "an integer from 1 to 256"],
      [{ components: 1025 }, "config.components", "an integer from 1 to 1024"],
      [{ inputDim: 65537 }, "config.inputDim", "an integer from 1 to 65536"],
    ];
    for (const [patch, argument, range] of cases) {
      const e = await refused(patch);
      expect(`${e.code} ${e.argument}`).toBe(`INVALID_CONFIG ${argument}`);
      expect(e.message).toContain(range);
    }
  });

  it("configs at the ends of every range create and train 20 epochs with finite losses", async () => {
    const d = seedClusters(256, 1);
    const x = { data: d.x, shape: [256, 2] as [number, number] };
    const y = { data: d.y, shape: [256, 2] as [number, number] };
    const ends: object[] = [
      { sigma: { floor: SIGMA_FLOOR_RANGE[0] } }, { sigma: { floor: SIGMA_FLOOR_RANGE[1] } },
      { covariance: "full", sigma: { floor: SIGMA_FLOOR_RANGE[0] } }, { covariance: "diagonal", sigma: { floor: SIGMA_FLOOR_RANGE[1] } },
      layer({ batchNorm: { epsilon: BN_EPSILON_RANGE[0] } }), layer({ batchNorm: { epsilon: BN_EPSILON_RANGE[1] } }),
      layer({ batchNorm: { momentum: 0 } }), layer({ batchNorm: { momentum: 1 } }),
      { l2: MAX_L2 }, layer({ dropout: MAX_DROPOUT }),
    ];
    for (const patch of ends) {
      for (const normalize of [false, true]) {
        const m = await MDN.create({ ...base, ...patch, normalize } as MDNConfig);
        for (const optimizer of [{}, { epsilon: 1e-30 }, { epsilon: 1e30 }]) {
          const h = await m.fit(x, y, { epochs: 20, batchSize: 32, optimizer });
          const at = `${JSON.stringify(patch)} normalize ${normalize} optimizer ${JSON.stringify(optimizer)}`;
          expect(h.nonFinite, at).toBeUndefined();
          expect(h.history.loss.every(Number.isFinite), at).toBe(true);
        }
      }
    }
  });

  it(`the header of a ${MAX_LAYERS}-layer checkpoint, every number at its longest, fits the file format's header limit`, () => {
    const long = 0.12345678901234568;
    const hidden = Array.from({ length: MAX_LAYERS }, () => ({ units: 65536, activation: "linear", dropout: long, batchNorm: { momentum: long, epsilon: 1.2345678901234568e-10 } }));
    const config = resolveConfig({ inputDim: 65536, outputDim: 256, components: 1024, hidden, covariance: "full", sigma: { floor: 1.2345678901234568e-10 }, l2: long, seed: Number.MAX_SAFE_INTEGER, normalize: true });
    const big = Number.MAX_SAFE_INTEGER;
    const checkpoint = { epoch: big, adamSteps: big, earlyStopping: { monitor: "val_loss" as const, best: -long * 1e300, wait: big, bestEpoch: big }, bestWeights: true, orderRows: big };
    const header: FileHeader = {
      kind: "checkpoint", config, normalization: "standardize", generator: [4294967295, 4294967295, 4294967295, 4294967295],
      training: { fresh: false, epochs: big, steps: big, loss: -long * 1e300, valLoss: -long * 1e300 }, checkpoint,
      tensors: [],
    };
    header.tensors = expectedTensors(header).map((t) => ({ name: t.name, shape: t.shape.map(() => big), offset: big, byteLength: big }));
    const bytes = new TextEncoder().encode(JSON.stringify(header)).length;
    console.log(`worst-case header of ${MAX_LAYERS} layers: ${bytes} bytes (limit ${MAX_HEADER_BYTES})`);
    expect(bytes).toBeLessThan(MAX_HEADER_BYTES);
  });
});
