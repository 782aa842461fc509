// Counts subnormal float32 values in what the kernels read and write while a model trains and
// predicts (issue 16 point 3: Intel cores take a microcode assist on each subnormal operand or
// result, and WebAssembly cannot turn on flush-to-zero, so the kernels must keep every value
// either 0 or normal).
//
// How it sees the model's buffers without reaching into the model: MDN.create instantiates the
// kernels with WebAssembly.instantiate(module, imports); `watchKernels` replaces that function for
// the duration of one create and hands back an instance whose exports are the real ones wrapped.
// Each wrapper counts the subnormals in the float buffers the call reads (before it) and writes
// (after it), located from its pointer and size arguments as src/engine/kernels.ts documents them (the
// wasm ABI, not the host's private fields, so moving host files changes nothing). A wrapped kernel
// missing from BUFFERS, or one whose parameter count changed, fails the run: the table has to
// follow the ABI, never silently skip a kernel.

import { MDN } from "../src/index.js";

export type Role = "read" | "write";
/** A float buffer of a kernel call: its pointer argument, its length in floats, its class. */
interface Buffer {
  name: string;
  ptr: number;
  floats: (a: number[]) => number;
  role: Role;
  cls: string;
}
interface Layout {
  params: number;
  buffers: Buffer[];
}

const b = (name: string, ptr: number, floats: (a: number[]) => number, role: Role, cls: string): Buffer => ({ name, ptr, floats, role, cls });

/** Floats of one component's sigma block of a mixture head type. */
function sk(type: string, D: number): number {
  return type === "iso" ? 1 : type === "diag" ? D : (D * (D + 1)) / 2;
}

function mixture(type: string): Record<string, Layout> {
  const P = (a: number[]) => a[7]! + a[7]! * a[8]! + a[7]! * sk(type, a[8]!);
  return {
    // (loss, nll, gamma, da, a, y, N, K, D, sigmaAct, hs, work)
    [`mixture_${type}_forward`]: {
      params: 12,
      buffers: [
        b("a", 4, (a) => a[6]! * P(a), "read", "head output"),
        b("y", 5, (a) => a[6]! * a[8]!, "read", "targets"),
        b("nll", 1, (a) => a[6]!, "write", "nll"),
        b("gamma", 2, (a) => a[6]! * a[7]!, "write", "responsibilities"),
        b("da", 3, (a) => a[6]! * P(a), "write", "gradient"),
      ],
    },
    // (pi, mu, sigma, a, N, K, D, sigmaAct, hs, work)
    [`mixture_${type}_params`]: {
      params: 10,
      buffers: [
        b("a", 3, (a) => a[4]! * (a[5]! + a[5]! * a[6]! + a[5]! * sk(type, a[6]!)), "read", "head output"),
        b("pi", 0, (a) => a[4]! * a[5]!, "write", "mixture parameters"),
        b("mu", 1, (a) => a[4]! * a[5]! * a[6]!, "write", "mixture parameters"),
        b("sigma", 2, (a) => a[4]! * a[5]! * sk(type, a[6]!), "write", "mixture parameters"),
      ],
    },
  };
}

/** The float buffers of every kernel the host calls in training and inference (src/engine/kernels.ts). */
const BUFFERS: Record<string, Layout> = {
  // (out, inp, w, b, N, I, O, work)
  dense_forward: {
    params: 8,
    buffers: [
      b("inp", 1, (a) => a[4]! * a[5]!, "read", "activation"),
      b("w", 2, (a) => a[5]! * a[6]!, "read", "weights"),
      b("b", 3, (a) => a[6]!, "read", "weights"),
      b("out", 0, (a) => a[4]! * a[6]!, "write", "activation"),
    ],
  },
  // (dinp, dw, db, dout, inp, w, N, I, O, work)
  dense_backward: {
    params: 10,
    buffers: [
      b("dout", 3, (a) => a[6]! * a[8]!, "read", "gradient"),
      b("inp", 4, (a) => a[6]! * a[7]!, "read", "activation"),
      b("w", 5, (a) => a[7]! * a[8]!, "read", "weights"),
      b("dinp", 0, (a) => a[6]! * a[7]!, "write", "gradient"),
      b("dw", 1, (a) => a[7]! * a[8]!, "write", "gradient"),
      b("db", 2, (a) => a[8]!, "write", "gradient"),
    ],
  },
  // (out, deriv, inp, n, act, ls, state, work)
  act_dropout_forward_at: {
    params: 8,
    buffers: [
      b("inp", 2, (a) => a[3]!, "read", "activation"),
      b("out", 0, (a) => a[3]!, "write", "activation"),
      b("deriv", 1, (a) => a[3]!, "write", "activation"),
    ],
  },
  // (dinp, dout, deriv, n)
  act_dropout_backward: {
    params: 4,
    buffers: [
      b("dout", 1, (a) => a[3]!, "read", "gradient"),
      b("deriv", 2, (a) => a[3]!, "read", "activation"),
      b("dinp", 0, (a) => a[3]!, "write", "gradient"),
    ],
  },
  // (out, mean, vari, inp, gamma, beta, N, C, epsAt)
  batchnorm_forward_train_at: {
    params: 9,
    buffers: [
      b("inp", 3, (a) => a[6]! * a[7]!, "read", "activation"),
      b("gamma", 4, (a) => a[7]!, "read", "weights"),
      b("beta", 5, (a) => a[7]!, "read", "weights"),
      b("out", 0, (a) => a[6]! * a[7]!, "write", "activation"),
      b("mean", 1, (a) => a[7]!, "write", "batch statistics"),
      b("vari", 2, (a) => a[7]!, "write", "batch statistics"),
    ],
  },
  // (out, inp, gamma, beta, movingMean, movingVar, N, C, ls)
  batchnorm_forward_infer_at: {
    params: 9,
    buffers: [
      b("inp", 1, (a) => a[6]! * a[7]!, "read", "activation"),
      b("movingMean", 4, (a) => a[7]!, "read", "moving statistics"),
      b("movingVar", 5, (a) => a[7]!, "read", "moving statistics"),
      b("out", 0, (a) => a[6]! * a[7]!, "write", "activation"),
    ],
  },
  // (dinp, dgamma, dbeta, work, dout, inp, mean, vari, gamma, deriv, N, C, epsAt)
  batchnorm_backward_at: {
    params: 13,
    buffers: [
      b("dout", 4, (a) => a[10]! * a[11]!, "read", "gradient"),
      b("inp", 5, (a) => a[10]! * a[11]!, "read", "activation"),
      b("deriv", 9, (a) => a[10]! * a[11]!, "read", "activation"),
      b("dinp", 0, (a) => a[10]! * a[11]!, "write", "gradient"),
      b("dgamma", 1, (a) => a[11]!, "write", "gradient"),
      b("dbeta", 2, (a) => a[11]!, "write", "gradient"),
      b("work", 3, (a) => 3 * a[11]!, "write", "gradient"),
    ],
  },
  // (movingMean, movingVar, mean, vari, C, momentumAt)
  batchnorm_update_moving_at: {
    params: 6,
    buffers: [
      b("movingMean", 0, (a) => a[4]!, "write", "moving statistics"),
      b("movingVar", 1, (a) => a[4]!, "write", "moving statistics"),
    ],
  },
  // (w, g, m, v, nKernels, nRest, t, hp)
  adam_step: {
    params: 8,
    buffers: [
      b("g", 1, (a) => a[4]! + a[5]!, "read", "gradient"),
      b("w", 0, (a) => a[4]! + a[5]!, "write", "weights"),
      b("m", 2, (a) => a[4]! + a[5]!, "write", "adam m"),
      b("v", 3, (a) => a[4]! + a[5]!, "write", "adam v"),
    ],
  },
  // (g, n, hp)
  clip_global_norm: { params: 3, buffers: [b("g", 0, (a) => a[1]!, "write", "gradient")] },
  ...mixture("iso"),
  ...mixture("diag"),
  ...mixture("full"),
};

/**
 * Kernels that move bytes or integers, or only read: no float arithmetic, so nothing to count
 * (what they copy was counted where it was computed).
 */
const PASSIVE = new Set([
  "heap_base", "fill_zero", "copy_bytes", "gather_rows", "all_finite", "rng_seed", "rng_uniform_f64", "rng_below",
  "rng_fill_uniform", "rng_shuffle", "iota_u32", "sum_squares", "mixture_sample",
]);

export interface Tally {
  /** Subnormal values seen, by "kernel buffer (read|write)". */
  byBuffer: Map<string, number>;
  /** Values examined, by the same keys. */
  examined: Map<string, number>;
  /** Kernel calls seen, by kernel. */
  calls: Map<string, number>;
}

/** Subnormal float32 values among the bit patterns u: exponent bits all 0, fraction not. */
function countSubnormals(u: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7f800000) === 0 && (u[i]! & 0x007fffff) !== 0) count++;
  return count;
}

/** Subnormal values among the `floats` floats at ptr in memory (none for a null pointer). */
export function subnormalsIn(memory: WebAssembly.Memory, ptr: number, floats: number): number {
  return floats <= 0 || ptr === 0 ? 0 : countSubnormals(new Uint32Array(memory.buffer, ptr, floats));
}

/** Subnormal values in a result the library handed out. */
export function subnormalsOf(a: Float32Array): number {
  return countSubnormals(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function add(m: Map<string, number>, key: string, n: number): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

/**
 * MDN.create(config) with every kernel call watched: the returned tally fills as the model trains
 * and predicts. Fails when the model was not instantiated through WebAssembly.instantiate (then
 * this way of watching no longer sees it) or calls a kernel the table does not describe.
 */
export async function watchKernels(config: Parameters<typeof MDN.create>[0], module: WebAssembly.Module): Promise<{ model: MDN; tally: Tally }> {
  const tally: Tally = { byBuffer: new Map(), examined: new Map(), calls: new Map() };
  const real = WebAssembly.instantiate;
  let seen = 0;
  const wrapped = async (mod: WebAssembly.Module, imports?: WebAssembly.Imports): Promise<WebAssembly.Instance> => {
    const instance = await real(mod, imports);
    seen++;
    const exports = instance.exports;
    const memory = exports.memory as WebAssembly.Memory;
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== "function" || PASSIVE.has(name)) {
        out[name] = value;
        continue;
      }
      const f = value as (...a: number[]) => unknown;
      const layout = BUFFERS[name];
      out[name] = (...a: number[]) => {
        if (!layout) throw new Error(`subnormal watch: kernel ${name} is not in the table (test/subnormal-watch.ts BUFFERS)`);
        if (f.length !== layout.params) throw new Error(`subnormal watch: ${name} takes ${f.length} arguments, the table says ${layout.params}`);
        add(tally.calls, name, 1);
        const count = (role: Role) => {
          for (const buf of layout.buffers) {
            if (buf.role !== role) continue;
            const n = buf.floats(a);
            const key = `${name} ${buf.name} (${role}, ${buf.cls})`;
            add(tally.byBuffer, key, subnormalsIn(memory, a[buf.ptr]!, n));
            add(tally.examined, key, a[buf.ptr] ? n : 0);
          }
        };
        count("read");
        const r = f(...a);
        count("write");
        return r;
      };
    }
    return { exports: out } as unknown as WebAssembly.Instance;
  };
  (WebAssembly as { instantiate: unknown }).instantiate = wrapped;
  let model: MDN;
  try {
    model = await MDN.create({ ...config }, { module });
  } finally {
    (WebAssembly as { instantiate: unknown }).instantiate = real;
  }
  if (seen !== 1) throw new Error(`subnormal watch: MDN.create instantiated ${seen} modules through WebAssembly.instantiate, expected 1`);
  return { model, tally };
}

/** The tally's counts summed by class ("activation", "gradient", ...) and role. */
export function byClass(t: Tally): Map<string, { subnormal: number; examined: number }> {
  const out = new Map<string, { subnormal: number; examined: number }>();
  for (const [key, n] of t.byBuffer) {
    const cls = key.slice(key.indexOf("(") + 1, -1);
    const e = out.get(cls) ?? { subnormal: 0, examined: 0 };
    e.subnormal += n;
    e.examined += t.examined.get(key) ?? 0;
    out.set(cls, e);
  }
  return out;
}
