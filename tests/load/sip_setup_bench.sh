#!/usr/bin/env bash
# Call-setup rate benchmark: browser flows → rtcgate → PBX. sipp plays the PBX (UDP,
# sip_bench_uas.xml: 200 at once, then ACK and BYE); sip_load.mjs opens FLOWS raw
# SIP-over-WebSocket flows to rtcgate, registers each once, then starts calls at each target
# rate for SECONDS seconds (INVITE with plain SDP, ACK and BYE as soon as the 200 is in).
# Prints per rate: call setups per second reached, setup latency p50/p99 (INVITE sent to 200
# received), failures, rtcgate's CPU share of one core (utime+stime from /proc/<pid>/stat),
# its CPU per call (the whole call: INVITE, 100, 200, ACK, BYE, the media session made and
# freed) and the calls per second that makes at 100% of one core. Not a pass/fail test.
#   tests/load/sip_setup_bench.sh [BUILD_DIR] [FLOWS] [SECONDS] [RATES]
#   SIP_BENCH_LOG=warn tests/load/sip_setup_bench.sh build 200 10 100,200,400,800
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
flows=${2:-200}
seconds=${3:-10}
rates=${4:-100,200,400,800}
log_level=${SIP_BENCH_LOG:-info}
. "$top/tests/load/bench_lib.sh"

command -v sipp >/dev/null || { echo "needs sipp (Debian's sip-tester)"; exit 2; }
[ -x "$build/rtcgate" ] || { echo "needs $build/rtcgate (meson compile -C $build)"; exit 2; }
[ -d "$top/tests/node_modules/ws" ] || { echo "needs the tests' npm packages (cd tests && npm ci)"; exit 2; }

pbx_port=$(free_port udp)
sipp -sf "$top/tests/load/sip_bench_uas.xml" -i 127.0.0.1 -p "$pbx_port" -mi 127.0.0.1 \
	-mp "$(free_port udp)" -nostdin >/dev/null 2>"$tmp/sipp.err" &
pids+=($!)

http_port=$(free_port tcp)
mkdir -p "$tmp/state"
printf '[general]\nstate_dir = %s\n' "$tmp/state" >"$tmp/ctl.conf"
"$build/rtcgatectl" --config "$tmp/ctl.conf" device add bench --secret bench-secret \
	--max-calls 100 >/dev/null
rtcgate_start "$tmp/state" "$http_port" "$pbx_port" "$log_level" "$tmp/rtcgate.log"

echo "rtcgate $("$build/rtcgate" --version | cut -d' ' -f2), log.level=$log_level, one media worker; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
node "$top/tests/load/sip_load.mjs" --url "ws://127.0.0.1:$http_port/sip" --pid "$rg_pid" \
	--flows "$flows" --seconds "$seconds" --rates "$rates" --hz "$(getconf CLK_TCK)"
