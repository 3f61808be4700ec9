#!/bin/sh
# openccid - static analysis: cppcheck and clang-tidy over src/.
#
# usage: tests/lint.sh [FILE.c ...]     (default: every src/*/*.c)
# env:   OPENCCID_BUILD_DIR  a configured build tree whose config.h to use
#                            (default: an empty stand-in; the sources need
#                            nothing from it to be analysed)
#        CPPCHECK, CLANG_TIDY  tool names (default cppcheck, clang-tidy)
#
# Exits non-zero on any finding of either tool (clang-tidy checks and
# WarningsAsErrors come from the top-level .clang-tidy).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cppcheck=${CPPCHECK:-cppcheck}
tidy=${CLANG_TIDY:-clang-tidy}

if [ $# -gt 0 ]; then
	files="$*"
else
	files=$(ls src/*/*.c)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ -n "${OPENCCID_BUILD_DIR:-}" ] && [ -f "$OPENCCID_BUILD_DIR/config.h" ]; then
	cfgdir=$OPENCCID_BUILD_DIR
else
	: >"$tmp/config.h"
	cfgdir=$tmp
fi

# Same dialect as configure's AM_CFLAGS, plus the dependency headers.
pkgflags=$(pkg-config --cflags libpcsclite libusb-1.0 2>/dev/null || true)
cflags="-std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I$cfgdir -I$top/src $pkgflags"

status=0

echo "== cppcheck"
# variableScope fights the KNF habit of declaring at the top of a block.
# shellcheck disable=SC2086 # word splitting of the file list intended
if ! "$cppcheck" --enable=warning,style,performance,portability \
    --std=c11 --inline-suppr --error-exitcode=1 --quiet \
    --suppress=variableScope --suppress=missingIncludeSystem \
    -I "$cfgdir" -I src $files; then
	status=1
fi

echo "== clang-tidy"
for f in $files; do
	# shellcheck disable=SC2086 # word splitting of flags intended
	if ! "$tidy" --quiet --config-file="$top/.clang-tidy" "$f" -- $cflags >"$tmp/tidy.out" 2>&1; then
		grep -v '^[0-9]* warnings\? generated\.$' "$tmp/tidy.out" || true
		status=1
	fi
done

[ $status -eq 0 ] && echo "lint: clean"
exit $status
