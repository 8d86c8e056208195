#!/usr/bin/env bash
# rtcgate set-up for a fresh Debian 12 machine (root). Idempotent.
#   ./setup.sh run    install what is missing, build, start rtcgate on its embedded default
#   ./setup.sh test   install what is missing, build (gcc -Werror, clang ASan+UBSan), run every test
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

say() { printf '==> %s\n' "$*"; }

RUN_DEBS=(meson ninja-build pkg-config gcc libc6-dev curl libglib2.0-dev libwebsockets-dev libosip2-dev
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

# libsrtp2 on OpenSSL, static, in .deps/ (not in git), from Debian's own source tarball of the
# libsrtp2 Debian ships: Debian builds it on NSS, which costs the media worker several µs per
# packet (docs/webrtc.md, "SRTP"). Same version, same API; only the crypto backend differs.
# Without the download, Debian's libsrtp2 (libsrtp2-dev) is used and the build says so.
SRTP_VER=2.5.0
SRTP_SHA256=8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09
SRTP_PREFIX=$top/.deps/libsrtp2-$SRTP_VER-openssl
srtp_openssl() {
	local src=$top/.deps/src tgz=libsrtp2_${SRTP_VER}.orig.tar.gz
	if [ -f "$SRTP_PREFIX/lib/pkgconfig/libsrtp2.pc" ]; then
		say "libsrtp2 $SRTP_VER on OpenSSL present in $SRTP_PREFIX"
		return 0
	fi
	say "building libsrtp2 $SRTP_VER on OpenSSL into $SRTP_PREFIX"
	mkdir -p "$src"
	if ! curl -fsS -m 120 -o "$src/$tgz" "http://deb.debian.org/debian/pool/main/libs/libsrtp2/$tgz" ||
		! echo "$SRTP_SHA256  $src/$tgz" | sha256sum -c --quiet; then
		say "WARNING: no libsrtp2 source; building on Debian's libsrtp2 (NSS: slower SRTP)"
		return 1
	fi
	rm -rf "$src/libsrtp-$SRTP_VER"
	tar xzf "$src/$tgz" -C "$src"
	(cd "$src/libsrtp-$SRTP_VER" &&
		meson setup b --prefix="$SRTP_PREFIX" --libdir=lib -Dcrypto-library=openssl \
			-Ddefault_library=static -Dtests=disabled -Ddoc=disabled -Dpcap-tests=disabled \
			-Dbuildtype=release -Db_ndebug=true >/dev/null &&
		ninja -C b install >/dev/null)
}

# the meson option that points the build at it, when it is there
srtp_option() {
	[ -f "$SRTP_PREFIX/lib/pkgconfig/libsrtp2.pc" ] && echo "-Dpkg_config_path=$SRTP_PREFIX/lib/pkgconfig"
	return 0
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
	srtp_openssl || true
	build build -Dwerror=true $(srtp_option)
	say "starting rtcgate: http://localhost:8080/ and https://localhost:8443/ (Ctrl-C stops)"
	exec "$top/build/rtcgate" "$@"
}

cmd_test() {
	install_debs "${RUN_DEBS[@]}" "${TEST_DEBS[@]}"
	install_node
	npm_deps web
	web_bundle
	npm_deps tests
	srtp_openssl || true
	build build -Dwerror=true -Dintegration=false $(srtp_option)
	CC=clang build build-asan -Dwerror=true -Db_sanitize=address,undefined \
		-Dc_args=-fno-sanitize-recover=all -Dfuzz=true $(srtp_option)
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
