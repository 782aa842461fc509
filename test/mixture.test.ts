// assembly/mixture.ts, the driver itself: which kernels each build exports, and that they keep no
// scratch of their own (the per-type heads are tested in test/mixture_{iso,diag,full}.test.ts).
import { describe, expect, it } from "vitest";
import { type Covariance, HEAD_FLOOR, HEAD_SCALE, headOf } from "../src/engine/head.js";
import type { MixtureKernels, MixtureTestKernels } from "../src/engine/kernels.js";
import { buildFile, Heap, loadKernels, normal, testRng } from "./util.js";

// Every function of each ABI type, checked by the compiler both ways (a missing or extra key fails
// `npm run lint`), so the lists below are the interfaces themselves.
const SHIPPED: Record<keyof MixtureKernels, true> = {
  mixture_iso_forward: true, mixture_iso_params: true, mixture_diag_forward: true, mixture_diag_params: true, mixture_full_forward: true, mixture_full_params: true,
};
const TWINS: Record<keyof MixtureTestKernels, true> = {
  mixture_iso_forward_scalar: true, mixture_iso_params_scalar: true, mixture_diag_forward_scalar: true,
  mixture_diag_params_scalar: true, mixture_full_forward_scalar: true, mixture_full_params_scalar: true,
};

/** The names of a module's exported functions that belong to the mixture driver. */
async function mixtureExports(file: string): Promise<string[]> {
  const mod = await WebAssembly.compile(await buildFile(file));
  return WebAssembly.Module.exports(mod).filter((e) => e.kind === "function" && /^mixture_(iso|diag|full)_/.test(e.name)).map((e) => e.name).sort();
}

describe("mixture driver", () => {
  it("the shipped module exports exactly MixtureKernels, the test build exactly those and MixtureTestKernels", async () => {
    expect(await mixtureExports("mdn.wasm")).toEqual(Object.keys(SHIPPED).sort());
    expect(await mixtureExports("mdn.full.wasm")).toEqual([...Object.keys(SHIPPED), ...Object.keys(TWINS)].sort());
  });

  it.each(["isotropic", "diagonal", "full"] as const)("%s kernels write nothing outside the buffers they are given (no static scratch)", async (covariance: Covariance) => {
    // Every byte below heap_base is the module's static data: a kernel that kept tiles there
    // (as the heads did before the work region) would change it, and two threads sharing one
    // memory would overwrite each other's.
    const k = await loadKernels();
    const N = 9, K = 3, D = 3;
    const head = headOf(covariance);
    const P = K + K * D + K * head.blockSize(D);
    const heap = new Heap(k);
    const rng = testRng(5);
    const a = heap.put(normal(rng, N * P, 0.5));
    const y = heap.put(normal(rng, N * D));
    const loss = heap.alloc(2), nll = heap.alloc(N), gamma = heap.alloc(N * K), da = heap.alloc(N * P);
    const pi = heap.alloc(N * K), mu = heap.alloc(N * K * D), sigma = heap.alloc(N * K * head.blockSize(D));
    const hs = heap.alloc(4), work = heap.alloc(head.workFloats(K, D));
    heap.f32(hs + HEAD_FLOOR, 1)[0] = 1e-4;
    heap.f32(hs + HEAD_SCALE, 1)[0] = 1 / N;
    const base = k.heap_base();
    const before = new Uint8Array(k.memory.buffer, 0, base).slice();
    const t = { isotropic: "iso", diagonal: "diag", full: "full" }[covariance] as "iso" | "diag" | "full";
    for (const sfx of ["", "_scalar"] as const) {
      k[`mixture_${t}_forward${sfx}`](loss, nll, gamma, 0, a, y, N, K, D, 0, hs, work);
      k[`mixture_${t}_forward${sfx}`](loss, nll, gamma, da, a, y, N, K, D, 1, hs, work);
      k[`mixture_${t}_params${sfx}`](pi, mu, sigma, a, N, K, D, 0, hs, work);
    }
    const after = new Uint8Array(k.memory.buffer, 0, base);
    expect(after.findIndex((v, i) => v !== before[i]), "first static byte written").toBe(-1);
    expect(heap.get(da, N * P).some((v) => v !== 0)).toBe(true); // they did run
  });
});
