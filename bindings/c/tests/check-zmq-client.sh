#!/bin/sh
# Starts `hwr-cli worker` on a free loopback port, runs the zmq_client example against it and
# checks its behaviour and output, then stops the worker (SIGTERM: it must exit 0).
#   tests/check-zmq-client.sh BUILD_DIR/zmq_client HWR_CLI FIXTURES_DIR
# FIXTURES_DIR is the checkout's Tests/Fixtures (formats/K.jpg, lines/word-000.png).
set -u
exe=$1
cli=$2
fixtures=$3
tmp=$(mktemp -d)
worker_pid=
cleanup() {
    if [ -n "$worker_pid" ]; then kill -TERM "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
error() { echo "check-zmq-client: FAIL: $*" >&2; fail=1; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || awk 'BEGIN { srand(); print 20000 + int(rand() * 40000) }'
}

# 1. Start the worker and wait until it answers a health check (model loading takes a moment).
ready=0
for try in 1 2 3; do
    endpoint="tcp://127.0.0.1:$(free_port)"
    "$cli" worker --bind "$endpoint" --threads 1 >"$tmp/worker.log" 2>&1 &
    worker_pid=$!
    i=0
    while [ $i -lt 120 ]; do
        kill -0 "$worker_pid" 2>/dev/null || break
        if "$exe" -e "$endpoint" -t 500 -H >"$tmp/out" 2>/dev/null; then ready=1; break; fi
        i=$((i + 1))
    done
    [ $ready -eq 1 ] && break
    kill -TERM "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null; worker_pid=
done
if [ $ready -ne 1 ]; then
    echo "check-zmq-client: FAIL: the worker did not come up; its output:" >&2
    cat "$tmp/worker.log" >&2
    exit 1
fi
grep -qx "status: OK" "$tmp/out" && grep -qx "serving: yes" "$tmp/out" || error "health output: $(cat "$tmp/out")"

# field NAME FILE: the value of "NAME: value" in FILE.
field() { sed -n "s/^$1: //p" "$2"; }
prob_ok() { printf '%s\n' "$1" | grep -Eq '^(0\.[0-9]{4}|1\.0000)$'; }

# 2. A character: K.jpg reads K, 5 alternatives by default (K first), probabilities with 4 decimals.
"$exe" -e "$endpoint" "$fixtures/formats/K.jpg" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || error "exit status $rc for K.jpg: $(cat "$tmp/err")"
[ "$(field status "$tmp/out")" = OK ] || error "status of K.jpg: $(cat "$tmp/out")"
[ "$(field text "$tmp/out")" = K ] || error "K.jpg read as '$(field text "$tmp/out")'"
prob_ok "$(field confidence "$tmp/out")" || error "bad confidence: $(cat "$tmp/out")"
alts=$(field alternatives "$tmp/out")
[ "$(printf '%s\n' "$alts" | wc -w)" -eq 5 ] || error "expected 5 alternatives, got '$alts'"
case "$alts" in "K:$(field confidence "$tmp/out") "*) ;; *) error "first alternative is not the text: '$alts'" ;; esac
[ "$(field chars "$tmp/out")" = "K:$(field confidence "$tmp/out")" ] || error "chars: $(cat "$tmp/out")"
[ -s "$tmp/err" ] && error "stderr not empty: $(cat "$tmp/err")"

# 3. Options: -k 3 and a charset.
"$exe" -e "$endpoint" -k 3 -c 0123456789 "$fixtures/formats/K.jpg" >"$tmp/out" 2>"$tmp/err" || error "-k 3 -c: $(cat "$tmp/err")"
field text "$tmp/out" | grep -Eqx '[0-9]' || error "charset not applied: $(cat "$tmp/out")"
[ "$(field alternatives "$tmp/out" | wc -w)" -eq 3 ] || error "-k 3: $(cat "$tmp/out")"

# 3b. The same in long forms (getopt_long).
"$exe" --endpoint "$endpoint" --top-k=3 --charset 0123456789 -- "$fixtures/formats/K.jpg" >"$tmp/out" 2>"$tmp/err" \
    || error "--top-k=3 --charset: $(cat "$tmp/err")"
field text "$tmp/out" | grep -Eqx '[0-9]' && [ "$(field alternatives "$tmp/out" | wc -w)" -eq 3 ] \
    || error "long options not applied: $(cat "$tmp/out")"

# 4. A word in line mode with a lexicon.
word=$fixtures/lines/word-000.png
"$exe" -e "$endpoint" -M line -l NCONSEQUENTIAL -l ECLARING -l UGGING -l OBBLE "$word" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || error "exit status $rc for line mode: $(cat "$tmp/err")"
[ "$(field text "$tmp/out")" = NCONSEQUENTIAL ] || error "word-000.png read as '$(field text "$tmp/out")'"
[ "$(field chars "$tmp/out" | wc -w)" -eq 14 ] || error "expected 14 chars: $(cat "$tmp/out")"

# 5. Not an image: the worker's error, exit status 1.
printf 'not an image' >"$tmp/garbage.png"
"$exe" -e "$endpoint" "$tmp/garbage.png" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || error "exit status $rc for a garbage file, expected 1"
[ "$(field status "$tmp/out")" = DECODE_FAILURE ] || error "garbage file: $(cat "$tmp/out")"
[ -n "$(field message "$tmp/out")" ] || error "no message for the garbage file"

# 5b. Over the worker's message limit: refused before sending (IMAGE_TOO_LARGE, exit 1) at once,
#     whether the limit is the default (a 9 MiB file) or given (-m).
head -c 9437184 /dev/zero >"$tmp/huge.png"
"$exe" -e "$endpoint" -t 60000 "$tmp/huge.png" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && [ "$(field status "$tmp/out")" = IMAGE_TOO_LARGE ] || error "9 MiB file: exit status $rc, $(cat "$tmp/out" "$tmp/err")"
"$exe" -e "$endpoint" -m 100 "$fixtures/formats/K.jpg" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not sent" "$tmp/out" || error "-m 100: exit status $rc, $(cat "$tmp/out" "$tmp/err")"

# 5c. A deadline: a slow constrained decoding of a wide line (seconds of work with 100
#     alternatives and a charset) is answered DEADLINE_EXCEEDED.
"$exe" -e "$endpoint" -M line -k 100 -c alnum -d 200 -t 20000 "$fixtures/worker/wide-line.png" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && [ "$(field status "$tmp/out")" = DEADLINE_EXCEEDED ] || error "-d 200: exit status $rc, $(cat "$tmp/out" "$tmp/err")"

# 6. Usage errors (2), and no reply within the timeout (3) from an endpoint nobody serves.
"$exe" -e "$endpoint" "$tmp/missing.png" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for a missing file, expected 2"
"$exe" -e "$endpoint" -M nonsense "$word" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for a bad mode, expected 2"
"$exe" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc without arguments, expected 2"
"$exe" -e "$endpoint" -k 0 "$word" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for -k 0, expected 2"
"$exe" --no-such-option "$word" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for an unknown option, expected 2"
"$exe" --help >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "^usage: " "$tmp/out" || error "--help: exit status $rc, output: $(cat "$tmp/out")"
start=$(date +%s)
"$exe" -e "tcp://127.0.0.1:$(free_port)" -t 300 "$fixtures/formats/K.jpg" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 3 ] || error "exit status $rc without a worker, expected 3"
grep -q "no reply" "$tmp/err" || error "timeout not reported: $(cat "$tmp/err")"
[ $(($(date +%s) - start)) -le 5 ] || error "the 300 ms timeout took more than 5 s"

# 7. The worker still serves, then stops cleanly on SIGTERM.
"$exe" -e "$endpoint" -H >/dev/null 2>&1 || error "the worker stopped serving"
kill -TERM "$worker_pid"
wait "$worker_pid"; rc=$?
worker_pid=
[ $rc -eq 0 ] || error "the worker exited with status $rc on SIGTERM, expected 0: $(tail -5 "$tmp/worker.log")"

if [ $fail -eq 0 ]; then echo "check-zmq-client: OK"; fi
exit $fail
