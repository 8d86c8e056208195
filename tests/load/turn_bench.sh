#!/usr/bin/env bash
# TURN relay benchmark: the same turnutils_uclient workload against rtcgate and against
# Debian's coturn (turnserver), both on loopback, each relaying to turnutils_peer.
# Prints, per server and workload: packets relayed, loss, average RTT and server CPU
# seconds per 100k relayed packets (utime+stime of the server process from /proc), and
# the rtcgate/coturn CPU ratio. Not a pass/fail test.
#   tests/load/turn_bench.sh [BUILD_DIR] [CLIENTS] [MESSAGES]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
clients=${2:-200}
messages=${3:-100}
workers=${TURN_BENCH_WORKERS:-1}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

command -v turnserver >/dev/null || { echo "needs Debian's coturn (turnserver, turnutils_*)"; exit 2; }
[ -x "$build/rtcgate" ] || { echo "needs $build/rtcgate (meson compile -C $build)"; exit 2; }

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

peer_port=$(free_port)
turnutils_peer -p "$peer_port" -L 127.0.0.1 >/dev/null 2>&1 &
pids+=($!)

rg_port=$(free_port)
"$build/rtcgate" -o general.state_dir="$tmp/state" -o http.port=0 -o http.tls_port=0 \
	-o turn.port="$rg_port" -o turn.workers="$workers" -o turn.users=alice:wonderland \
	-o turn.allowed_peers="127.0.0.1:$peer_port-$((peer_port + 1))" \
	-o turn.max_allocations_per_user=100000 -o log.level=warn 2>"$tmp/rtcgate.log" &
rg_pid=$!
pids+=($rg_pid)

ct_port=$(free_port)
turnserver -n --no-cli --no-tls --no-dtls -L 127.0.0.1 -E 127.0.0.1 -p "$ct_port" \
	--min-port 40000 --max-port 49999 -a -u alice:wonderland -r rtcgate -m "$workers" \
	--allow-loopback-peers --no-stdout-log -l "$tmp/coturn.log" --simple-log >/dev/null 2>&1 &
ct_pid=$!
pids+=($ct_pid)
sleep 1 # both daemons print nothing we could wait on when logging is quiet; this is set-up only

# run SERVER_PID PORT PACING_MS -> "relayed lost rtt cpu_seconds"
run() {
	local pid=$1 port=$2 pace=$3 before after out sent recv lost rtt
	before=$(cpu_ticks "$pid")
	out=$(turnutils_uclient -u alice -w wonderland -e 127.0.0.1 -r "$peer_port" -p "$port" \
		-m "$clients" -n "$messages" -l 172 -z "$pace" -c 127.0.0.1 2>&1 || true)
	after=$(cpu_ticks "$pid")
	sent=$(echo "$out" | grep -o 'tot_send_msgs=[0-9]*' | tail -1 | cut -d= -f2)
	recv=$(echo "$out" | grep -o 'tot_recv_msgs=[0-9]*' | tail -1 | cut -d= -f2)
	lost=$(echo "$out" | grep -o 'Total lost packets [0-9]*' | tail -1 | awk '{print $4}')
	rtt=$(echo "$out" | grep -o 'Average round trip delay [0-9.]*' | tail -1 | awk '{print $5}')
	# each echoed message crosses the relay twice: client->peer and peer->client
	echo "$(( ${sent:-0} + ${recv:-0} )) ${lost:-?} ${rtt:-?} $(( after - before ))"
}

printf '%-8s %-14s %10s %8s %9s %16s\n' server workload relayed lost rtt_ms "cpu_s/100k_pkts"
for pace in 20 0; do
	label=$([ "$pace" = 0 ] && echo unpaced || echo "paced_${pace}ms")
	read -r rg_rel rg_lost rg_rtt rg_cpu < <(run "$rg_pid" "$rg_port" "$pace")
	read -r ct_rel ct_lost ct_rtt ct_cpu < <(run "$ct_pid" "$ct_port" "$pace")
	rg_per=$(awk -v c="$rg_cpu" -v n="$rg_rel" -v hz="$hz" 'BEGIN{printf "%.3f", n ? c/hz*100000/n : 0}')
	ct_per=$(awk -v c="$ct_cpu" -v n="$ct_rel" -v hz="$hz" 'BEGIN{printf "%.3f", n ? c/hz*100000/n : 0}')
	printf '%-8s %-14s %10s %8s %9s %16s\n' rtcgate "$label" "$rg_rel" "$rg_lost" "$rg_rtt" "$rg_per"
	printf '%-8s %-14s %10s %8s %9s %16s\n' coturn "$label" "$ct_rel" "$ct_lost" "$ct_rtt" "$ct_per"
	awk -v a="$rg_per" -v b="$ct_per" -v l="$label" \
		'BEGIN{ if (b > 0) printf "ratio    %-14s rtcgate/coturn CPU per packet = %.2f\n", l, a/b }'
done
echo "clients=$clients messages=$messages size=172 workers=$workers (CPU from /proc, ${hz} ticks/s)"
