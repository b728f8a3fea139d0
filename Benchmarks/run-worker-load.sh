#!/bin/sh
# Load benchmark of `hwr worker` (not a test): builds Benchmarks/build/worker_load, starts a worker
# on a free loopback port, runs the scenarios below, prints one result line per scenario and a JSON
# summary, then stops the worker.
#
#   Benchmarks/run-worker-load.sh
#
# Scenarios (8 client threads, each with its own DEALER socket; every request has a unique
# request_id and every reply is counted, so lost and duplicated replies are reported):
#   echo-max    the generator alone, against an echo ROUTER (worker_load --echo-server): its own
#               ceiling and CPU cost, to show it is not the bottleneck
#   char-max    single characters (Tests/Fixtures/formats/K.jpg), closed loop, WINDOW in flight per
#               client: the worker's maximum throughput
#   char-half   single characters, open loop at half of char-max's throughput: latency p50/p90/p99
#   char-1500   single characters, open loop at 1500 requests/s (half of the 3000/s target)
#   words       a word image (Tests/Fixtures/lines/word-000.png), line mode, closed loop
#   pages       a 6-line note (Benchmarks/fixtures/note-6-lines-1600x1200.jpg), page mode, closed
#               loop, 4 clients with one request in flight each
#
# Targets: >= 3000 single-character requests/s with one worker on a 2-core machine, p99 < 10 ms at
# 1500/s, zero lost and zero duplicated replies. The figures depend on what else runs on the
# machine: the script prints the load average and the busiest processes first.
#
# Environment: HWR_CLI (default .build/release/hwr-cli), WORKER_THREADS (worker --threads,
# default 2), CLIENTS (8), WINDOW (4), CHAR_REQUESTS (20000), RATE_SECONDS (10: length of the
# open-loop runs), WORD_REQUESTS (1000), PAGE_REQUESTS (100), OUT (JSON summary file, default
# Benchmarks/build/worker-load.json), WORKER_ARGS (more worker options).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CLI=${HWR_CLI:-$ROOT/.build/release/hwr-cli}
WORKER_THREADS=${WORKER_THREADS:-2}
CLIENTS=${CLIENTS:-8}
WINDOW=${WINDOW:-4}
CHAR_REQUESTS=${CHAR_REQUESTS:-20000}
RATE_SECONDS=${RATE_SECONDS:-10}
WORD_REQUESTS=${WORD_REQUESTS:-1000}
PAGE_REQUESTS=${PAGE_REQUESTS:-100}
OUT=${OUT:-$HERE/build/worker-load.json}
CHAR=$ROOT/Tests/Fixtures/formats/K.jpg
WORD=$ROOT/Tests/Fixtures/lines/word-000.png
PAGE=$ROOT/Benchmarks/fixtures/note-6-lines-1600x1200.jpg
LOAD=$HERE/build/worker_load

make -s -C "$HERE" all
"$CLI" worker --help >/dev/null 2>&1 || { echo "run-worker-load: $CLI has no worker subcommand (swift build -c release)" >&2; exit 1; }

tmp=$(mktemp -d)
worker_pid=
echo_pid=
cleanup() {
    for pid in $worker_pid $echo_pid; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || awk 'BEGIN { srand(); print 20000 + int(rand() * 40000) }'
}

# Waits until ENDPOINT answers one request (at most 60 s).
wait_ready() {
    i=0
    while [ $i -lt 60 ]; do
        if "$LOAD" --endpoint "$1" --image "$CHAR" --clients 1 --requests 1 --drain-ms 1000 --label probe >/dev/null 2>&1; then
            return 0
        fi
        [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
        i=$((i + 1))
    done
    return 1
}

# run LABEL ARGS...: runs one scenario; prints its line(s), keeps its JSON.
run() {
    label=$1
    shift
    "$LOAD" --label "$label" "$@" >"$tmp/$label.out" 2>"$tmp/$label.err" || true
    grep -v '^JSON ' "$tmp/$label.out" || true
    if ! grep -q '^JSON ' "$tmp/$label.out"; then
        echo "$label: no result: $(cat "$tmp/$label.err")" >&2
        return 1
    fi
    sed -n 's/^JSON //p' "$tmp/$label.out" >"$tmp/$label.json"
}
json_number() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$tmp/$1.json"; }

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== busiest processes before the run:"
ps -eo pcpu,etime,args --sort=-pcpu | sed -n '2,6p' | cut -c1-150

# 1. The generator alone.
echo_endpoint="tcp://127.0.0.1:$(free_port)"
"$LOAD" --echo-server "$echo_endpoint" 2>"$tmp/echo.log" &
echo_pid=$!
wait_ready "$echo_endpoint" "$echo_pid" || { echo "run-worker-load: the echo server did not start: $(cat "$tmp/echo.log")" >&2; exit 1; }
run echo-max --endpoint "$echo_endpoint" --image "$CHAR" --clients "$CLIENTS" --window 8 --requests 100000 --expect K
kill -TERM "$echo_pid"; wait "$echo_pid" 2>/dev/null || true; echo_pid=

# 2. The worker.
endpoint="tcp://127.0.0.1:$(free_port)"
# shellcheck disable=SC2086
"$CLI" worker --bind "$endpoint" --threads "$WORKER_THREADS" ${WORKER_ARGS:-} >"$tmp/worker.log" 2>&1 &
worker_pid=$!
wait_ready "$endpoint" "$worker_pid" || { echo "run-worker-load: the worker did not start:" >&2; cat "$tmp/worker.log" >&2; exit 1; }
echo "== worker: $CLI worker --bind $endpoint --threads $WORKER_THREADS ${WORKER_ARGS:-}"

run char-warmup --endpoint "$endpoint" --image "$CHAR" --clients "$CLIENTS" --window "$WINDOW" --requests 2000 >/dev/null
run char-max --endpoint "$endpoint" --image "$CHAR" --clients "$CLIENTS" --window "$WINDOW" --requests "$CHAR_REQUESTS" \
    --expect K --max-seconds 120
max=$(json_number char-max ok_throughput)
half=$(awk -v m="$max" 'BEGIN { r = int(m / 2); if (r < 10) r = 10; print r }')
run char-half --endpoint "$endpoint" --image "$CHAR" --clients "$CLIENTS" --rate "$half" \
    --requests "$(awk -v r="$half" -v s="$RATE_SECONDS" 'BEGIN { print int(r * s) }')" --expect K --max-seconds 120
run char-1500 --endpoint "$endpoint" --image "$CHAR" --clients "$CLIENTS" --rate 1500 \
    --requests "$((1500 * RATE_SECONDS))" --expect K --max-seconds 120
run words --endpoint "$endpoint" --image "$WORD" --mode line --clients "$CLIENTS" --window 2 \
    --requests "$WORD_REQUESTS" --max-seconds 120
run pages --endpoint "$endpoint" --image "$PAGE" --mode page --clients 4 --window 1 \
    --requests "$PAGE_REQUESTS" --max-seconds 300

kill -TERM "$worker_pid"
wait "$worker_pid" && worker_rc=0 || worker_rc=$?
worker_pid=
echo "== worker stopped (exit status $worker_rc); load average now $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$(dirname "$OUT")"
{
    printf '{"machine":{"cores":%s,"loadavg_end":"%s","date":"%s"},"worker":{"threads":%s,"exit_status":%s},"scenarios":[' \
        "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$WORKER_THREADS" "$worker_rc"
    sep=
    for s in echo-max char-max char-half char-1500 words pages; do
        printf '%s%s' "$sep" "$(cat "$tmp/$s.json")"
        sep=,
    done
    printf ']}\n'
} >"$OUT"
echo "== JSON summary ($OUT):"
cat "$OUT"
