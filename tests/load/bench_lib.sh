# Shared by the benchmark scripts (sourced, not run): a temporary directory, the PIDs started
# (each stopped by its PID on exit) and free loopback ports.
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# free_port tcp|udp [pair]: a port (with pair: whose next port is free too) free on 127.0.0.1
# a moment ago
free_port() {
	/usr/bin/python3 - "$@" <<'PY'
import socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
for _ in range(100):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    t = socket.socket(socket.AF_INET, kind)
    try:
        if len(sys.argv) > 2:
            t.bind(("127.0.0.1", port + 1))
        print(port)
        break
    except OSError:
        pass
    finally:
        t.close()
        s.close()
PY
}

# rtcgate_start STATE_DIR HTTP_PORT PBX_PORT LOG_LEVEL LOG_FILE: rtcgate on loopback, no TLS, no
# TURN, PBX pings off, one media worker, toward the PBX at udp:127.0.0.1:PBX_PORT; sets rg_pid
# and returns once /healthz answers (at most 10 s). Media ports above the kernel's ephemeral
# range (BENCH_MEDIA_PORTS), apart from the default 10000-20000 that test runs on the same host use;
# 127.0.0.1 in SDP (by default rtcgate names the host's first non-loopback address).
rtcgate_start() {
	"$build/rtcgate" -o general.state_dir="$1" -o http.address=127.0.0.1 \
		-o http.port="$2" -o http.tls_port=0 -o turn.port=0 -o turn.tls_port=0 \
		-o sip.address=127.0.0.1 -o sip.port="$(free_port udp)" \
		-o sip.pbx="udp:127.0.0.1:$3" -o sip.options_interval=0 -o media.workers=1 \
		-o media.ports="${BENCH_MEDIA_PORTS:-61000-65000}" -o media.public_address=127.0.0.1 \
		-o log.level="$4" 2>"$5" &
	rg_pid=$!
	pids+=("$rg_pid")
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
}
