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
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

command -v sipp >/dev/null || { echo "needs sipp (Debian's sip-tester)"; exit 2; }
[ -x "$build/rtcgate" ] || { echo "needs $build/rtcgate (meson compile -C $build)"; exit 2; }
[ -d "$top/tests/node_modules/ws" ] || { echo "needs the tests' npm packages (cd tests && npm ci)"; exit 2; }

# free_port tcp|udp: a port free on 127.0.0.1 a moment ago
free_port() {
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

pbx_port=$(free_port udp)
sipp -sf "$top/tests/load/sip_bench_uas.xml" -i 127.0.0.1 -p "$pbx_port" -mi 127.0.0.1 \
	-mp "$(free_port udp)" -nostdin >/dev/null 2>"$tmp/sipp.err" &
pids+=($!)

http_port=$(free_port tcp)
mkdir -p "$tmp/state"
printf '[general]\nstate_dir = %s\n' "$tmp/state" >"$tmp/ctl.conf"
"$build/rtcgatectl" --config "$tmp/ctl.conf" device add bench --secret bench-secret \
	--max-calls 100 >/dev/null
"$build/rtcgate" -o general.state_dir="$tmp/state" -o http.address=127.0.0.1 \
	-o http.port="$http_port" -o http.tls_port=0 -o turn.port=0 -o turn.tls_port=0 \
	-o sip.address=127.0.0.1 -o sip.port="$(free_port udp)" \
	-o sip.pbx="udp:127.0.0.1:$pbx_port" -o sip.options_interval=0 -o media.workers=1 \
	-o log.level="$log_level" 2>"$tmp/rtcgate.log" &
rg_pid=$!
pids+=("$rg_pid")
for _ in $(seq 100); do # until /healthz answers, at most 10 s
	curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

echo "rtcgate $("$build/rtcgate" --version | cut -d' ' -f2), log.level=$log_level, one media worker; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
node "$top/tests/load/sip_load.mjs" --url "ws://127.0.0.1:$http_port/sip" --pid "$rg_pid" \
	--flows "$flows" --seconds "$seconds" --rates "$rates" --hz "$(getconf CLK_TCK)"
