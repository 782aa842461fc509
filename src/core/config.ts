// Model configuration: the types users write, their defaults, and validation with typed errors.

import { closestName, describe, MdnError } from "./errors.js";

/** A mixture head's covariance type (src/engine/head.ts holds one Head object per type). */
export type Covariance = "isotropic" | "diagonal" | "full";
export const COVARIANCES: readonly Covariance[] = ["isotropic", "diagonal", "full"];

export type Activation = "relu" | "tanh" | "linear";
export const ACTIVATIONS: readonly Activation[] = ["relu", "tanh", "linear"];

export interface BatchNormConfig {
  /** Moving-statistics momentum; Keras' default 0.99. */
  momentum?: number;
  /** Added to the variance; Keras' default 1e-3. */
  epsilon?: number;
}

export interface HiddenLayerConfig {
  units: number;
  /** Default "relu". */
  activation?: Activation;
  /** Inverted-dropout rate after the activation, in [0, 1); default 0. */
  dropout?: number;
  /** Batch normalisation after dropout (the seed notebook's order); default off (false or null). */
  batchNorm?: boolean | BatchNormConfig | null;
}

export interface SigmaConfig {
  /** How the raw head output becomes sigma: "exp" (default, the seed's) or "softplus". */
  activation?: "exp" | "softplus";
  /** Lower bound on sigma, default 1e-4: keeps the NLL finite when targets collapse onto a mean. */
  floor?: number;
}

export interface MDNConfig {
  inputDim: number;
  outputDim: number;
  /** Number of mixture components K. */
  components: number;
  /** Hidden layers; a number is shorthand for `{ units, activation: "relu" }`. Default [32, 32]. */
  hidden?: Array<HiddenLayerConfig | number>;
  /**
   * Shape of each component's covariance: "isotropic" (default; sigma^2 I), "diagonal" (one sigma
   * per dimension) or "full" (Sigma = L L^T with a learned lower-triangular Cholesky factor L).
   */
  covariance?: Covariance;
  sigma?: SigmaConfig;
  /** L2 penalty l2 * sum(w^2) on every dense kernel (Keras `kernel_regularizer=l2(l2)`); default 0. */
  l2?: number;
  /**
   * How the component means start. "targets" (default): at the first fit, the means' biases are
   * set to a k-means++ seeding of the training targets (refined by a few Lloyd steps) and the
   * means' kernel is scaled by 0.1, so each component starts on its own region of the targets.
   * "zeros": Keras' init only (zero biases), as a Keras MDN would start.
   */
  meanInit?: "targets" | "zeros";
  /**
   * Standardise inputs and targets with statistics learned from the first fit's training rows and
   * stored with the model; predictions and densities stay in original units. Default false.
   */
  normalize?: boolean;
  /** Seeds init, shuffling and dropout. Default: drawn at random and reported in `model.config`. */
  seed?: number;
}

/** The config with every default filled in: what `model.config` reports. */
export interface ResolvedConfig {
  inputDim: number;
  outputDim: number;
  components: number;
  hidden: Array<{ units: number; activation: Activation; dropout: number; batchNorm: { momentum: number; epsilon: number } | null }>;
  covariance: Covariance;
  sigma: { activation: "exp" | "softplus"; floor: number };
  l2: number;
  meanInit: "targets" | "zeros";
  normalize: boolean;
  seed: number;
}

export const DEFAULT_HIDDEN = [32, 32];
export const DEFAULT_SIGMA_FLOOR = 1e-4;
const KERAS_BN_MOMENTUM = 0.99;
const KERAS_BN_EPSILON = 1e-3;
/** Widest layer (and input): a wider one could not train in 4 GiB of wasm memory anyway. */
const MAX_UNITS = 1 << 16;
/**
 * Deepest network: the model file's header (tensor table and config, ~800 bytes per layer with
 * batch norm) must stay under its 1 MiB limit, or a model would save and not load.
 */
export const MAX_LAYERS = 1024;

// Ranges of the float settings: each keeps every kernel's float32 arithmetic finite for data on the
// scale the README asks for (standardised, or |y| up to ~1e6), so a config that creates can train.
/**
 * Dropout masks come from 16-bit numbers (assembly/dropout.ts): a rate above 1 - 2^-16 keeps no
 * unit at all (and one that rounds to 1 in float32 would divide by zero).
 */
export const MAX_DROPOUT = 1 - 2 ** -16;
/**
 * Batch-norm epsilon: below 1e-10 the gain 1 / sqrt(var + epsilon) on a channel whose variance
 * is float32 rounding noise exceeds 1e5 (1e-50 is 0 in float32: a constant channel divides by
 * zero); above 1e10 nothing is normalised any more.
 */
export const BN_EPSILON_RANGE = [1e-10, 1e10] as const;
/**
 * Sigma floor: below 1e-10 the Mahalanobis term ((y - mu) / sigma)^2 overflows float32 once
 * |y - mu| > 1.8e9 (the floor exists to keep the NLL finite); above 1e10 every sigma is the floor
 * (1e39 is Infinity in float32).
 */
export const SIGMA_FLOOR_RANGE = [1e-10, 1e10] as const;
/**
 * L2 factor: the penalty's gradient 2 * l2 * w is squared in Adam's second moment in float32;
 * past 1e6 that overflows for weights that grow to ~1e12 (1e30 overflows at once, ending fit at
 * batch 0), and no useful penalty is that strong.
 */
export const MAX_L2 = 1e6;

/** fit trains epochs below this (Keras' epochs is the final epoch count). */
export const MAX_EPOCHS = 1e9;
/** Adam's step counter is an i32 in the kernel (assembly/adam.ts): a model takes at most this many steps. */
export const MAX_ADAM_STEPS = 2 ** 31 - 1;
/** Largest batch, for training and inference alike. */
export const MAX_BATCH = 1 << 20;
/**
 * The most numbers one call hands back (1 GiB as float32): sample's draws and predict's or
 * covariance's per-row blocks multiply the rows by up to n * D or K * D^2, so a call states its
 * output size before computing anything and is refused past this.
 */
export const MAX_RESULT_VALUES = 2 ** 28;

export function positiveInt(v: unknown, argument: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw new MdnError("INVALID_CONFIG", argument, `an integer from 1 to ${max}`, describe(v));
  }
  return v;
}

export function numberIn(v: unknown, argument: string, lo: number, hi: number, loOpen = false, hiOpen = false): number {
  const ok =
    typeof v === "number" && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) {
    const range = `${loOpen ? "(" : "["}${lo}, ${hi}${hiOpen ? ")" : "]"}`;
    throw new MdnError("INVALID_CONFIG", argument, `a number in ${range}`, describe(v));
  }
  return v as number;
}

export function oneOf<T extends string>(v: unknown, argument: string, options: readonly T[]): T {
  if (typeof v !== "string" || !options.includes(v as T)) {
    throw new MdnError("INVALID_CONFIG", argument, `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`, describe(v));
  }
  return v as T;
}

function plainObject(v: unknown, argument: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new MdnError("INVALID_CONFIG", argument, "an object", describe(v));
  }
  return v as Record<string, unknown>;
}

/** Reject any key of o not in `known`, naming the likeliest intended one. */
export function checkKeys(o: object, argument: string, known: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const guess = closestName(key, known);
    const hint = guess === undefined ? "" : `did you mean ${JSON.stringify(guess)}? `;
    throw new MdnError("INVALID_CONFIG", `${argument}.${key}`, `a known option (${hint}known: ${known.join(", ")})`, "an unknown option");
  }
}

/**
 * An options argument: undefined means none; anything else must be a plain object whose keys are
 * all in `known`.
 */
export function optionsObject(v: unknown, argument: string, known: readonly string[]): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new MdnError("INVALID_ARGUMENT", argument, "an options object", describe(v));
  checkKeys(v, argument, known);
  return v as Record<string, unknown>;
}

/** Validate a user config and fill in defaults. Throws MdnError naming the first bad field. */
export function resolveConfig(config: unknown): ResolvedConfig {
  const c = plainObject(config, "config");
  checkKeys(c, "config", KNOWN_KEYS);
  const inputDim = positiveInt(c.inputDim, "config.inputDim", MAX_UNITS);
  const outputDim = positiveInt(c.outputDim, "config.outputDim", 256);
  const components = positiveInt(c.components, "config.components", 1024);
  const hiddenIn = c.hidden ?? DEFAULT_HIDDEN;
  if (!Array.isArray(hiddenIn)) throw new MdnError("INVALID_CONFIG", "config.hidden", "an array of layers", describe(hiddenIn));
  if (hiddenIn.length > MAX_LAYERS) throw new MdnError("INVALID_CONFIG", "config.hidden", `at most ${MAX_LAYERS} layers`, `${hiddenIn.length} layers`);
  const hidden = hiddenIn.map((h: unknown, i: number) => {
    const at = `config.hidden[${i}]`;
    if (typeof h === "number") return { units: positiveInt(h, at, MAX_UNITS), activation: "relu" as Activation, dropout: 0, batchNorm: null };
    const l = plainObject(h, at);
    checkKeys(l, at, LAYER_KEYS);
    const units = positiveInt(l.units, `${at}.units`, MAX_UNITS);
    const activation = oneOf(l.activation ?? "relu", `${at}.activation`, ACTIVATIONS);
    const dropout = numberIn(l.dropout ?? 0, `${at}.dropout`, 0, MAX_DROPOUT);
    let batchNorm: { momentum: number; epsilon: number } | null = null;
    if (l.batchNorm === true || (typeof l.batchNorm === "object" && l.batchNorm !== null)) {
      const b = l.batchNorm === true ? {} : plainObject(l.batchNorm, `${at}.batchNorm`);
      checkKeys(b, `${at}.batchNorm`, BATCH_NORM_KEYS);
      batchNorm = {
        momentum: numberIn(b.momentum ?? KERAS_BN_MOMENTUM, `${at}.batchNorm.momentum`, 0, 1),
        epsilon: numberIn(b.epsilon ?? KERAS_BN_EPSILON, `${at}.batchNorm.epsilon`, ...BN_EPSILON_RANGE),
      };
    } else if (l.batchNorm !== undefined && l.batchNorm !== false && l.batchNorm !== null) {
      throw new MdnError("INVALID_CONFIG", `${at}.batchNorm`, "a boolean or { momentum, epsilon }", describe(l.batchNorm));
    }
    return { units, activation, dropout, batchNorm };
  });
  const covariance = oneOf(c.covariance ?? "isotropic", "config.covariance", COVARIANCES);
  const s = c.sigma === undefined ? {} : plainObject(c.sigma, "config.sigma");
  checkKeys(s, "config.sigma", SIGMA_KEYS);
  const sigma = {
    activation: oneOf(s.activation ?? "exp", "config.sigma.activation", ["exp", "softplus"] as const),
    floor: numberIn(s.floor ?? DEFAULT_SIGMA_FLOOR, "config.sigma.floor", ...SIGMA_FLOOR_RANGE),
  };
  const l2 = numberIn(c.l2 ?? 0, "config.l2", 0, MAX_L2);
  let seed: number;
  if (c.seed === undefined) {
    seed = Math.floor(Math.random() * 2 ** 32);
  } else {
    if (typeof c.seed !== "number" || !Number.isSafeInteger(c.seed) || c.seed < 0) {
      throw new MdnError("INVALID_CONFIG", "config.seed", "a non-negative safe integer", describe(c.seed));
    }
    seed = c.seed;
  }
  const meanInit = oneOf(c.meanInit ?? "targets", "config.meanInit", ["targets", "zeros"] as const);
  const normalize = c.normalize ?? false;
  if (typeof normalize !== "boolean") throw new MdnError("INVALID_CONFIG", "config.normalize", "a boolean", describe(normalize));
  return { inputDim, outputDim, components, hidden, covariance, sigma, l2, meanInit, normalize, seed };
}

const KNOWN_KEYS = ["inputDim", "outputDim", "components", "hidden", "covariance", "sigma", "l2", "meanInit", "normalize", "seed"];
const LAYER_KEYS = ["units", "activation", "dropout", "batchNorm"];
const BATCH_NORM_KEYS = ["momentum", "epsilon"];
const SIGMA_KEYS = ["activation", "floor"];
