#!/usr/bin/env bash
# Installs a release build under PREFIX (default /usr/local):
#   PREFIX/lib/libhwr.so.VERSION with the links libhwr.so.1 (its SONAME: the ABI version) and
#   libhwr.so, PREFIX/include/hwr.h, PREFIX/bin/hwr,
#   PREFIX/share/hwr/models/hwr-{char,line,text}.hwrm, PREFIX/lib/pkgconfig/hwr.pc
# The library and the tool find the model in PREFIX/share/hwr/models by themselves.
# DESTDIR=DIR stages the same tree under DIR (DIR/PREFIX/...) for a package (scripts/build-deb.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
DEST="${DESTDIR:-}$PREFIX"
SUDO=""
mkdir -p "$DEST" 2>/dev/null || true
if [ ! -w "$DEST" ] && [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
VERSION=$(sed -n 's/^#define HWR_VERSION_STRING "\(.*\)"$/\1/p' include/hwr.h)
ABI=$(sed -n 's/^#define HWR_ABI_VERSION \([0-9]*\)$/\1/p' include/hwr.h)
$SUDO install -D -m 0755 .build/release/libhwr.so "$DEST/lib/libhwr.so.$VERSION"
$SUDO ln -sfn "libhwr.so.$VERSION" "$DEST/lib/libhwr.so.$ABI"
$SUDO ln -sfn "libhwr.so.$ABI" "$DEST/lib/libhwr.so"
$SUDO install -D -m 0644 include/hwr.h "$DEST/include/hwr.h"
$SUDO install -D -m 0755 .build/release/hwr-cli "$DEST/bin/hwr"
# Every shipped model: the float defaults and their int8 copies (hwr quantize).
for model in models/*.hwrm; do
    $SUDO install -D -m 0644 "$model" "$DEST/share/hwr/models/$(basename "$model")"
done
if [ -f bindings/c/hwr.pc.in ]; then
    # hwr.pc.in with the prefix and the header's HWR_VERSION_STRING filled in
    make -s -C bindings/c pc PREFIX="$PREFIX" >/dev/null
    $SUDO install -D -m 0644 bindings/c/build/hwr.pc "$DEST/lib/pkgconfig/hwr.pc"
fi
if [ -z "${DESTDIR:-}" ] && command -v ldconfig >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then ldconfig; fi
echo "installed hwr under $DEST"
