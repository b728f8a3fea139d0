#!/usr/bin/env bash
# Tests hwr as it is deployed, on a machine without Swift. Run as root after scripts/setup.sh (CI
# does): builds the wheel and the .deb into dist/, then hides the Swift toolchain (a private mount
# namespace with an empty tmpfs over its folder) and checks
#   1. the installed libhwr.so and hwr (PREFIX, default /usr/local) need nothing from the toolchain;
#   2. C: the example built against the installed header and library, run; the ZeroMQ client example
#      against the installed `hwr worker`; `hwr --version` and `hwr recognize`;
#   3. Python: the wheel in a fresh virtual environment recognises an image, no variable set;
#   4. Debian: the .deb installed with dpkg -i, the service's ExecStart run as its user (no systemd
#      here) answering a request, then the package removed (nothing left but its configuration)
#      and purged (nothing left).
#   PREFIX=/usr/local bash scripts/test-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
VERSION=$(sed -n 's/^#define HWR_VERSION_STRING "\(.*\)"$/\1/p' include/hwr.h)
step() { echo "test-deploy: $*"; }
fail() { echo "test-deploy: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (mount namespace, dpkg)"

if [ -z "${HWR_HIDDEN_TOOLCHAIN:-}" ]; then
    bash scripts/build-wheel.sh dist >/dev/null
    bash scripts/build-deb.sh dist >/dev/null
    swift=$(readlink -f "$(command -v swift)") || fail "no swift toolchain to hide"
    toolchain=$(dirname "$(dirname "$(dirname "$swift")")")   # <toolchain>/usr/bin/swift
    exec unshare --mount --propagation private env HWR_HIDDEN_TOOLCHAIN="$toolchain" bash "$0" "$@"
fi

# ---- inside the namespace: the toolchain is gone --------------------------------------------------
mount -t tmpfs -o size=1m,mode=0755 no-toolchain "$HWR_HIDDEN_TOOLCHAIN"
unset HWR_LIBRARY HWR_MODEL HWR_LINE_MODEL
tmp=$(mktemp -d)
worker=
cleanup() {
    if [ -n "$worker" ]; then kill -TERM "$worker" 2>/dev/null || true; fi
    if dpkg-query -W -f '${Status}' hwr 2>/dev/null | grep -qv not-installed; then dpkg -P hwr >/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
! command -v swift >/dev/null || fail "swift is still reachable"
step "toolchain hidden ($HWR_HIDDEN_TOOLCHAIN)"

# 1. Only Debian's C libraries.
for binary in "$PREFIX/lib/libhwr.so" "$PREFIX/bin/hwr"; do
    ! ldd "$binary" | grep "not found" || fail "$binary needs a library that is not installed"
    ! readelf -d "$binary" | grep -E "R(UN)?PATH.*$HWR_HIDDEN_TOOLCHAIN" || fail "$binary has a run path into the toolchain"
done
step "ldd: $(ldd "$PREFIX/lib/libhwr.so" | awk '$3 ~ /^\// { sub(/.*\//, "", $3); printf "%s ", $3 }')"

# 2. C and the command.
make -s -C bindings/c HWR_PREFIX="$PREFIX" BUILD="$tmp/c" check-example
make -s -C bindings/c HWR_PREFIX="$PREFIX" BUILD="$tmp/c" HWR_CLI="$PREFIX/bin/hwr" check-zmq-client
"$PREFIX/bin/hwr" --version > "$tmp/version"
grep -qx "hwr $VERSION" "$tmp/version" && grep -q "^libhwr $VERSION " "$tmp/version" \
    && grep -q "^hwr-char " "$tmp/version" && grep -q "^hwr-line " "$tmp/version" && grep -q "/hwr-text.hwrm$" "$tmp/version" || fail "hwr --version: $(cat "$tmp/version")"
[ "$("$PREFIX/bin/hwr" recognize Tests/Fixtures/formats/K.jpg | cut -f2)" = K ] || fail "hwr recognize did not read K"
step "C example, worker, hwr --version and hwr recognize: OK"

# 3. Python: the wheel alone.
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check --no-index dist/hwr-"$VERSION"-*.whl
image=$PWD/Tests/Fixtures/formats/K.jpg
(cd "$tmp" && "$tmp/venv/bin/python" - "$image" "$tmp/venv" <<'EOF'
import sys, hwr
engine = hwr.Engine()
assert hwr.library_path().startswith(sys.argv[2]), hwr.library_path()
assert engine.line_model_path is not None and engine.line_model_path.startswith(sys.argv[2])
text = engine.recognize_char(open(sys.argv[1], "rb").read()).text
assert text == "K", text
EOF
) || fail "the wheel did not recognise K"
step "wheel in a fresh venv: OK"

# 4. The Debian package and its service.
deb=$(ls dist/hwr_"$VERSION"_*.deb)
dpkg -i "$deb" >/dev/null
unit=/lib/systemd/system/hwr-worker.service
getent passwd "$(sed -n 's/^User=//p' "$unit")" >/dev/null || fail "no service user"
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|^HWR_WORKER_BIND=.*|HWR_WORKER_BIND=tcp://127.0.0.1:$port|" /etc/hwr/worker.conf
# ExecStart with the EnvironmentFile's variables, as systemd expands them, run as User= with no new
# privileges (setpriv executes it, so that SIGTERM reaches the worker itself).
read -r -a command <<< "$(set -a; . /etc/hwr/worker.conf; eval "echo $(sed -n 's/^ExecStart=//p' "$unit")")"
user=$(sed -n 's/^User=//p' "$unit")
setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- "${command[@]}" 2> "$tmp/service.log" &
worker=$!
client=$tmp/c/zmq_client
for _ in $(seq 120); do "$client" -e "tcp://127.0.0.1:$port" -t 500 -H >/dev/null 2>&1 && break; done
"$client" -e "tcp://127.0.0.1:$port" Tests/Fixtures/formats/K.jpg > "$tmp/reply" || { cat "$tmp/service.log" >&2; fail "the service did not answer"; }
grep -qx "text: K" "$tmp/reply" || fail "the service read: $(cat "$tmp/reply")"
kill -TERM "$worker"; wait "$worker" || fail "the service did not exit 0 on SIGTERM"; worker=
step "dpkg -i, the service's command answered: OK"

dpkg -r hwr >/dev/null
for gone in /usr/bin/hwr /usr/lib/libhwr.so.1 /usr/include/hwr.h /usr/share/hwr "$unit"; do
    [ ! -e "$gone" ] || fail "$gone is left after dpkg -r"
done
! getent passwd hwr >/dev/null || fail "the service user is left after dpkg -r"
dpkg -P hwr >/dev/null
[ ! -e /etc/hwr ] || fail "/etc/hwr is left after dpkg -P"
step "dpkg -r and -P leave nothing: OK"
