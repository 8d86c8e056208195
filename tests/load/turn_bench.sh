#!/usr/bin/env bash
# TURN relay benchmark: the same turnutils_uclient workload against rtcgate and against
# Debian's coturn (turnserver), both on loopback, each relaying to turnutils_peer, with a
# latency probe (turn_probe.c, built here with cc) on the same server during the load's data phase.
# Prints one table: per server and workload, packets relayed, loss, average RTT, server CPU
# seconds per 100k relayed packets (utime+stime of the server process from /proc) over the whole
# run and over uclient's data phase alone, the probe's RTT p50/p99/max in microseconds and its
# loss; then a ratio row rtcgate/coturn. Each loaded workload runs TURN_BENCH_RUNS times (default
# 5), the two servers taking turns, and ends with each server's median and the ratio of medians.
# Not a pass/fail test.
#   tests/load/turn_bench.sh [BUILD_DIR] [CLIENTS] [MESSAGES]
# shellcheck disable=SC2059 # printf "$row": the table format is this script's own
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
clients=${2:-200}
messages=${3:-100}
workers=${TURN_BENCH_WORKERS:-1}
probe_pps=${TURN_BENCH_PROBE_PPS:-50}
runs=${TURN_BENCH_RUNS:-5}
# TURN_BENCH_PIN=CPUS (e.g. 0): every process of the run (peer, both servers, uclient, probe)
# on those CPUs only, the same for both servers. On one CPU no packet wakes a process on
# another: the loopback receive path and wake-ups that the sender is charged for stay cheap
# and the same from run to run, so the figures are the servers' own work with less noise.
pin=()
[ -n "${TURN_BENCH_PIN:-}" ] && pin=(taskset -c "$TURN_BENCH_PIN")
# TURN_BENCH_RTCGATE="KEY=VALUE ...": more -o settings for rtcgate (e.g. turn.udp_gso=0 to
# measure without UDP GSO)
rg_opts=()
for kv in ${TURN_BENCH_RTCGATE:-}; do rg_opts+=(-o "$kv"); done
tmp=$(mktemp -d)
pids=()
probe_pid=
cleanup() {
	for p in "${pids[@]}" $probe_pid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

command -v turnserver >/dev/null || { echo "needs Debian's coturn (turnserver, turnutils_*)"; exit 2; }
[ -x "$build/rtcgate" ] || { echo "needs $build/rtcgate (meson compile -C $build)"; exit 2; }
cc -O2 -o "$tmp/turn_probe" "$top/tests/load/turn_probe.c" -lcrypto ||
	{ echo "needs cc and OpenSSL's libcrypto headers to build the probe"; exit 2; }

# free_port [LO HI]: a UDP port free on 127.0.0.1 a moment ago (any ephemeral one by default)
free_port() {
	/usr/bin/python3 - "${1:-0}" "${2:-0}" <<'EOF'
import random, socket, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
for port in random.sample(range(lo, hi + 1), min(200, hi - lo + 1)) if lo else [0]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
else:
    sys.exit("no free UDP port")
EOF
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

peer_port=$(free_port)
${pin[@]+"${pin[@]}"} turnutils_peer -p "$peer_port" -L 127.0.0.1 >/dev/null 2>&1 &
pids+=($!)
# the probe's own echo socket, bound by each probe run in turn: below the ephemeral range
# (uclient's sockets) and outside both relay ranges (rtcgate 20001-30000, coturn 40000-49999)
echo_port=$(free_port 30001 32767)

rg_port=$(free_port)
# coturn caps no allocation's bandwidth by default; rtcgate's default 2000 kbit/s would drop
# bursts of uclient's unpaced phase (loss that is policy, not the relay's). Both listen on
# 127.0.0.1 alone (coturn's -L): on the wildcard rtcgate's dual-stack socket would read and set
# each datagram's local address (IPV6_PKTINFO), work coturn is not asked to do here.
${pin[@]+"${pin[@]}"} "$build/rtcgate" -o general.state_dir="$tmp/state" -o http.port=0 -o http.tls_port=0 \
	-o turn.address=127.0.0.1 -o turn.port="$rg_port" -o turn.workers="$workers" -o turn.users=alice:wonderland \
	-o turn.allowed_peers="127.0.0.1:$peer_port-$((peer_port + 1)),127.0.0.1:$echo_port" \
	-o turn.max_allocations_per_user=100000 -o turn.max_bandwidth=0 -o log.level=warn \
	${rg_opts[@]+"${rg_opts[@]}"} 2>"$tmp/rtcgate.log" &
rg_pid=$!
pids+=("$rg_pid")

ct_port=$(free_port)
${pin[@]+"${pin[@]}"} turnserver -n --no-cli --no-tls --no-dtls -L 127.0.0.1 -E 127.0.0.1 -p "$ct_port" \
	--min-port 40000 --max-port 49999 -a -u alice:wonderland -r rtcgate -m "$workers" \
	--allow-loopback-peers --no-stdout-log -l "$tmp/coturn.log" --simple-log >/dev/null 2>&1 &
ct_pid=$!
pids+=("$ct_pid")
sleep 1 # both daemons print nothing we could wait on when logging is quiet; this is set-up only

# probe_start PORT -> starts turn_probe in the background (pid in $probe_pid), waits for
# its channel to be bound; its output goes to $tmp/probe.out
probe_start() {
	: >"$tmp/probe.out"
	${pin[@]+"${pin[@]}"} "$tmp/turn_probe" --server "$1" --user alice --password wonderland \
		--echo-port "$echo_port" --pps "$probe_pps" --size 172 --max-seconds 600 --wait-mark \
		>"$tmp/probe.out" 2>&1 &
	probe_pid=$!
	for _ in $(seq 100); do # the probe gives up on a request after 3 s
		grep -q '^\(ready\|error\)' "$tmp/probe.out" && break
		sleep 0.1
	done
	grep -q '^ready' "$tmp/probe.out" || echo "probe on port $1: $(head -1 "$tmp/probe.out")" >&2
}

# probe_stop -> sets p_all p_rall p_sent p_lost p50 p99 pmax (? when the probe failed)
probe_stop() {
	local res
	kill -TERM "$probe_pid" 2>/dev/null || true
	wait "$probe_pid" 2>/dev/null || true
	probe_pid=
	res=$(grep '^result ' "$tmp/probe.out" | cut -d' ' -f2-) || res="0 0 ? ? ? ? ?"
	read -r p_all p_rall p_sent p_lost p50 p99 pmax <<<"$res"
}

# run SERVER_PID PORT PACING_MS -> sets rel lost rtt cpu dcpu (ticks: whole run, data phase)
# and the probe's figures
run() {
	local pid=$1 port=$2 pace=$3 before mark after out sent recv t0 t1
	probe_start "$port"
	before=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	: >"$tmp/cpu_mark"
	# the probe's samples and the data-phase CPU count from uclient's data phase, which
	# starts when it has connected every client (allocations, permissions, channel binds:
	# seconds at 200)
	${pin[@]+"${pin[@]}"} turnutils_uclient -u alice -w wonderland -e 127.0.0.1 -r "$peer_port" -p "$port" \
		-m "$clients" -n "$messages" -l 172 -z "$pace" -c 127.0.0.1 </dev/null 2>&1 |
		tee "$tmp/uclient.out" | {
		if grep -q -m1 'Total connect time'; then
			cpu_ticks "$pid" >"$tmp/cpu_mark"
			kill -USR1 "$probe_pid" 2>/dev/null
		fi
		cat >/dev/null
	} || true
	after=$(cpu_ticks "$pid")
	t1=$(date +%s.%N)
	mark=$(cat "$tmp/cpu_mark")
	out=$(cat "$tmp/uclient.out")
	sent=$(echo "$out" | grep -o 'tot_send_msgs=[0-9]*' | tail -1 | cut -d= -f2) || true
	recv=$(echo "$out" | grep -o 'tot_recv_msgs=[0-9]*' | tail -1 | cut -d= -f2) || true
	lost=$(echo "$out" | grep -o 'Total lost packets [0-9]*' | tail -1 | awk '{print $4}') || true
	rtt=$(echo "$out" | grep -o 'Average round trip delay [0-9.]*' | tail -1 | awk '{print $5}') || true
	# a run that relayed nothing says why (uclient's last lines), on stderr beside the table
	[ "${sent:-0}" -gt 0 ] || echo "uclient relayed nothing via port $port: $(tail -3 "$tmp/uclient.out" | tr '\n' ' ')" >&2
	# each echoed message crosses the relay twice: client->peer and peer->client
	rel=$((${sent:-0} + ${recv:-0})) lost=${lost:-?} rtt=${rtt:-?} cpu=$((after - before))
	dcpu=$((after - ${mark:-$before}))
	# relayed packets per second over uclient's whole run (set-up included)
	pps=$(awk -v n="$rel" -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; printf "%d", (d > 0) ? n / d : 0 }')
	probe_stop
}

# idle PORT -> the probe alone, 4 s measured after 1 s unmeasured (first packets fault pages
# in): the floor of this machine's loopback and process wake-ups, under no load
idle() {
	probe_start "$1"
	sleep 1
	kill -USR1 "$probe_pid" 2>/dev/null || true
	sleep 4
	probe_stop
}

# per100k TICKS PACKETS -> CPU seconds per 100k packets
per100k() { awk -v c="$1" -v n="$2" -v hz="$hz" 'BEGIN{printf "%.3f", n ? c/hz*100000/n : 0}'; }

# median of the numbers among the arguments (a run whose probe failed has "?" there); "-" if none
median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 }
	END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio_row LABEL "rtcgate figures" "coturn figures" (per dper p50 p99 max)
ratio_row() {
	awk -v row="$row" -v l="$1" -v a="$2" -v b="$3" '
		function r(x, y) { return (x ~ /^[0-9.]+$/ && y ~ /^[0-9.]+$/ && y > 0) ? sprintf("%.2f", x / y) : "-" }
		BEGIN { split(a, x, " "); split(b, y, " ")
			printf row, "ratio", l, "-", "-", "-", "-", r(x[1], y[1]), r(x[2], y[2]), r(x[3], y[3]), r(x[4], y[4]), r(x[5], y[5]), "-" }'
}

row='%-8s %-14s %9s %7s %6s %8s %12s %12s %8s %8s %8s %11s\n'
printf "$row" server workload relayed pkt/s lost rtt_ms cpu_s/100k data_s/100k p50_us p99_us max_us \
	probe_lost
for pace in idle 20 0; do
	case $pace in idle) label=idle ;; 0) label=unpaced ;; *) label="paced_${pace}ms" ;; esac
	n=$runs
	[ "$pace" = idle ] && n=1
	declare -A col=()
	for ((k = 1; k <= n; k++)); do
		tag=$label
		[ "$n" -gt 1 ] && tag="$label#$k"
		for s in rg ct; do
			if [ $s = rg ]; then pid=$rg_pid port=$rg_port name=rtcgate; else pid=$ct_pid port=$ct_port name=coturn; fi
			if [ "$pace" = idle ]; then
				idle "$port"
				rel=- pps=- lost=- rtt=- per=- dper=-
			else
				run "$pid" "$port" "$pace"
				# the denominators count the probe's packets too: they cost the server as much.
				# Data phase: uclient's messages are all sent in it, and the probe's marked ones
				# (each sent one crosses the server once, each answered one twice)
				per=$(per100k "$cpu" "$((rel + p_all + p_rall))")
				dper=-
				[ "$p_sent" != "?" ] && [ "$p_lost" != "?" ] &&
					dper=$(per100k "$dcpu" "$((rel + 2 * p_sent - p_lost))")
				# a run that relayed nothing of uclient's has no cost per packet: not in the medians
				[ "$rel" -gt 0 ] || per="?" dper="?"
			fi
			printf "$row" "$name" "$tag" "$rel" "$pps" "$lost" "$rtt" "$per" "$dper" "$p50" "$p99" "$pmax" \
				"$p_lost/$p_sent"
			col[$s,per]+=" $per" col[$s,dper]+=" $dper" col[$s,p50]+=" $p50" col[$s,p99]+=" $p99"
			col[$s,max]+=" $pmax" col[$s,lost]+=" $lost"
			if [ $s = rg ]; then rg=("$per" "$dper" "$p50" "$p99" "$pmax"); else ct=("$per" "$dper" "$p50" "$p99" "$pmax"); fi
		done
		ratio_row "$tag" "${rg[*]}" "${ct[*]}"
	done
	[ "$n" -gt 1 ] || continue
	for s in rg ct; do
		[ $s = rg ] && name=rtcgate || name=coturn
		# shellcheck disable=SC2086 # the columns are space-separated lists on purpose
		m=("$(median ${col[$s,per]})" "$(median ${col[$s,dper]})" "$(median ${col[$s,p50]})" \
			"$(median ${col[$s,p99]})" "$(median ${col[$s,max]})")
		# shellcheck disable=SC2086
		printf "$row" "$name" "$label median" - - "$(echo ${col[$s,lost]} | tr ' ' '+')" - "${m[@]}" -
		if [ $s = rg ]; then rg=("${m[@]}"); else ct=("${m[@]}"); fi
	done
	ratio_row "$label median" "${rg[*]}" "${ct[*]}"
done
read -r load1 _ </proc/loadavg
echo "clients=$clients messages=$messages size=172 workers=$workers runs=$runs pin=${TURN_BENCH_PIN:-none}" \
	"rtcgate options: ${TURN_BENCH_RTCGATE:-none} (CPU from /proc, ${hz} ticks/s);" \
	"probe: ${probe_pps} pps, 172 B; ratio = rtcgate/coturn; host load average $load1"
