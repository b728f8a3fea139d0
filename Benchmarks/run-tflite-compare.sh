#!/bin/sh
# hwr against TensorFlow Lite (XNNPACK) on the same character CRNN, alternating in the same minutes
# (not a test): ROUNDS rounds of `hwr bench --only char_net` (the network alone, from normalised
# inputs, fp32 and int8) and Benchmarks/tflite_compare.py (fp32 and int8), each printed as one JSON
# line. Only ratios within one run mean anything on a shared machine.
#
#   Benchmarks/run-tflite-compare.sh          # needs ~/tflite-venv (see Benchmarks/README.md)
#
# Environment: ROUNDS (3), SECONDS_PER_MEASUREMENT (2), HWR_CLI, TFLITE_PYTHON.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${HWR_CLI:-$ROOT/.build/release/hwr-cli}
PY=${TFLITE_PYTHON:-$HOME/tflite-venv/bin/python}
cd "$ROOT"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "${ROUNDS:-3}"); do
    echo "round $round hwr: $("$CLI" bench --only char_net --seconds "${SECONDS_PER_MEASUREMENT:-2}" --json)"
    echo "round $round tflite: $("$PY" Benchmarks/tflite_compare.py --seconds "${SECONDS_PER_MEASUREMENT:-2}" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: v for k, v in d.items() if k.endswith(("_ms", "_img_per_s")) or k == "tensorflow_version"}))')"
done
