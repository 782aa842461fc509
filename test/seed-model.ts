// The seed notebook's task (its data, architecture and hyper-parameters, 128 epochs), shared by the
// seed-task test, the cross-engine test and its Node-side global setup.
import { adjustedRandScore, MDN, normalizedMutualInfoScore, seedClusters } from "../src/index.js";
import { hashWeights, regression } from "./util.js";

/** FNV-1a over the float32 bits of the seed data's x and y. */
export function hashSeedData(seed: number): string {
  const d = seedClusters(1024, seed);
  return hashWeights([{ data: d.x }, { data: d.y }]);
}

export async function runSeedTask(seed: number) {
  const d = seedClusters(1024, seed);
  const n = 512;
  const model = await MDN.create({
    inputDim: 2, outputDim: 2, components: 4,
    hidden: [
      { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
      { units: 32, activation: "relu", dropout: 0.2, batchNorm: true },
    ],
    seed,
  });
  const history = await model.fit(
    { data: d.x.subarray(0, 2 * n), shape: [n, 2] },
    { data: d.y.subarray(0, 2 * n), shape: [n, 2] },
    {
      epochs: 128, batchSize: 128, shuffle: true, validationSplit: 0.2,
      optimizer: { name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      earlyStopping: { monitor: "val_loss", minDelta: 0.1, patience: 32 },
    },
  );
  const p = model.predict({ data: d.x.subarray(2 * n), shape: [1024 - n, 2] });
  const zPred = new Int32Array(1024 - n);
  for (let r = 0; r < zPred.length; r++) {
    let best = 0;
    for (let k = 1; k < 4; k++) if (p.pi[r * 4 + k]! > p.pi[r * 4 + best]!) best = k;
    zPred[r] = best;
  }
  const zTest = d.z.subarray(n);
  const weightsHash = hashWeights(model.getWeights());
  model.dispose();
  return { ari: adjustedRandScore(zTest, zPred), nmi: normalizedMutualInfoScore(zTest, zPred), history, weightsHash };
}

/**
 * A small model with every file section in use (batch norm, dropout, standardisation, early
 * stopping's best weights), trained briefly: its file, and its predictions' hash after loading.
 */
export async function modelFileCase(): Promise<{ bytes: Uint8Array; loadedHash: string }> {
  const { x, y } = regression(64, 21);
  const m = await MDN.create({ inputDim: 2, outputDim: 2, components: 3, seed: 8, normalize: true, hidden: [{ units: 6, dropout: 0.1, batchNorm: true }] });
  await m.fit(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, earlyStopping: { patience: 4, restoreBestWeights: true } });
  const bytes = m.saveCheckpoint();
  return { bytes, loadedHash: await predictionHash(bytes) };
}

/** Hash of the predictions of the model in a file (loaded here), on fixed rows. */
export async function predictionHash(bytes: Uint8Array): Promise<string> {
  const p = (await MDN.loadCheckpoint(bytes)).predict(regression(16, 22).x);
  return hashWeights([{ data: p.pi }, { data: p.mu }, { data: p.sigma }]);
}
