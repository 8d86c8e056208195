#!/bin/sh
# Fuzz smoke for CI: run one libFuzzer target for a short, bounded time over
# the committed corpus (read-only) plus a scratch corpus in the build tree.
# A crash exits 1: libFuzzer's default (77) would count as a skip in meson.
# usage: run.sh FUZZER SOURCE_CORPUS SCRATCH_DIR SECONDS
set -eu
fuzzer=$1 corpus=$2 scratch=$3 seconds=$4
mkdir -p "$scratch/corpus" "$scratch/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -error_exitcode=1 \
	-artifact_prefix="$scratch/artifacts/" "$scratch/corpus" "$corpus"
