#!/usr/bin/env bash
# Builds the Debian package hwr_VERSION_ARCH.deb (dpkg-deb), after a release build of both products:
#   bash scripts/build-deb.sh [OUTDIR]        (default dist/)
# It holds what scripts/install.sh installs under /usr (libhwr.so with its SONAME link, hwr.h,
# hwr.pc, the hwr command, the models; binaries stripped) and the worker as a systemd service:
# /lib/systemd/system/hwr-worker.service, its settings in /etc/hwr/worker.conf, its own user made by
# the postinst (packaging/deb/). Depends are what dpkg-shlibdeps finds the binaries link, plus adduser.
#   apt-get install ./dist/hwr_*.deb && systemctl enable --now hwr-worker
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
VERSION=$(sed -n 's/^#define HWR_VERSION_STRING "\(.*\)"$/\1/p' include/hwr.h)
ARCH=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/hwr"

DESTDIR="$root" bash scripts/install.sh /usr >/dev/null
strip --strip-unneeded "$root/usr/lib/libhwr.so.$VERSION" "$root/usr/bin/hwr"
install -D -m 0644 packaging/deb/hwr-worker.service "$root/lib/systemd/system/hwr-worker.service"
install -D -m 0644 packaging/deb/worker.conf "$root/etc/hwr/worker.conf"
install -d "$root/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
install -m 0644 packaging/deb/conffiles packaging/deb/triggers "$root/DEBIAN/"

# Depends: the packages of the shared libraries the binaries need (dpkg-shlibdeps reads a source
# package's debian/control, hence the stub).
mkdir -p "$work/debian" && echo "Source: hwr" > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -e"$root/usr/bin/hwr" -e"$root/usr/lib/libhwr.so.$VERSION" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
test -n "$depends" || { echo "dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
    packaging/deb/control > "$root/DEBIAN/control"

dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/hwr_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/hwr_${VERSION}_${ARCH}.deb"
