#!/usr/bin/env bash
# Sets up hwr on a fresh Debian machine with Swift: installs the C libraries it links (OpenBLAS,
# libpng, libjpeg-turbo, libexif, zlib, libzmq, protobuf-c, libcurl), the protobuf compilers the tests
# use (protoc, protoc-c: bindings/regenerate-proto.sh --check) and the packaging tools
# (dpkg-dev, adduser: scripts/build-deb.sh, scripts/test-deploy.sh), builds the
# library and the command-line tool in release mode, and installs them (see scripts/install.sh).
#   PREFIX=/usr/local (default) bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libopenblas-dev libpng-dev libjpeg62-turbo-dev libexif-dev zlib1g-dev libzmq3-dev \
        libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libcurl4 pkg-config make gcc g++ python3-pip \
        python3-venv dpkg-dev adduser >/dev/null
fi
swift build -c release --product hwr
swift build -c release --product hwr-cli
bash scripts/install.sh "${PREFIX:-/usr/local}"
