#!/usr/bin/env bash
# Runs the whole test suite: Swift tests (kernels, gradients, model file, preprocessing, training,
# recognition accuracy on the committed fixtures, the C ABI from a C program, the ZeroMQ worker over
# real sockets), the Python binding's tests (engine and client) and the C binding's checks.
# Run scripts/setup.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product hwr
swift build -c release --product hwr-cli
swift build -c release --product hwrPackageTests   # the test bundle only: --build-tests would also build every tool of every dependency
swift test -c release --skip-build
if [ -d bindings/python/tests ]; then
    python3 -m pip install -q --disable-pip-version-check "./bindings/python[test]"
    HWR_LIBRARY="$PWD/.build/release/libhwr.so" HWR_MODEL="$PWD/models/hwr-char.hwrm" \
        python3 -m pytest -q bindings/python/tests
fi
if [ -f bindings/c/Makefile ]; then
    make -C bindings/c test
fi
