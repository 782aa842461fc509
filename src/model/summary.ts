// The model's summary: a Keras-style table of the layers with output shapes and parameter counts.

import type { ResolvedConfig } from "../core/config.js";
import type { Network, Tensor } from "../engine/network.js";

/** Parameter counts, as Keras' count_params. */
export function countParams(tensors: readonly Tensor[]): { total: number; trainable: number; nonTrainable: number } {
  let trainable = 0;
  let nonTrainable = 0;
  for (const t of tensors) (t.trainable ? (trainable += t.size) : (nonTrainable += t.size));
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** The table for a network built from cfg. */
export function summaryTable(cfg: ResolvedConfig, net: Network): string {
  const rows: Array<[string, string, number]> = [["input (InputLayer)", `(None, ${cfg.inputDim})`, 0]];
  let bn = 0;
  let drop = 0;
  cfg.hidden.forEach((h, i) => {
    const inDim = i === 0 ? cfg.inputDim : cfg.hidden[i - 1]!.units;
    rows.push([`dense_${i + 1} (Dense, ${h.activation})`, `(None, ${h.units})`, (inDim + 1) * h.units]);
    if (h.dropout > 0) rows.push([`dropout_${++drop} (Dropout ${h.dropout})`, `(None, ${h.units})`, 0]);
    if (h.batchNorm) rows.push([`batch_normalization_${++bn} (BatchNormalization)`, `(None, ${h.units})`, 4 * h.units]);
  });
  const H = cfg.hidden.length ? cfg.hidden[cfg.hidden.length - 1]!.units : cfg.inputDim;
  const { components: K, outputDim: D } = cfg;
  rows.push([`mdn_mu (Dense, linear)`, `(None, ${K * D})`, (H + 1) * K * D]);
  const S = net.S;
  rows.push([net.covariance.summaryLabel(cfg.sigma.activation), `(None, ${S})`, (H + 1) * S]);
  rows.push([`mdn_pi (Dense, softmax)`, `(None, ${K})`, (H + 1) * K]);
  const w = [Math.max(32, ...rows.map((r) => r[0].length + 2)), 22, 12];
  const line = (c: string) => c.repeat(w[0]! + w[1]! + w[2]!);
  const fmt = (n: number) => n.toLocaleString("en-US");
  const c = countParams(net.tensors);
  const out = [
    `Model: "mdn" (${K} components, ${cfg.covariance} covariance, ${D}-D targets)`,
    line("_"),
    "Layer (type)".padEnd(w[0]!) + "Output Shape".padEnd(w[1]!) + "Param #",
    line("="),
    ...rows.map(([name, shape, n]) => name.padEnd(w[0]!) + shape.padEnd(w[1]!) + fmt(n)),
    line("="),
    `Total params: ${fmt(c.total)}`,
    `Trainable params: ${fmt(c.trainable)}`,
    `Non-trainable params: ${fmt(c.nonTrainable)}`,
    line("_"),
  ];
  return out.join("\n");
}
