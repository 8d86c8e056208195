#!/usr/bin/env bash
# WebRTC call load through rtcgate (issue 5): build/tests/load/webrtc_load (its own ICE, DTLS-SRTP
# and SIP over WebSocket, none of rtcgate's code) opens CALLS G.711 calls at RATE per second
# through a fresh rtcgate (one media worker) to its own PBX UAS and RTP echo peer, holds them for
# SECONDS, hangs up. Per mode it prints setup times (INVITE to first echo), loss, the added
# one-way latency (RTT through rtcgate less the direct RTT to the echo peer, halved), rtcgate's
# CPU per relayed packet, per call and per call setup, calls per core, RSS per call, the SRTP
# profile. MODES: plain (RTP/AVP offer from the WebSocket side, the reference), webrtc, or both.
# Not a pass/fail test; stops everything it started.
#   tests/load/webrtc_bench.sh [BUILD_DIR] [CALLS] [SECONDS] [RATE] [MODES]
#   tests/load/webrtc_bench.sh build 800 20 200 plain,webrtc
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
calls=${2:-200}
seconds=${3:-10}
rate=${4:-100}
modes=${5:-plain,webrtc}
threads=${WEBRTC_BENCH_THREADS:-0} # 0: one per 100 WebRTC calls, one for plain
per_login=100 # a device's max_calls is at most 100
. "$top/tests/load/bench_lib.sh"

[ -x "$build/rtcgate" ] || { echo "needs $build/rtcgate (meson compile -C $build)"; exit 2; }
[ -x "$build/tests/load/webrtc_load" ] || { echo "needs $build/tests/load/webrtc_load (libnice-dev, meson compile -C $build)"; exit 2; }
# a WebSocket, four media sockets and the generator's sockets per call
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# udp_errors [BEFORE]: the kernel's UDP InErrors and RcvbufErrors, or their growth since BEFORE
udp_errors() {
	awk -v before="${1:-}" '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else {
		a = $n["InErrors"]; b = $n["RcvbufErrors"]
		if (before != "") { split(before, p, " "); a -= p[1]; b -= p[2] }
		print a, b } }' /proc/net/snmp
}

run_mode() {
	local mode=$1 state=$tmp/state-$1 http_port pbx_port echo_port rg_pid load_pid perf_pid
	mkdir -p "$state"
	printf '[general]\nstate_dir = %s\n' "$state" >"$tmp/ctl.conf"
	for d in $(seq 0 $(((calls - 1) / per_login))); do
		"$build/rtcgatectl" --config "$tmp/ctl.conf" device add "bench$d" \
			--secret bench-secret --max-calls "$per_login" >/dev/null
	done
	http_port=$(free_port tcp)
	pbx_port=$(free_port udp)
	echo_port=$(free_port udp pair)
	rtcgate_start "$state" "$http_port" "$pbx_port" warn "$tmp/rtcgate-$mode.log"
	echo "== $mode: rtcgate $("$build/rtcgate" --version | cut -d' ' -f2), one media worker; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	# the generator yields to rtcgate: the scheduler shares a CPU per thread, and the generator's
	# threads (browser side, echo, PBX) would otherwise take most of it from rtcgate's one worker
	nice -n "${WEBRTC_BENCH_NICE:-0}" "$build/tests/load/webrtc_load" --mode "$mode" --ws-port "$http_port" \
		--pbx-port "$pbx_port" --echo-port "$echo_port" --pid "$rg_pid" --calls "$calls" \
		--rate "$rate" --seconds "$seconds" --threads "$threads" --per-login "$per_login" \
		--held "${WEBRTC_BENCH_HELD:-2}" --read "${WEBRTC_BENCH_READ:-event}" &
	load_pid=$!
	pids+=("$load_pid")
	udp0=$(udp_errors)
	if [ -n "${WEBRTC_BENCH_PERF:-}" ]; then # a profile of rtcgate over the whole run
		perf record -q -g -o "$WEBRTC_BENCH_PERF-$mode.data" -p "$rg_pid" 2>/dev/null &
		perf_pid=$!
		pids+=("$perf_pid")
	fi
	wait "$load_pid" || echo "webrtc_load exited $?"
	echo "host UDP receive errors (InErrors RcvbufErrors, every process) during the run: $(udp_errors "$udp0")"
	if [ -n "${WEBRTC_BENCH_PERF:-}" ]; then
		kill -INT "$perf_pid" 2>/dev/null || true
		wait "$perf_pid" 2>/dev/null || true
	fi
	echo "rtcgate after the calls: $(curl -sf "http://127.0.0.1:$http_port/metrics" |
		grep -E '^rtcgate_(media_(packets_total|dropped_total|sessions)|sip_calls)' | grep -v 'total[{].*} 0$' | tr '\n' ' ')"
	kill "$rg_pid" 2>/dev/null || true
	wait "$rg_pid" 2>/dev/null || true
	echo "rtcgate log lines (warn and up): $(wc -l <"$tmp/rtcgate-$mode.log")"
	sed -n 's/.*level=\([a-z]*\) .*msg="\([^"]*\)".*reason="\{0,1\}\([^" ]*\).*/\1 \2 \3/p' \
		"$tmp/rtcgate-$mode.log" | sort | uniq -c | sort -rn | head -5
	echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
}

for m in ${modes//,/ }; do run_mode "$m"; done
