#!/bin/sh
# openccid - the clang static analyzer (scan-build) over a build of the
# driver module and the tools (everything `make` builds).
#
# usage: tests/scan-build.sh
# env:   OPENCCID_SCAN_DIR  build directory, recreated (default
#                           /tmp/openccid-scan); HTML reports go to
#                           its reports/ subdirectory
#        SCAN_BUILD         the scan-build command (default scan-build;
#                           Debian: clang-tools-14)
#        JOBS               make -j (default 2)
#
# Exits non-zero on any report (--status-bugs) or a failed build. Besides
# the default checkers (core, deadcode, nullability, security, unix) it
# enables:
#   security.insecureAPI.strcpy    strcpy/strcat: we bound every copy
#   security.insecureAPI.rand      rand() has no place in a driver
#   security.FloatLoopCounter      loops count in integers
#   optin.portability.UnixAPI      malloc(0) and similar
#   valist.CopyToSelf, valist.Uninitialized, valist.Unterminated
#                                  the log functions' va_lists
#   alpha.unix.cstring.OutOfBounds, alpha.unix.cstring.BufferOverlap
#                                  memcpy/memset bounds and overlap: the
#                                  driver copies device data everywhere
# A finding is fixed; a proven false positive is suppressed at its line
# with a comment saying why (#ifndef __clang_analyzer__ only as a last
# resort), never by dropping a checker here.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${OPENCCID_SCAN_DIR:-/tmp/openccid-scan}
sb=${SCAN_BUILD:-scan-build}
jobs=${JOBS:-2}

if ! command -v "$sb" >/dev/null 2>&1; then
	echo "scan-build.sh: $sb not found (Debian: apt-get install clang-tools-14)" >&2
	exit 1
fi
[ -x "$top/configure" ] || { echo "scan-build.sh: run scripts/bootstrap first" >&2; exit 1; }

checkers="security.insecureAPI.strcpy security.insecureAPI.rand
security.FloatLoopCounter optin.portability.UnixAPI valist.CopyToSelf
valist.Uninitialized valist.Unterminated alpha.unix.cstring.OutOfBounds
alpha.unix.cstring.BufferOverlap"
enable=
for c in $checkers; do
	enable="$enable -enable-checker $c"
done

rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
# configure under scan-build too, so that CC is its compiler wrapper
if ! "$sb" "$top/configure" >configure.out 2>&1; then
	tail -30 configure.out >&2
	exit 1
fi
# shellcheck disable=SC2086 # word splitting of the checker options intended
"$sb" $enable -o "$dir/reports" --status-bugs make -j"$jobs" >make.out 2>&1 || {
	grep -E 'warning:|error:|scan-build:' make.out >&2 || tail -40 make.out >&2
	echo "scan-build.sh: reports in $dir/reports" >&2
	exit 1
}
grep 'scan-build:' make.out
