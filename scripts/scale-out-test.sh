#!/usr/bin/env bash
# Scale-out test on separate network hosts: network namespaces made here (`ip netns`, needs root),
# a broker on one, three workers on three others, a client load through the broker from the host;
# one worker is killed with kill -9 mid-load and restarted. Checks that every request gets exactly
# one answer, the right one (none lost, none answered twice), and reports requests per second with
# one, two and three workers.
#   scripts/scale-out-test.sh [SECONDS_PER_RUN]      (default 10)
# Needs .build/release/hwr-cli and the Python binding with its client extra (pyzmq, protobuf).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
CLI=$PWD/.build/release/hwr-cli
[ -x "$CLI" ] || { echo "scale-out: $CLI not built" >&2; exit 1; }
ip netns add hwr-probe-$$ 2>/dev/null && ip netns del hwr-probe-$$ || { echo "scale-out: ip netns not available (root needed)" >&2; exit 1; }

NS=(hwr-broker hwr-w1 hwr-w2 hwr-w3)
ADDR=(10.77.0.1 10.77.0.11 10.77.0.12 10.77.0.13)
BRIDGE=hwr-br0
LOG=$(mktemp -d)
declare -A PIDS=()
PYTHON=${PYTHON:-python3}
cleanup() {
    # The processes started here, by their ids: those still in the namespaces made here.
    for ns in "${NS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    rm -rf "$LOG"
}
trap cleanup EXIT

# A bridge on the host (10.77.0.254), one namespace per host joined to it by a veth pair.
ip link add "$BRIDGE" type bridge
ip addr add 10.77.0.254/24 dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in "${!NS[@]}"; do
    ns=${NS[$i]}
    ip netns add "$ns"
    ip link add "v-$ns" type veth peer name eth0 netns "$ns"
    ip link set "v-$ns" master "$BRIDGE" up
    ip -n "$ns" addr add "${ADDR[$i]}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
done

FRONTEND=tcp://10.77.0.1:5555
BACKEND=tcp://10.77.0.1:5556
ip netns exec hwr-broker "$CLI" broker --frontend "$FRONTEND" --backend "$BACKEND" 2>"$LOG/broker.log" &
PIDS[broker]=$!
start_worker() {  # start_worker N: a worker on namespace hwr-wN
    ip netns exec "hwr-w$1" "$CLI" worker --connect "$BACKEND" --threads 1 --log-level warning 2>>"$LOG/w$1.log" &
    PIDS[w$1]=$!
}

# load SECONDS KILL: closed-loop clients through the broker for SECONDS; with KILL=1, worker 1 is
# killed with kill -9 a third of the way in and restarted a third later. Prints the figures and
# fails when a request was lost (no answer after the client's retries), answered wrongly, or when
# any call returned more than one answer.
load() {
    "$PYTHON" - "$FRONTEND" "$1" "$2" "$PWD/Tests/Fixtures/formats/K.jpg" <<'EOF'
import sys, threading, time, os, signal
import hwr
endpoint, seconds, kill = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1"
image = open(sys.argv[4], "rb").read()
lock = threading.Lock()
answers, failures, discarded, sent, slow = 0, [], 0, 0, 0
stop = time.monotonic() + seconds

def client():
    global answers, discarded, sent, slow
    # A short timeout: a request sent to a worker killed meanwhile is sent again (same request_id).
    with hwr.Client(endpoint, timeout=1.0, retries=5) as c:
        while time.monotonic() < stop:
            with lock:
                sent += 1
            began = time.monotonic()
            try:
                r = c.recognize_char(image)
                ok = r.text == "K"
            except hwr.HwrError as e:
                with lock:
                    failures.append(repr(e))
                continue
            with lock:
                answers += 1
                slow += time.monotonic() - began > 0.9  # no answer within the timeout: sent again
                if not ok:
                    failures.append(f"wrong answer {r.text}")
        with lock:
            discarded += c.discarded_replies

threads = [threading.Thread(target=client) for _ in range(8)]
started = time.monotonic()
for t in threads:
    t.start()
if kill:
    time.sleep(seconds / 3)
    print("KILL", flush=True)
    time.sleep(seconds / 3)
    print("RESTART", flush=True)
for t in threads:
    t.join()
elapsed = time.monotonic() - started
print(f"requests {sent} answered {answers} failed {len(failures)} resent-after-timeout {slow} "
      f"late-replies-discarded {discarded} "
      f"req/s {answers / elapsed:.0f}", flush=True)
if failures or answers != sent:
    print("FAIL", failures[:5], flush=True)
    sys.exit(1)
EOF
}

wait_ready() {  # the broker answers a health check through some worker
    "$PYTHON" -c "
import hwr, sys, time
with hwr.Client('$FRONTEND', timeout=1, retries=0) as c:
    for _ in range(120):
        try:
            if c.health(): sys.exit(0)
        except hwr.TimeoutError: pass
    sys.exit(1)"
}

status=0
for n in 1 2 3; do
    start_worker "$n"
    wait_ready
    sleep 2  # let every worker connect to the broker
    echo "== $n worker(s)"
    load "$SECONDS_PER_RUN" 0 || status=1
done

echo "== 3 workers, worker 1 killed with kill -9 mid-load and restarted"
load "$((SECONDS_PER_RUN * 3))" 1 | while read -r line; do
    case "$line" in
        KILL) kill -9 "${PIDS[w1]}"; echo "killed worker 1 with kill -9 (pid ${PIDS[w1]})" ;;
        RESTART) start_worker 1; echo "restarted worker 1" ;;
        *) echo "$line" ;;
    esac
    case "$line" in FAIL*) exit 1 ;; esac
done || status=1
[ $status -eq 0 ] && echo "scale-out: OK" || echo "scale-out: FAILED" >&2
exit $status
