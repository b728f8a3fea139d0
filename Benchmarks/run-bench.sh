#!/usr/bin/env bash
# Engine speed: runs `hwr bench` (character and line models, batch 1 latency percentiles, batch 8/64
# throughput, 1 and 2 threads, GFLOP/s reached, resident memory, allocations per warm call, counted
# by Benchmarks/malloc_count.c preloaded) and the training throughput of
# `hwr train` on a slice of the corpus. Prints the results with the date and the machine; paste them
# into Benchmarks/RESULTS.md. Run on an idle machine after `swift build -c release --product hwr-cli`.
set -euo pipefail
cd "$(dirname "$0")/.."
HWR=.build/release/hwr-cli
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
make -s -C Benchmarks malloc-count
export LD_PRELOAD="$PWD/Benchmarks/build/libmalloc_count.so"
"$HWR" bench --seconds "${SECONDS_PER_MEASUREMENT:-3}"
"$HWR" bench --seconds 2 --json > /tmp/hwr-bench.json && echo "json: $(cat /tmp/hwr-bench.json)"
unset LD_PRELOAD
if [ -d ../shared/data ]; then
    # Training throughput: three epochs of 36 x 500 class-balanced, augmented images, batch 128, 2 threads.
    "$HWR" train --data ../shared/data --out /tmp/hwr-bench-train --model /tmp/hwr-bench-train/m.hwrm \
        --epochs 3 --samples-per-class 500 --quiet 2>&1 | grep -E "^epoch" | sed 's/^/training: /'
fi
