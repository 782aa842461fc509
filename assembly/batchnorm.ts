// Batch normalization over x (N, C) with Keras semantics (Ioffe & Szegedy 2015, Algorithm 1, as
// implemented by Keras 3 `layers.BatchNormalization`, axis = -1, center and scale on).
//
// Dimension legend: N rows (the batch), C channels (features). Every (N, C) buffer is row-major, so
// the C channels of one row are contiguous: the SIMD kernels work on groups of 4 channels, two
// groups side by side (see `group`), and walk down the rows with stride C; channels past the last
// whole group of 4 go through the scalar code.
//
// Training (training=True), per channel c over the rows n:
//   mean_c = 1/N sum_n x_nc
//   var_c  = 1/N sum_n (x_nc - mean_c)^2            biased, as Keras 3 (ops.moments) and
//                                                   tf.nn.moments compute it
//   xhat   = (x - mean) / sqrt(var + eps)
//   out    = gamma * xhat + beta
// Keras 3 also feeds this BIASED batch variance to the moving variance (Keras 2 on the fused TF
// kernel applied Bessel's N/(N-1) correction there instead):
//   moving = momentum * moving + (1 - momentum) * batch      (Keras defaults: momentum 0.99, eps 1e-3)
// Inference (training=False) normalizes with the moving statistics instead:
//   out = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta
//
// Backward of the training forward, batch statistics differentiated (the mean and the variance
// both depend on every row), with invstd = 1 / sqrt(var + eps):
//   dbeta_c  += sum_n dout_nc
//   dgamma_c += sum_n dout_nc * xhat_nc
//   dinp_nc   = gamma_c * invstd_c / N * (N * dout_nc - sum_n dout_nc - xhat_nc * sum_n dout_nc * xhat_nc)
// dinp is written, not accumulated (its only writer is this kernel, so the host need not zero it).
// In a hidden layer the batch norm's input is act_dropout_forward's output, whose backward only
// multiplies by its cached derivative (dropout.ts): given that deriv (N, C), the kernel writes the
// gradient at the activation's input instead, deriv != 0 ? dinp * deriv : 0, the same bits as
// act_dropout_backward applied to dinp, without a pass that stores dinp and loads it again.
// xhat is not cached: the backward works from the forward's input and the cached mean and
// variance (sum dout * xhat = invstd * sum dout * (x - mean); dinp per channel as
// a * dout - ks - (x - mean) * kx, see the scalar twin), so the forward saves an (N, C) store.
// The SIMD backward sums down each pair of channel groups (sums in registers), leaves a, ks, kx in
// the caller's work (3, C), then walks down the same pair's rows again writing dinp with the
// constants in registers. (Writing dinp row by row over all channels instead, with the constants
// reloaded from work for every vector, ran 20-25% slower at 128 x 32 and at 256 x 256: its loop
// holds more pointers than x64 has registers.)
//
// Variance: the corrected two-pass algorithm (Chan, Golub & LeVeque 1983, "Algorithms for
// computing the sample variance", eq. 1.7). Pass 1 gives the mean; pass 2 sums the deviations
// d = x - mean and their squares. In exact arithmetic sum d = 0; in float32 it holds the rounding
// error of the mean, so mean += sum d / N refines the mean and var = sum d^2 / N - (sum d / N)^2.
// One-pass E[x^2] - E[x]^2 cancels catastrophically when |mean| >> std (a channel at 1e4 + noise
// loses every digit of its variance in float32); the two-pass form never subtracts large numbers.
//
// Sums. The training forward's two sums down the rows (pass 1, pass 2) take the even rows into one
// sum and the odd rows into another and add the two at the end, in the twin as in the SIMD kernel:
// two independent chains of additions instead of one whose latency bounds the pass. The forward
// then normalizes as (x - mean) * a + beta with a = gamma * invstd per channel (one multiply per
// element fewer than gamma * ((x - mean) * invstd) + beta).
//
// Every kernel processes channel groups independently with the same float32 operations in the
// same order as its scalar twin (no fused multiply-add in wasm SIMD), so the two agree bit for bit.
//
// No subnormals (issue 16: WebAssembly has no flush-to-zero, and Intel cores take a microcode
// assist on each subnormal operand or result). The moving statistics of a channel whose batch
// statistic is 0 (a dead relu unit: mean and variance 0) decay by momentum per step and would reach
// the subnormal range after ~8,700 steps at 0.99, so the update flushes each to +0 below 2^-100
// (MOVING_TINY; a compare and an and-not, NaN stays). Nothing changes beyond rounding: a moving
// variance under 2^-100 is below half an ulp of any epsilon allowed (>= 1e-10), so
// sqrt(var + eps) keeps its bits, and a moving mean under 2^-100 shifts (x - mean) * scale by less
// than 2^-100 * gamma / sqrt(eps). The other sums and products here combine activations,
// gradients and per-channel constants that are 0 or normal and of ordinary size; with no tiny
// operand they form no subnormal, so they need no flush.

// @ts-ignore: decorator
@inline
function aligned(ptr: usize): bool {
  return (ptr & 15) == 0;
}

// ---------------------------------------------------------------------------------------------
// Training forward

/**
 * Training forward, scalar twin.
 * out (N, C), mean (C) cache, vari (C) cache; inp (N, C), gamma (C), beta (C).
 */
export function batchnorm_forward_train_scalar(
  out: usize, mean: usize, vari: usize,
  inp: usize, gamma: usize, beta: usize,
  N: i32, C: i32, eps: f32,
): void {
  assert(N > 0 && C > 0);
  forward_train_channels(out, mean, vari, inp, gamma, beta, N, C, eps, 0);
}

/** Channels c0 .. C-1 of the training forward: the scalar twin, and the SIMD kernel's tail. */
// @ts-ignore: decorator
@inline
function forward_train_channels(
  out: usize, mean: usize, vari: usize,
  inp: usize, gamma: usize, beta: usize,
  N: i32, C: i32, eps: f32, c0: i32,
): void {
  const rowBytes = <usize>C << 2;
  const fN = <f32>N;
  for (let c = c0; c < C; c++) {
    const off = <usize>c << 2;
    const inp_c = inp + off;
    // Pass 1: the mean. Every sum down the rows takes even rows into one sum and odd rows into
    // another and adds the two at the end (see "Sums" in the header).
    let sa: f32 = 0, sb: f32 = 0;
    let n = 0;
    for (; n + 1 < N; n += 2) {
      sa += load<f32>(inp_c + <usize>n * rowBytes);
      sb += load<f32>(inp_c + <usize>(n + 1) * rowBytes);
    }
    if (n < N) sa += load<f32>(inp_c + <usize>n * rowBytes);
    let mu = (sa + sb) / fN;
    // Pass 2: deviations from that mean; sd is the mean's rounding error times N (see header).
    let sda: f32 = 0, qa: f32 = 0, sdb: f32 = 0, qb: f32 = 0;
    for (n = 0; n + 1 < N; n += 2) {
      const da = load<f32>(inp_c + <usize>n * rowBytes) - mu;
      const db = load<f32>(inp_c + <usize>(n + 1) * rowBytes) - mu;
      sda += da; qa += da * da;
      sdb += db; qb += db * db;
    }
    if (n < N) {
      const da = load<f32>(inp_c + <usize>n * rowBytes) - mu;
      sda += da; qa += da * da;
    }
    const sd = sda + sdb;
    const q = qa + qb;
    const e = sd / fN;
    mu += e;
    // q / N >= e^2 in exact arithmetic; max keeps rounding from producing a negative variance.
    const va = max<f32>(q / fN - e * e, 0);
    const invstd = <f32>1 / sqrt<f32>(va + eps);
    store<f32>(mean + off, mu);
    store<f32>(vari + off, va);
    // Pass 3: normalize, scale and shift as (x - mean) * a + beta with a = gamma * invstd once
    // per channel. (x - mean) stays one factor: expanding it cancels large terms for |mean| >> std.
    const a = load<f32>(gamma + off) * invstd;
    const b = load<f32>(beta + off);
    for (n = 0; n < N; n++) {
      const at = <usize>n * rowBytes + off;
      store<f32>(out + at, (load<f32>(inp + at) - mu) * a + b);
    }
  }
}

/**
 * Training forward: mean, vari (C) = batch mean and biased variance; out (N, C) = gamma * xhat +
 * beta with xhat the normalized input. inp (N, C), gamma (C), beta (C).
 */
export function batchnorm_forward_train(
  out: usize, mean: usize, vari: usize,
  inp: usize, gamma: usize, beta: usize,
  N: i32, C: i32, eps: f32,
): void {
  assert(N > 0 && C > 0);
  assert(aligned(out) && aligned(mean) && aligned(vari));
  assert(aligned(inp) && aligned(gamma) && aligned(beta));
  const rowBytes = <usize>C << 2;
  const G = C >> 2;
  for (let c = 0; c < G; c += 2) {
    forward_train_block(out, mean, vari, inp, gamma, beta, N, rowBytes, eps, group(c, G), group(c + 1, G));
  }
  forward_train_channels(out, mean, vari, inp, gamma, beta, N, C, eps, G << 2);
}

/** The training forward on two channel groups at byte offsets o0, o1 (see group). */
// @ts-ignore: decorator
@inline
function forward_train_block(
  out: usize, mean: usize, vari: usize, inp: usize, gamma: usize, beta: usize,
  N: i32, rowBytes: usize, eps: f32, o0: usize, o1: usize,
): void {
  const vN = f32x4.splat(<f32>N);
  const zero = f32x4.splat(0);
  // Even rows (a) and odd rows (b) in separate sums, as the twin.
  const last = inp + <usize>(N - 1) * rowBytes;
  const odd = (N & 1) != 0;
  let s0a = zero, s1a = zero, s0b = zero, s1b = zero;
  let r = inp;
  for (; r < last; r += 2 * rowBytes) {
    s0a = f32x4.add(s0a, v128.load(r + o0)); s0b = f32x4.add(s0b, v128.load(r + rowBytes + o0));
    s1a = f32x4.add(s1a, v128.load(r + o1)); s1b = f32x4.add(s1b, v128.load(r + rowBytes + o1));
  }
  if (odd) {
    s0a = f32x4.add(s0a, v128.load(r + o0));
    s1a = f32x4.add(s1a, v128.load(r + o1));
  }
  const m0 = f32x4.div(f32x4.add(s0a, s0b), vN), m1 = f32x4.div(f32x4.add(s1a, s1b), vN);
  let d0a = zero, d1a = zero, q0a = zero, q1a = zero;
  let d0b = zero, d1b = zero, q0b = zero, q1b = zero;
  for (r = inp; r < last; r += 2 * rowBytes) {
    const t0a = f32x4.sub(v128.load(r + o0), m0), t0b = f32x4.sub(v128.load(r + rowBytes + o0), m0);
    const t1a = f32x4.sub(v128.load(r + o1), m1), t1b = f32x4.sub(v128.load(r + rowBytes + o1), m1);
    d0a = f32x4.add(d0a, t0a); q0a = f32x4.add(q0a, f32x4.mul(t0a, t0a));
    d0b = f32x4.add(d0b, t0b); q0b = f32x4.add(q0b, f32x4.mul(t0b, t0b));
    d1a = f32x4.add(d1a, t1a); q1a = f32x4.add(q1a, f32x4.mul(t1a, t1a));
    d1b = f32x4.add(d1b, t1b); q1b = f32x4.add(q1b, f32x4.mul(t1b, t1b));
  }
  if (odd) {
    const t0a = f32x4.sub(v128.load(r + o0), m0);
    const t1a = f32x4.sub(v128.load(r + o1), m1);
    d0a = f32x4.add(d0a, t0a); q0a = f32x4.add(q0a, f32x4.mul(t0a, t0a));
    d1a = f32x4.add(d1a, t1a); q1a = f32x4.add(q1a, f32x4.mul(t1a, t1a));
  }
  store_stats(mean + o0, vari + o0, m0, f32x4.add(d0a, d0b), f32x4.add(q0a, q0b), vN);
  store_stats(mean + o1, vari + o1, m1, f32x4.add(d1a, d1b), f32x4.add(q1a, q1b), vN);
  normalize_rows(out, inp, mean, vari, gamma, beta, N, rowBytes, eps, o0, o1);
}

/** out = gamma * xhat + beta on the two channel groups at byte offsets o0, o1, from the stored statistics. */
// @ts-ignore: decorator
@inline
function normalize_rows(
  out: usize, inp: usize, mean: usize, vari: usize, gamma: usize, beta: usize,
  N: i32, rowBytes: usize, eps: f32, o0: usize, o1: usize,
): void {
  const mu0 = v128.load(mean + o0), mu1 = v128.load(mean + o1);
  const a0 = f32x4.mul(v128.load(gamma + o0), invstd_f32x4(vari + o0, eps));
  const a1 = f32x4.mul(v128.load(gamma + o1), invstd_f32x4(vari + o1, eps));
  const b0 = v128.load(beta + o0), b1 = v128.load(beta + o1);
  for (let n = 0; n < N; n++) {
    const r = <usize>n * rowBytes;
    const x = inp + r;
    const y = out + r;
    v128.store(y + o0, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o0), mu0), a0), b0));
    v128.store(y + o1, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o1), mu1), a1), b1));
  }
}

/** From the first-pass mean mu and the deviation sums sd, q: store the refined mean and variance. */
// @ts-ignore: decorator
@inline
function store_stats(mean_g: usize, vari_g: usize, mu: v128, sd: v128, q: v128, vN: v128): void {
  const e = f32x4.div(sd, vN);
  v128.store(mean_g, f32x4.add(mu, e));
  v128.store(vari_g, f32x4.max(f32x4.sub(f32x4.div(q, vN), f32x4.mul(e, e)), f32x4.splat(0)));
}

/** 1 / sqrt(var + eps) for the four channels at vari_g: the same bits in forward and backward. */
// @ts-ignore: decorator
@inline
function invstd_f32x4(vari_g: usize, eps: f32): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(v128.load(vari_g), f32x4.splat(eps))));
}

/**
 * Byte offset of channel group min(g, G - 1) (group g = channels 4g .. 4g+3). The SIMD kernels
 * take two groups at a time: two independent sums per row instead of one latency-bound chain,
 * and half as many walks down the rows. With a power-of-two row stride one group's rows fall into
 * a few cache sets and evict each other (C = 256 ran at half the speed of C = 260); each walk now
 * uses half of every line it fetches instead of a quarter. Past the last group the block repeats
 * it: the repeat recomputes the same values and stores them again to the same place, and
 * accumulating stores skip it. (Four groups at a time ran slower: their vectors spill.)
 */
// @ts-ignore: decorator
@inline
function group(g: i32, G: i32): usize {
  return <usize>min(g, G - 1) << 4;
}

// ---------------------------------------------------------------------------------------------
// Inference forward

/**
 * Inference forward, scalar twin.
 * out (N, C); inp (N, C), gamma (C), beta (C), movingMean (C), movingVar (C).
 */
export function batchnorm_forward_infer_scalar(
  out: usize,
  inp: usize, gamma: usize, beta: usize, movingMean: usize, movingVar: usize,
  N: i32, C: i32, eps: f32,
): void {
  assert(N > 0 && C > 0);
  forward_infer_channels(out, inp, gamma, beta, movingMean, movingVar, N, C, eps, 0);
}

/** Channels c0 .. C-1 of the inference forward: the scalar twin, and the SIMD kernel's tail. */
// @ts-ignore: decorator
@inline
function forward_infer_channels(
  out: usize,
  inp: usize, gamma: usize, beta: usize, movingMean: usize, movingVar: usize,
  N: i32, C: i32, eps: f32, c0: i32,
): void {
  const rowBytes = <usize>C << 2;
  for (let c = c0; c < C; c++) {
    const off = <usize>c << 2;
    // gamma / sqrt(moving_var + eps) once per channel, so each element costs a sub, a mul, an add.
    const scale = load<f32>(gamma + off) / sqrt<f32>(load<f32>(movingVar + off) + eps);
    const mm = load<f32>(movingMean + off);
    const b = load<f32>(beta + off);
    for (let n = 0; n < N; n++) {
      const at = <usize>n * rowBytes + off;
      store<f32>(out + at, (load<f32>(inp + at) - mm) * scale + b);
    }
  }
}

/**
 * Inference forward: out (N, C) = gamma * (inp - movingMean) / sqrt(movingVar + eps) + beta.
 * inp (N, C), gamma (C), beta (C), movingMean (C), movingVar (C).
 */
export function batchnorm_forward_infer(
  out: usize,
  inp: usize, gamma: usize, beta: usize, movingMean: usize, movingVar: usize,
  N: i32, C: i32, eps: f32,
): void {
  assert(N > 0 && C > 0);
  assert(aligned(out) && aligned(inp) && aligned(gamma) && aligned(beta));
  assert(aligned(movingMean) && aligned(movingVar));
  const rowBytes = <usize>C << 2;
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const off = <usize>c << 2;
    const scale = f32x4.div(
      v128.load(gamma + off),
      f32x4.sqrt(f32x4.add(v128.load(movingVar + off), f32x4.splat(eps))),
    );
    const mm = v128.load(movingMean + off);
    const b = v128.load(beta + off);
    for (let n = 0; n < N; n++) {
      const at = <usize>n * rowBytes + off;
      v128.store(out + at, f32x4.add(f32x4.mul(f32x4.sub(v128.load(inp + at), mm), scale), b));
    }
  }
  forward_infer_channels(out, inp, gamma, beta, movingMean, movingVar, N, C, eps, c);
}

// ---------------------------------------------------------------------------------------------
// Backward (of the training forward)

/**
 * Backward, scalar twin. Writes dinp (N, C) (skipped when dinp is 0), accumulates dgamma (C),
 * dbeta (C); reads dout (N, C), the forward's input inp (N, C), its caches mean (C) and vari (C),
 * gamma (C), and the activation's deriv (N, C) (0: none, dinp is the batch norm's own; header).
 * work (3, C) is the SIMD kernel's scratch; the twin keeps its per-channel values in locals.
 */
export function batchnorm_backward_scalar(
  dinp: usize, dgamma: usize, dbeta: usize, work: usize,
  dout: usize, inp: usize, mean: usize, vari: usize, gamma: usize, deriv: usize,
  N: i32, C: i32, eps: f32,
): void {
  assert(N > 0 && C > 0);
  backward_channels(dinp, dgamma, dbeta, dout, inp, mean, vari, gamma, deriv, N, C, eps, 0);
}

/** Channels c0 .. C-1 of the backward: the scalar twin, and the SIMD kernel's tail. */
// @ts-ignore: decorator
@inline
function backward_channels(
  dinp: usize, dgamma: usize, dbeta: usize,
  dout: usize, inp: usize, mean: usize, vari: usize, gamma: usize, deriv: usize,
  N: i32, C: i32, eps: f32, c0: i32,
): void {
  const rowBytes = <usize>C << 2;
  const fN = <f32>N;
  for (let c = c0; c < C; c++) {
    const off = <usize>c << 2;
    // The forward's mean and invstd (same operations on the cached variance).
    const mu = load<f32>(mean + off);
    const invstd = <f32>1 / sqrt<f32>(load<f32>(vari + off) + eps);
    // The two row sums every gradient needs: sum dout and sum dout * xhat, the latter as invstd
    // times sum dout * (x - mean) (one multiply per channel instead of one per row).
    let sdo: f32 = 0;
    let sdm: f32 = 0;
    for (let n = 0; n < N; n++) {
      const at = <usize>n * rowBytes + off;
      const d = load<f32>(dout + at);
      sdo += d;
      sdm += d * (load<f32>(inp + at) - mu);
    }
    const sdx = sdm * invstd;
    store<f32>(dbeta + off, load<f32>(dbeta + off) + sdo);
    store<f32>(dgamma + off, load<f32>(dgamma + off) + sdx);
    if (dinp == 0) continue;
    // dinp = k (N dout - sdo - xhat sdx) with k = gamma invstd / N: N dout - sdo removes the
    // gradient's component along the mean, xhat sdx its component along xhat (the variance's
    // direction). Expanded per channel as a dout - ks - (x - mean) kx, with a = gamma invstd,
    // ks = k sdo, kx = k sdx invstd, so a row costs 5 operations on 4 per-channel constants.
    // (x - mean) stays one factor: expanding it too would cancel large terms for |mean| >> std.
    const a = load<f32>(gamma + off) * invstd;
    const k = a / fN;
    const ks = k * sdo;
    const kx = k * sdx * invstd;
    for (let n = 0; n < N; n++) {
      const at = <usize>n * rowBytes + off;
      let v = a * load<f32>(dout + at) - ks - (load<f32>(inp + at) - mu) * kx;
      if (deriv != 0) {
        // act_dropout_backward's step: a dead or dropped unit gets exactly 0.
        const d = load<f32>(deriv + at);
        v = d != 0 ? v * d : 0;
      }
      store<f32>(dinp + at, v);
    }
  }
}

/**
 * Backward of the training forward. Writes dinp (N, C) (skipped when dinp is 0), accumulates
 * dgamma (C), dbeta (C), overwrites work (3, C) (scratch); reads dout (N, C), the forward's input
 * inp (N, C), its caches mean (C) and vari (C), gamma (C), and the activation's deriv (N, C)
 * (0: none, dinp is the batch norm's own; header).
 */
export function batchnorm_backward(
  dinp: usize, dgamma: usize, dbeta: usize, work: usize,
  dout: usize, inp: usize, mean: usize, vari: usize, gamma: usize, deriv: usize,
  N: i32, C: i32, eps: f32,
): void {
  assert(N > 0 && C > 0);
  assert(aligned(dinp) && aligned(dgamma) && aligned(dbeta) && work != 0 && aligned(work));
  assert(aligned(dout) && aligned(inp) && aligned(mean) && aligned(vari) && aligned(gamma) && aligned(deriv));
  const rowBytes = <usize>C << 2;
  const G = C >> 2;
  // work's rows are vBytes apart (16-byte aligned whatever C is).
  const vBytes = <usize>G << 4;
  for (let c = 0; c < G; c += 2) {
    const o0 = group(c, G), o1 = group(c + 1, G);
    backward_block(work, vBytes, dgamma, dbeta, dout, inp, mean, vari, gamma, N, rowBytes, eps, o0, o1);
    // One loop per use of deriv, resolved at compile time (a branch per vector spills, dropout.ts).
    if (dinp != 0) {
      if (deriv != 0) backward_walk(dinp, work, vBytes, dout, inp, mean, deriv, true, N, rowBytes, o0, o1);
      else backward_walk(dinp, work, vBytes, dout, inp, mean, deriv, false, N, rowBytes, o0, o1);
    }
  }
  backward_channels(dinp, dgamma, dbeta, dout, inp, mean, vari, gamma, deriv, N, C, eps, G << 2);
}

/** The row sums on two channel groups at byte offsets o0, o1 (see group), and dinp's constants in work. */
// @ts-ignore: decorator
@inline
function backward_block(
  work: usize, vBytes: usize, dgamma: usize, dbeta: usize, dout: usize, inp: usize, mean: usize, vari: usize, gamma: usize,
  N: i32, rowBytes: usize, eps: f32, o0: usize, o1: usize,
): void {
  const vN = f32x4.splat(<f32>N);
  const zero = f32x4.splat(0);
  const mu0 = v128.load(mean + o0), mu1 = v128.load(mean + o1);
  let so0 = zero, so1 = zero;
  let sm0 = zero, sm1 = zero;
  for (let n = 0; n < N; n++) {
    const r = <usize>n * rowBytes;
    const x = inp + r;
    const g = dout + r;
    const e0 = v128.load(g + o0), e1 = v128.load(g + o1);
    so0 = f32x4.add(so0, e0); sm0 = f32x4.add(sm0, f32x4.mul(e0, f32x4.sub(v128.load(x + o0), mu0)));
    so1 = f32x4.add(so1, e1); sm1 = f32x4.add(sm1, f32x4.mul(e1, f32x4.sub(v128.load(x + o1), mu1)));
  }
  const i0 = invstd_f32x4(vari + o0, eps), i1 = invstd_f32x4(vari + o1, eps);
  const sx0 = f32x4.mul(sm0, i0), sx1 = f32x4.mul(sm1, i1);
  // dbeta, dgamma accumulate, so a repeated last group must not add twice.
  add_sums(dbeta + o0, dgamma + o0, so0, sx0);
  if (o1 != o0) add_sums(dbeta + o1, dgamma + o1, so1, sx1);
  store_consts(work + o0, vBytes, v128.load(gamma + o0), i0, so0, sx0, vN);
  store_consts(work + o1, vBytes, v128.load(gamma + o1), i1, so1, sx1, vN);
}

/** The twin's per-channel constants a, ks, kx of dinp into rows 0, 1, 2 (stride bytes apart) at work_g. */
// @ts-ignore: decorator
@inline
function store_consts(work_g: usize, stride: usize, g: v128, i: v128, so: v128, sx: v128, vN: v128): void {
  const a = f32x4.mul(g, i);
  const k = f32x4.div(a, vN);
  v128.store(work_g, a);
  v128.store(work_g + stride, f32x4.mul(k, so));
  v128.store(work_g + 2 * stride, f32x4.mul(f32x4.mul(k, sx), i));
}

/**
 * dinp on the two channel groups at byte offsets o0, o1, walking down the rows with the groups'
 * constants (from work) in registers, times deriv if fused (act_dropout_backward's step).
 */
// @ts-ignore: decorator
@inline
function backward_walk(
  dinp: usize, work: usize, vBytes: usize, dout: usize, inp: usize, mean: usize, deriv: usize, fused: bool,
  N: i32, rowBytes: usize, o0: usize, o1: usize,
): void {
  const zero = f32x4.splat(0);
  const m0 = v128.load(mean + o0), a0 = v128.load(work + o0), ks0 = v128.load(work + vBytes + o0), kx0 = v128.load(work + 2 * vBytes + o0);
  const m1 = v128.load(mean + o1), a1 = v128.load(work + o1), ks1 = v128.load(work + vBytes + o1), kx1 = v128.load(work + 2 * vBytes + o1);
  const end = <usize>N * rowBytes;
  for (let r: usize = 0; r < end; r += rowBytes) {
    let v0 = dinp_terms(v128.load(dout + r + o0), v128.load(inp + r + o0), m0, a0, ks0, kx0);
    let v1 = dinp_terms(v128.load(dout + r + o1), v128.load(inp + r + o1), m1, a1, ks1, kx1);
    if (fused) {
      // act_dropout_backward's step (dropout.ts).
      const d0 = v128.load(deriv + r + o0), d1 = v128.load(deriv + r + o1);
      v0 = v128.and(f32x4.mul(v0, d0), f32x4.ne(d0, zero));
      v1 = v128.and(f32x4.mul(v1, d1), f32x4.ne(d1, zero));
    }
    v128.store(dinp + r + o0, v0);
    v128.store(dinp + r + o1, v1);
  }
}

/** dbeta_g += sdo, dgamma_g += sdx (four channels). */
// @ts-ignore: decorator
@inline
function add_sums(dbeta_g: usize, dgamma_g: usize, sdo: v128, sdx: v128): void {
  v128.store(dbeta_g, f32x4.add(v128.load(dbeta_g), sdo));
  v128.store(dgamma_g, f32x4.add(v128.load(dgamma_g), sdx));
}

/** a dout - ks - (x - mean) kx (see the twin). */
// @ts-ignore: decorator
@inline
function dinp_terms(d: v128, x: v128, mu: v128, a: v128, ks: v128, kx: v128): v128 {
  return f32x4.sub(f32x4.sub(f32x4.mul(a, d), ks), f32x4.mul(f32x4.sub(x, mu), kx));
}

// ---------------------------------------------------------------------------------------------
// Moving statistics

/** The moving statistics' flush threshold, 2^-100 (header, "No subnormals"). */
const MOVING_TINY: f32 = 7.888609052210118e-31;

/** x, or +0 where |x| < MOVING_TINY. */
// @ts-ignore: decorator
@inline
function flush_moving(x: f32): f32 {
  return abs<f32>(x) < MOVING_TINY ? 0 : x;
}

/** flush_moving on four lanes: the same bits. */
// @ts-ignore: decorator
@inline
function flush_moving_f32x4(v: v128): v128 {
  return v128.andnot(v, f32x4.lt(f32x4.abs(v), f32x4.splat(MOVING_TINY)));
}

/**
 * Moving statistics update, scalar twin. movingMean (C), movingVar (C) updated in place from the
 * batch caches mean (C), vari (C).
 */
export function batchnorm_update_moving_scalar(
  movingMean: usize, movingVar: usize, mean: usize, vari: usize, C: i32, momentum: f32,
): void {
  assert(C > 0);
  update_moving_channels(movingMean, movingVar, mean, vari, C, momentum, 0);
}

/** Channels c0 .. C-1 of the moving update: the scalar twin, and the SIMD kernel's tail. */
// @ts-ignore: decorator
@inline
function update_moving_channels(
  movingMean: usize, movingVar: usize, mean: usize, vari: usize, C: i32, momentum: f32, c0: i32,
): void {
  // Keras 3: moving.assign(moving * momentum + batch * (1 - momentum)), in that operation order,
  // then flushed below 2^-100 (header).
  const rest = <f32>1 - momentum;
  for (let c = c0; c < C; c++) {
    const off = <usize>c << 2;
    store<f32>(movingMean + off, flush_moving(load<f32>(movingMean + off) * momentum + load<f32>(mean + off) * rest));
    store<f32>(movingVar + off, flush_moving(load<f32>(movingVar + off) * momentum + load<f32>(vari + off) * rest));
  }
}

/**
 * Moving statistics update: moving = momentum * moving + (1 - momentum) * batch for
 * movingMean (C) from mean (C) and movingVar (C) from vari (C) (the biased batch variance), each
 * flushed to 0 below 2^-100.
 */
export function batchnorm_update_moving(
  movingMean: usize, movingVar: usize, mean: usize, vari: usize, C: i32, momentum: f32,
): void {
  assert(C > 0);
  assert(aligned(movingMean) && aligned(movingVar) && aligned(mean) && aligned(vari));
  const mom = f32x4.splat(momentum);
  const rest = f32x4.splat(<f32>1 - momentum);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const off = <usize>c << 2;
    v128.store(movingMean + off, flush_moving_f32x4(f32x4.add(
      f32x4.mul(v128.load(movingMean + off), mom), f32x4.mul(v128.load(mean + off), rest))));
    v128.store(movingVar + off, flush_moving_f32x4(f32x4.add(
      f32x4.mul(v128.load(movingVar + off), mom), f32x4.mul(v128.load(vari + off), rest))));
  }
  update_moving_channels(movingMean, movingVar, mean, vari, C, momentum, c);
}
