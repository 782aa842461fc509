# PyTorch side of the end-to-end comparison, run in its own process by bench/run.mjs when python3
# can import torch (it is not a dependency: `pip install torch` to include it):
#   python3 bench/e2e/pytorch.py '{"data": "<dir from bench/e2e/data.mjs>", "threads": 1, "quick": false}'
# -> one JSON line on stdout with the same keys as bench/e2e/mdn.mjs.
# The same model as mdn-wasm: Linear -> ReLU -> Dropout(0.2) -> BatchNorm1d per hidden layer
# (Keras' momentum 0.99 is PyTorch's 0.01, epsilon 1e-3), one Linear head of P = K + K*D + K
# outputs, Keras initialisation (Glorot-uniform kernels, zero biases), Adam, and the isotropic
# mixture NLL in log space (log-softmax, log-sum-exp, log sigma = max(s, log floor)).
import json
import math
import sys
import time

import numpy as np
import torch

opts = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
quick = bool(opts.get("quick"))
torch.set_num_threads(int(opts.get("threads", 1)))
torch.manual_seed(0)
meta = json.load(open(f"{opts['data']}/shapes.json"))
FLOOR = 1e-4
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def rows(name):
    s = meta["shapes"][name]
    x = np.fromfile(f"{opts['data']}/{name}.x.f32", dtype=np.float32).reshape(s["rows"], s["inputDim"])
    y = np.fromfile(f"{opts['data']}/{name}.y.f32", dtype=np.float32).reshape(s["rows"], s["outputDim"])
    return torch.from_numpy(x), torch.from_numpy(y)


def build(w):
    layers, fan_in = [], w["inputDim"]
    for units in w["hidden"]:
        layers += [torch.nn.Linear(fan_in, units), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.BatchNorm1d(units, eps=1e-3, momentum=0.01)]
        fan_in = units
    K, D = w["components"], w["outputDim"]
    layers.append(torch.nn.Linear(fan_in, K + K * D + K))
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return model


def nll(a, y, K, D):
    logits = a[:, :K]
    mu = a[:, K : K + K * D].reshape(-1, K, D)
    log_sigma = torch.clamp(a[:, K + K * D :], min=math.log(FLOOR))
    z = ((y[:, None, :] - mu) ** 2).sum(2) * torch.exp(-2 * log_sigma)
    log_n = -D * log_sigma - D * HALF_LOG_2PI - 0.5 * z
    return -torch.logsumexp(torch.log_softmax(logits, 1) + log_n, 1).mean()


def epoch(model, opt, x, y, batch, K, D):
    model.train()
    order = torch.randperm(x.shape[0])
    for start in range(0, x.shape[0], batch):
        idx = order[start : start + batch]
        opt.zero_grad(set_to_none=True)
        loss = nll(model(x[idx]), y[idx], K, D)
        loss.backward()
        opt.step()


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def stats(xs):
    return {"median": median(xs), "min": min(xs), "max": max(xs)}


out = {"threads": torch.get_num_threads(), "version": torch.__version__}

# W1: the seed's fit, 20% validation (the last rows), validation loss every epoch.
seed, f = meta["SEED"], meta["SEED"]["fit"]
x, y = rows("seed")
n_train = int(math.floor(x.shape[0] * (1 - f["validationSplit"])))
K, D = seed["components"], seed["outputDim"]
seed_w = dict(seed, hidden=seed["hidden"])


def w1():
    model = build(seed_w)
    opt = torch.optim.Adam(model.parameters(), lr=f["lr"], betas=(f["beta1"], f["beta2"]), eps=f["epsilon"])
    t0 = time.perf_counter()
    for _ in range(f["epochs"]):
        epoch(model, opt, x[:n_train], y[:n_train], f["batchSize"], K, D)
        model.eval()
        with torch.no_grad():
            nll(model(x[n_train:]), y[n_train:], K, D).item()
    return (time.perf_counter() - t0) * 1e3, model


w1()  # warm-up
fits = [w1() for _ in range(3 if quick else 10)]
out["w1"] = {"fitMs": stats([ms for ms, _ in fits])}
model = fits[-1][1]
model.eval()
one = x[:1]
reps, samples = 2000, []
with torch.no_grad():
    for _ in range(20):
        a = model(one)
    for _ in range(30 if quick else 100):
        t0 = time.perf_counter()
        for _ in range(reps):
            a = model(one)
            pi = torch.softmax(a[:, :K], 1).numpy()
            mu = a[:, K : K + K * D].numpy()
            sigma = torch.clamp(torch.exp(a[:, K + K * D :]), min=FLOOR).numpy()
        samples.append((time.perf_counter() - t0) / reps * 1e6)
out["predict1"] = {"us": stats(samples)}


def train_rate(name, epochs):
    w = meta[name.upper()]
    x, y = rows(name)
    model = build(w)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    K, D = w["components"], w["outputDim"]
    epoch(model, opt, x[: 16 * w["batchSize"]], y[: 16 * w["batchSize"]], w["batchSize"], K, D)  # warm-up
    rates = []
    for _ in range(2 if quick else 3):
        t0 = time.perf_counter()
        for _ in range(epochs):
            epoch(model, opt, x, y, w["batchSize"], K, D)
        rates.append(x.shape[0] * epochs / (time.perf_counter() - t0))
    return model, x, stats(rates)


model, x2, rate = train_rate("w2", 1)
out["w2"] = {"trainRowsPerS": rate}
B = meta["W2"]["predictBatch"]
xb = x2[:B]
model.eval()
times = []
with torch.no_grad():
    for _ in range(5):
        a = model(xb).numpy()
    for _ in range(20 if quick else 60):
        t0 = time.perf_counter()
        a = model(xb)
        K2, D2 = meta["W2"]["components"], meta["W2"]["outputDim"]
        pi = torch.softmax(a[:, :K2], 1).numpy()
        sigma = torch.clamp(torch.exp(a[:, K2 + K2 * D2 :]), min=FLOOR).numpy()
        times.append(time.perf_counter() - t0)
out["w2"]["predictRowsPerS"] = {"median": B / median(times), "min": B / max(times), "max": B / min(times)}
out["w3"] = {"trainRowsPerS": train_rate("w3", 1 if quick else 2)[2]}
out["w3b"] = {"trainRowsPerS": train_rate("w3b", 1 if quick else 2)[2]}
print(json.dumps(out))
