#!/bin/sh
# The command line on a CSV file: train, evaluate, predict, sample, export, info. Run it from the
# folder where mdn-wasm is installed (npx finds its bin there); it writes its files into the
# current folder: clusters.csv, model.mdn (+ model.mdn.json), means.csv, samples.csv, model.onnx.
# Run: sh examples/cli/run.sh
set -eu
node "$(dirname "$0")/make-csv.mjs"
# #region cli
npx mdn-wasm train clusters.csv --x x1,x2 --y y1,y2 --components 4 --epochs 64 --batch-size 64 --seed 0 --out model.mdn
npx mdn-wasm evaluate model.mdn clusters.csv --labels cluster   # mean NLL, ARI and NMI
npx mdn-wasm predict model.mdn clusters.csv --what mean --out means.csv
npx mdn-wasm sample model.mdn clusters.csv --n 3 --seed 1 --out samples.csv
npx mdn-wasm export model.mdn --onnx model.onnx                 # for onnxruntime
npx mdn-wasm info model.mdn
# #endregion
head -3 means.csv samples.csv
