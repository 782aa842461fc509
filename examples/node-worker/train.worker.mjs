// The training side of examples/node-worker/main.mjs: a worker_threads script.
// #region worker
import { parentPort } from "node:worker_threads";
import { serveTraining } from "mdn-wasm/worker";

if (!parentPort) throw new Error("run this file as a worker_threads Worker");
serveTraining(parentPort); // trains each request it receives, reporting every epoch
// #endregion
