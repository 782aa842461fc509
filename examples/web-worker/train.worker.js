// The training side of examples/web-worker/main.js: a module worker.
// #region worker
import { serveTraining } from "mdn-wasm/worker";

serveTraining(); // trains each request it receives, reporting every epoch
// #endregion
