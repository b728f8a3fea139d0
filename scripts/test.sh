#!/usr/bin/env bash
# Runs the whole test suite: Swift tests (kernels, gradients, model file, preprocessing, training,
# recognition accuracy on the committed fixtures, the C ABI from a C program, the ZeroMQ worker over
# real sockets), the Python binding's tests (engine and client) and the C binding's checks.
# Run scripts/setup.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product hwr
# libhwr.so's SONAME is libhwr.so.<ABI>: what programs linked with -lhwr look for at run time.
ln -sfn libhwr.so .build/release/libhwr.so.1
swift build -c release --product hwr-cli
swift build -c release --product hwrPackageTests   # the test bundle only: --build-tests would also build every tool of every dependency
swift test -c release --skip-build
# The fuzz targets (Tests/HWRFuzzTests: image decoding, model loading, worker requests, constrained
# decoding), each for HWR_FUZZ_SECONDS of mutated inputs (60 by default); a crash or a hang fails.
HWR_FUZZ_SECONDS="${HWR_FUZZ_SECONDS:-60}" swift test -c release --skip-build --filter HWRFuzzTests
# The single-image path (decoded pixels to probabilities) allocates nothing once warm: counted with
# a preloaded malloc counter over 1,000 calls (a count, not a timing).
make -s -C Benchmarks malloc-count
allocations=$(LD_PRELOAD="$PWD/Benchmarks/build/libmalloc_count.so" .build/release/hwr-cli bench --only char_core_b1_t1 \
    --threads 1 --seconds 0.2 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["char_core_b1_allocations_per_call"])')
echo "allocations per warm single-image call: $allocations"
python3 -c "import sys; sys.exit(0 if float('$allocations') == 0 else 1)" || { echo "the single-image path allocates" >&2; exit 1; }
bindings/regenerate-proto.sh --check   # the committed Python and C code of proto/hwr.proto is current
if [ -d bindings/python/tests ]; then
    python3 -m pip install -q --disable-pip-version-check "./bindings/python[test]"
    HWR_LIBRARY="$PWD/.build/release/libhwr.so" HWR_MODEL="$PWD/models/hwr-char.hwrm" \
        python3 -m pytest -q bindings/python/tests
fi
if [ -f bindings/c/Makefile ]; then
    make -C bindings/c test
fi
