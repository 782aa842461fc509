// The demo's training worker: all of it is the library's helper.
import { serveTraining } from "mdn-wasm/worker";

serveTraining();
