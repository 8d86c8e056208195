#!/bin/sh
# Fails when any C file of ours differs from what .clang-format makes of it.
set -eu
cd "$1"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
[ -n "$files" ] || { echo "no C files found"; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "formatted: $(echo "$files" | wc -w) files"
