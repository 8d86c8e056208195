#!/usr/bin/env bash
# rtcgate set-up for a fresh Debian 12 machine (root). Idempotent.
#   ./setup.sh run    install what is missing, build, start rtcgate on its embedded default
#   ./setup.sh test   install what is missing, build (gcc -Werror, clang ASan+UBSan), run every test
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

say() { printf '==> %s\n' "$*"; }

RUN_DEBS=(meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libwebsockets-dev libosip2-dev
	liburing-dev libwebsockets-evlib-glib libssl-dev libsqlite3-dev libjson-glib-dev libsrtp2-dev libnice-dev)
TEST_DEBS=(clang libclang-rt-14-dev clang-format binutils git python3 curl coturn chromium sip-tester openssl
	python3-aiortc python3-websockets)

apt_updated=0
install_debs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "Debian packages present: $*"
		return
	fi
	say "installing Debian packages: ${missing[*]}"
	if [ $apt_updated -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_node() {
	if command -v node >/dev/null && command -v npm >/dev/null; then
		say "node $(node --version) and npm $(npm --version) present"
	else
		install_debs nodejs npm
	fi
}

# npm packages of a folder, from its lock file
npm_deps() {
	local dir=$1
	[ -f "$dir/package.json" ] || return 0
	if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
		say "npm packages in $dir up to date"
		return
	fi
	say "installing npm packages in $dir"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

# the softphone's JsSIP bundle, web/dist/jssip.js (esbuild from web/node_modules; not in git)
web_bundle() {
	local out=web/dist/jssip.js
	if [ -f $out ] && [ $out -nt web/node_modules/.package-lock.json ] && [ $out -nt web/jssip-entry.js ]; then
		say "softphone bundle $out up to date"
		return
	fi
	say "bundling JsSIP for the softphone: $out"
	(cd web && npm run --silent build)
}

# meson setup once per build dir; later runs only compile
build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		say "configuring $dir: $*"
		meson setup "$dir" "$@"
	fi
	say "compiling $dir"
	meson compile -C "$dir"
}

cmd_run() {
	install_debs "${RUN_DEBS[@]}"
	install_node
	npm_deps web
	web_bundle
	build build -Dwerror=true
	say "starting rtcgate: http://localhost:8080/ and https://localhost:8443/ (Ctrl-C stops)"
	exec "$top/build/rtcgate" "$@"
}

cmd_test() {
	install_debs "${RUN_DEBS[@]}" "${TEST_DEBS[@]}"
	install_node
	npm_deps web
	web_bundle
	npm_deps tests
	build build -Dwerror=true -Dintegration=false
	CC=clang build build-asan -Dwerror=true -Db_sanitize=address,undefined \
		-Dc_args=-fno-sanitize-recover=all -Dfuzz=true
	say "running every test in build-asan (unit, integration, fuzz smoke, lint)"
	local rc=0
	meson test -C build-asan --print-errorlogs --num-processes 2 || rc=$?
	/usr/bin/python3 tests/summarize.py build-asan/meson-logs/testlog.json | tee build-asan/summary.txt
	return $rc
}

case "${1:-}" in
run) shift; cmd_run "$@" ;;
test) cmd_test ;;
*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
