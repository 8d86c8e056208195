#!/usr/bin/env bash
# Plain RTP bridge benchmark: the same call workload (50 pps of 172-byte packets each way per
# call, one RTP/RTCP port pair per leg) through rtcgate's media workers (one worker) and through
# a bare epoll recvmmsg/sendmmsg forwarder with the same socket layout, in the same run. Prints
# for each: packets/s, loss, the forwarder's CPU seconds per 100k relayed packets (utime+stime
# from /proc/PID/stat), then the rtcgate/bare ratio and calls per core. Not a pass/fail test.
#   tests/load/rtp_bench.sh [BUILD_DIR] [CALLS] [SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
calls=${2:-500}
seconds=${3:-10}
bench=$build/tests/load/rtp_bench
[ -x "$bench" ] || { echo "needs $bench (meson compile -C $build)"; exit 2; }

# ports below the kernel's ephemeral range, apart from each other
bare=$("$bench" bare "$calls" "$seconds" 15000)
echo "$bare"
rg=$("$bench" rtcgate "$calls" "$seconds" 17000)
echo "$rg"
per() { echo "$1" | grep -o 'cpu_s_per_100k=[0-9.]*' | cut -d= -f2; }
awk -v a="$(per "$rg")" -v b="$(per "$bare")" 'BEGIN {
	if (b > 0) printf "ratio    rtcgate/bare CPU per packet = %.2f\n", a / b
	# a call relays 100 packets/s (50 each way)
	if (a > 0) printf "capacity rtcgate %.0f calls per core, bare %.0f (CPU alone, at 100 pps per call)\n", 100000 / a / 100, 100000 / b / 100
}'
