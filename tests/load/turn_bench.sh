#!/usr/bin/env bash
# TURN relay benchmark: the same turnutils_uclient workload against rtcgate and against
# Debian's coturn (turnserver), both on loopback, each relaying to its own turnutils_peer, with a
# latency probe (turn_probe.c, built here with cc) on the same server during the load's data phase.
# Prints one table: per server and workload, packets relayed, loss, average RTT, server CPU
# seconds per 100k relayed packets (utime+stime of the server process from /proc) over the whole
# run and over uclient's data phase alone, the probe's RTT p50/p99/max in microseconds and its
# loss; then a ratio row rtcgate/coturn. Each loaded workload runs TURN_BENCH_RUNS times (default
# 5), the two servers taking turns (or both at once: TURN_BENCH_TOGETHER=1), and ends with each
# server's median, the ratio of medians and the median of the runs' own ratios (paired). Not a
# pass/fail test.
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
# TURN_BENCH_TOGETHER=1: in each run both servers carry their workload at the same time, each
# with its own uclient, peer and probe, so both meet the same moment of this shared host (its
# load moves either server's figures by a fifth between runs taken in turn). They also compete
# for the CPUs with each other: loss and latency are those of a loaded host.
together=${TURN_BENCH_TOGETHER:-0}
# TURN_BENCH_RTCGATE="KEY=VALUE ...": more -o settings for rtcgate (e.g. turn.udp_gso=0 to
# measure without UDP GSO)
rg_opts=()
for kv in ${TURN_BENCH_RTCGATE:-}; do rg_opts+=(-o "$kv"); done
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}" $(cat "$tmp"/probe.*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
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
# server_drops PID -> datagrams the UDP sockets of process PID have dropped so far for want of
# receive buffer (`ss` skmem d), summed. Its relay sockets outlive the runs (uclient frees no
# allocation), so the difference over a run is what the server itself lost in it; the rest of
# uclient's loss was at a client's or the peer's sockets (a process not scheduled in time).
server_drops() {
	ss -uamnp 2>/dev/null | awk -v pid="pid=$1," '
		/^[A-Z]/ { mine = index($0, pid) > 0; next }
		mine && match($0, /,d[0-9]+\)/) { n += substr($0, RSTART + 2, RLENGTH - 3) }
		END { print n + 0 }'
}
hz=$(getconf CLK_TCK)

# each server relays to its own peer and its probe to its own echo socket (bound by each probe
# run in turn): below the ephemeral range (uclient's sockets) and outside both relay ranges
# (rtcgate 20001-30000, coturn 40000-49999)
declare -A peer_port echo_port
for s in rg ct; do
	peer_port[$s]=$(free_port)
	${pin[@]+"${pin[@]}"} turnutils_peer -p "${peer_port[$s]}" -L 127.0.0.1 >/dev/null 2>&1 &
	pids+=($!)
	echo_port[$s]=$(free_port 30001 32767)
done
[ "${echo_port[rg]}" != "${echo_port[ct]}" ] || echo_port[ct]=$((echo_port[rg] == 32767 ? 30001 : echo_port[rg] + 1))

rg_port=$(free_port)
# coturn caps no allocation's bandwidth by default; rtcgate's default 2000 kbit/s would drop
# bursts of uclient's unpaced phase (loss that is policy, not the relay's). Both listen on
# 127.0.0.1 alone (coturn's -L): on the wildcard rtcgate's dual-stack socket would read and set
# each datagram's local address (IPV6_PKTINFO), work coturn is not asked to do here.
${pin[@]+"${pin[@]}"} "$build/rtcgate" -o general.state_dir="$tmp/state" -o http.port=0 -o http.tls_port=0 \
	-o turn.address=127.0.0.1 -o turn.port="$rg_port" -o turn.workers="$workers" -o turn.users=alice:wonderland \
	-o turn.allowed_peers="127.0.0.1:${peer_port[rg]}-$((peer_port[rg] + 1)),127.0.0.1:${echo_port[rg]}" \
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

# probe_start SLOT PORT -> starts turn_probe in the background (pid in $tmp/probe.SLOT.pid),
# waits for its channel to be bound; its output goes to $tmp/probe.SLOT.out
probe_start() {
	local out=$tmp/probe.$1.out
	: >"$out"
	${pin[@]+"${pin[@]}"} "$tmp/turn_probe" --server "$2" --user alice --password wonderland \
		--echo-port "${echo_port[$1]}" --pps "$probe_pps" --size 172 --max-seconds 600 --wait-mark \
		>"$out" 2>&1 &
	echo $! >"$tmp/probe.$1.pid"
	for _ in $(seq 100); do # the probe gives up on a request after 3 s
		grep -q '^\(ready\|error\)' "$out" && break
		sleep 0.1
	done
	grep -q '^ready' "$out" || echo "probe on port $2: $(head -1 "$out")" >&2
}

# probe_stop SLOT -> writes $tmp/probe.SLOT.res: p_all p_rall p_sent p_lost p50 p99 pmax (? when
# the probe failed). Called by the shell that started the probe, which waits for its result.
probe_stop() {
	local pid
	pid=$(cat "$tmp/probe.$1.pid")
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$tmp/probe.$1.pid"
	grep '^result ' "$tmp/probe.$1.out" | cut -d' ' -f2- >"$tmp/probe.$1.res" ||
		echo "0 0 ? ? ? ? ?" >"$tmp/probe.$1.res"
}

# run SLOT SERVER_PID PORT PACING_MS -> writes $tmp/res.SLOT: rel pps lost rtt cpu dcpu (ticks:
# whole run, data phase), the probe's figures (probe_stop) and the server's own drops
run() {
	local slot=$1 pid=$2 port=$3 pace=$4 before mark after out sent recv t0 t1 rel lost rtt pps d0
	local uc=$tmp/uclient.$slot.out
	probe_start "$slot" "$port"
	d0=$(server_drops "$pid")
	before=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	: >"$tmp/cpu_mark.$slot"
	# the probe's samples and the data-phase CPU count from uclient's data phase, which
	# starts when it has connected every client (allocations, permissions, channel binds:
	# seconds at 200)
	${pin[@]+"${pin[@]}"} turnutils_uclient -u alice -w wonderland -e 127.0.0.1 -r "${peer_port[$slot]}" \
		-p "$port" -m "$clients" -n "$messages" -l 172 -z "$pace" -c 127.0.0.1 </dev/null 2>&1 |
		tee "$uc" | {
		if grep -q -m1 'Total connect time'; then
			cpu_ticks "$pid" >"$tmp/cpu_mark.$slot"
			kill -USR1 "$(cat "$tmp/probe.$slot.pid")" 2>/dev/null
		fi
		cat >/dev/null
	} || true
	after=$(cpu_ticks "$pid")
	t1=$(date +%s.%N)
	mark=$(cat "$tmp/cpu_mark.$slot")
	out=$(cat "$uc")
	sent=$(echo "$out" | grep -o 'tot_send_msgs=[0-9]*' | tail -1 | cut -d= -f2) || true
	recv=$(echo "$out" | grep -o 'tot_recv_msgs=[0-9]*' | tail -1 | cut -d= -f2) || true
	lost=$(echo "$out" | grep -o 'Total lost packets [0-9]*' | tail -1 | awk '{print $4}') || true
	rtt=$(echo "$out" | grep -o 'Average round trip delay [0-9.]*' | tail -1 | awk '{print $5}') || true
	# a run that relayed nothing says why (uclient's last lines), on stderr beside the table.
	# uclient draws each client's two channel numbers at random from 4,096 and ends at the
	# first error: one client in 4,096 asks for one number toward both its peers, which every
	# server refuses (RFC 8656 §12.2), so about one run in 20 of 200 clients ends so, with
	# either server.
	if [ "${sent:-0}" -eq 0 ]; then
		if grep -q 'channel bind: error 400' "$uc"; then
			echo "uclient via port $port drew one channel number for two peers and stopped (refused, as RFC 8656 §12.2 says): run not counted" >&2
		else
			echo "uclient relayed nothing via port $port: $(tail -3 "$uc" | tr '\n' ' ')" >&2
		fi
	fi
	# each echoed message crosses the relay twice: client->peer and peer->client
	rel=$((${sent:-0} + ${recv:-0}))
	# relayed packets per second over uclient's whole run (set-up included)
	pps=$(awk -v n="$rel" -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; printf "%d", (d > 0) ? n / d : 0 }')
	probe_stop "$slot"
	echo "$rel $pps ${lost:-?} ${rtt:-?} $((after - before)) $((after - ${mark:-$before}))" \
		"$(cat "$tmp/probe.$slot.res") $(($(server_drops "$pid") - d0))" >"$tmp/res.$slot"
}

# idle SLOT PORT -> writes $tmp/res.SLOT: the probe alone, 4 s measured after 1 s unmeasured
# (first packets fault pages in): the floor of this machine's loopback and process wake-ups,
# under no load
idle() {
	probe_start "$1" "$2"
	sleep 1
	kill -USR1 "$(cat "$tmp/probe.$1.pid")" 2>/dev/null || true
	sleep 4
	probe_stop "$1"
	echo "- - - - 0 0 $(cat "$tmp/probe.$1.res") -" >"$tmp/res.$1"
}

# per100k TICKS PACKETS -> CPU seconds per 100k packets
per100k() { awk -v c="$1" -v n="$2" -v hz="$hz" 'BEGIN{printf "%.3f", n ? c/hz*100000/n : 0}'; }

# median of the numbers among the arguments (a run whose probe failed has "?" there); "-" if none
median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 }
	END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# sum of the numbers among the arguments ("?" for a run that ended early is left out)
sum() { printf '%s\n' "$@" | awk '/^[0-9]+$/ { n += $1 } END { print n + 0 }'; }

# ratios "rtcgate figures" "coturn figures" (per dper p50 p99 max) -> the five ratios, "-" where
# either figure is missing
ratios() {
	awk -v a="$1" -v b="$2" '
		function r(x, y) { return (x ~ /^[0-9.]+$/ && y ~ /^[0-9.]+$/ && y > 0) ? sprintf("%.2f", x / y) : "-" }
		BEGIN { split(a, x, " "); split(b, y, " ")
			print r(x[1], y[1]), r(x[2], y[2]), r(x[3], y[3]), r(x[4], y[4]), r(x[5], y[5]) }'
}

# ratio_row LABEL R1 R2 R3 R4 R5
ratio_row() {
	local l=$1
	shift
	printf "$row" ratio "$l" - - - - "$@" -
}

# wait_runs: the runs started in the background (together), not the daemons
wait_runs() {
	local j
	for j in $(jobs -p); do
		case " ${pids[*]} " in *" $j "*) ;; *) wait "$j" || true ;; esac
	done
}

declare -A server_name=([rg]=rtcgate [ct]=coturn) fig=() col=()

# report SLOT TAG PACE -> prints SLOT's row of the run from $tmp/res.SLOT, adds its figures to the
# workload's columns (col) and sets fig[SLOT] to the five that ratios compare
report() {
	local s=$1 tag=$2 pace=$3 name=${server_name[$1]} per=- dper=- lcol
	local rel pps lost rtt cpu dcpu p_all p_rall p_sent p_lost p50 p99 pmax drop
	[ -s "$tmp/res.$s" ] || { echo "$name's $tag run ended early: not counted" >&2
		echo "0 0 ? ? 0 0 0 0 ? ? ? ? ? ?" >"$tmp/res.$s"; }
	read -r rel pps lost rtt cpu dcpu p_all p_rall p_sent p_lost p50 p99 pmax drop <"$tmp/res.$s"
	lcol=$lost
	if [ "$pace" != idle ]; then
		# the denominators count the probe's packets too: they cost the server as much.
		# Data phase: uclient's messages are all sent in it, and the probe's marked ones
		# (each sent one crosses the server once, each answered one twice)
		per=$(per100k "$cpu" "$((rel + p_all + p_rall))")
		[ "$p_sent" != "?" ] && [ "$p_lost" != "?" ] &&
			dper=$(per100k "$dcpu" "$((rel + 2 * p_sent - p_lost))")
		# a run that relayed nothing of uclient's has no cost per packet: not in the medians
		[ "$rel" -gt 0 ] || per="?" dper="?"
		lcol="$lost/$drop"
	fi
	printf "$row" "$name" "$tag" "$rel" "$pps" "$lcol" "$rtt" "$per" "$dper" "$p50" "$p99" "$pmax" \
		"$p_lost/$p_sent"
	col[$s,per]+=" $per" col[$s,dper]+=" $dper" col[$s,p50]+=" $p50" col[$s,p99]+=" $p99"
	col[$s,max]+=" $pmax" col[$s,lost]+=" $lost" col[$s,drop]+=" $drop"
	fig[$s]="$per $dper $p50 $p99 $pmax"
}

# summary LABEL -> each server's medians row (loss summed), the ratio of medians, and the median
# of the runs' own ratios (paired): each run's pair met the same moment of the host (both at
# once, or one after the other), so that one leaves out what moved both between runs
summary() {
	local s m
	for s in rg ct; do
		# shellcheck disable=SC2086 # the columns are space-separated lists on purpose
		m="$(median ${col[$s,per]}) $(median ${col[$s,dper]}) $(median ${col[$s,p50]})"
		# shellcheck disable=SC2086
		m+=" $(median ${col[$s,p99]}) $(median ${col[$s,max]})"
		# shellcheck disable=SC2086
		printf "$row" "${server_name[$s]}" "$1 median" - - "$(sum ${col[$s,lost]})/$(sum ${col[$s,drop]})" - $m -
		fig[$s]=$m
	done
	# shellcheck disable=SC2046 # five ratios, split on purpose
	ratio_row "$1 median" $(ratios "${fig[rg]}" "${fig[ct]}")
	# shellcheck disable=SC2086
	ratio_row "$1 paired" "$(median ${col[r,0]})" "$(median ${col[r,1]})" "$(median ${col[r,2]})" \
		"$(median ${col[r,3]})" "$(median ${col[r,4]})"
}

# lost/srv: uclient's loss / the datagrams the server's own sockets dropped (server_drops)
row='%-8s %-14s %9s %7s %9s %8s %12s %12s %8s %8s %8s %11s\n'
printf "$row" server workload relayed pkt/s lost/srv rtt_ms cpu_s/100k data_s/100k p50_us p99_us max_us \
	probe_lost
for pace in idle 20 0; do
	case $pace in idle) label=idle ;; 0) label=unpaced ;; *) label="paced_${pace}ms" ;; esac
	n=$runs
	[ "$pace" = idle ] && n=1
	col=()
	for ((k = 1; k <= n; k++)); do
		tag=$label
		[ "$n" -gt 1 ] && tag="$label#$k"
		# both at once, or in turn; a run that ends early leaves no result, not the last one
		rm -f "$tmp/res.rg" "$tmp/res.ct"
		for s in rg ct; do
			if [ $s = rg ]; then pid=$rg_pid port=$rg_port; else pid=$ct_pid port=$ct_port; fi
			if [ "$pace" = idle ]; then
				set -- idle "$s" "$port"
			else
				set -- run "$s" "$pid" "$port" "$pace"
			fi
			if [ "$together" = 1 ]; then "$@" & else "$@"; fi
		done
		wait_runs
		report rg "$tag" "$pace"
		report ct "$tag" "$pace"
		read -r -a rr <<<"$(ratios "${fig[rg]}" "${fig[ct]}")"
		ratio_row "$tag" "${rr[@]}"
		for i in 0 1 2 3 4; do col[r,$i]+=" ${rr[$i]}"; done
	done
	if [ "$n" -gt 1 ]; then summary "$label"; fi
done
read -r load1 _ </proc/loadavg
echo "clients=$clients messages=$messages size=172 workers=$workers runs=$runs pin=${TURN_BENCH_PIN:-none}" \
	"together=$together" \
	"rtcgate options: ${TURN_BENCH_RTCGATE:-none} (CPU from /proc, ${hz} ticks/s);" \
	"probe: ${probe_pps} pps, 172 B; ratio = rtcgate/coturn; host load average $load1"
