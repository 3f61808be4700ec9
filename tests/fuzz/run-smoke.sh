#!/bin/sh
# openccid - bounded libFuzzer smoke run over every tests/fuzz/fuzz_*.c.
#
# usage: run-smoke.sh [SECONDS]     (default 20 per harness)
# env:   OPENCCID_FUZZ_DIR  build and scratch directory (default
#                           /tmp/openccid-fuzz)
#        CLANG              compiler (default clang)
#
# Each harness is built against the codec sources that exist, then run over
# a scratch copy of tests/fuzz/corpus/<name>/ (name = file name minus
# "fuzz_") for SECONDS with -max_total_time. New inputs and crash artifacts
# stay in the build directory; nothing is written back into the tree.
# Exits non-zero if a harness fails to build or any run finds a crash.
set -eu

secs=${1:-20}
case $secs in
''|*[!0-9]*) echo "run-smoke.sh: SECONDS must be a number" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${OPENCCID_FUZZ_DIR:-/tmp/openccid-fuzz}
cc=${CLANG:-clang}

# L0/L1 sources; only the ones present are linked, so harnesses can land
# before or after the modules they do not use.
codec="err bytes devname ccid_desc ccid_msg iccd_msg atr redact quirks_keys quirks_parse quirks quirks_describe plist t1 t0 t0_char pps trace_names trace_fmt trace_fields trace_parse"
srcs=
for m in $codec; do
	for f in "$top"/src/*/"$m".c; do
		[ -f "$f" ] && srcs="$srcs $f"
	done
done

# "fuzz-srcs: @driver" stands for the rest of the driver: every src/*/*.c
# but the codecs above and usb.c (a harness brings its own transport), so
# that a new driver file needs no harness edit.
driver=
for f in "$top"/src/*/*.c; do
	m=$(basename "$f" .c)
	case " $codec usb " in
	*" $m "*) ;;
	*) driver="$driver $f" ;;
	esac
done

mkdir -p "$out/include" "$out/gen"
# The codec sources include config.h first; they need nothing from it.
: >"$out/include/config.h"
# Generated sources a harness may name ("fuzz-gen-srcs:"), built the way
# src/quirks/quirks.am builds them.
python3 "$top/tools/embed-quirks.py" "$out/gen/quirks_builtin.c" \
    "$top"/quirks/*.quirks
python3 "$top/bundle/gen-reader-notes.py" -o "$out/gen/reader_notes_data.c" \
    "$top/bundle/readers.list"

cflags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 -std=c11 -D_DEFAULT_SOURCE -I $out/include -I $top/src"

fail=0
found=0
for h in "$here"/fuzz_*.c; do
	[ -f "$h" ] || continue
	found=$((found + 1))
	name=$(basename "$h" .c)
	name=${name#fuzz_}
	bin="$out/fuzz_$name"
	echo "== fuzz_$name: build"
	# a harness names the sources and libraries it needs beyond the
	# codecs: "fuzz-srcs: PATH..." (relative to the top, or @driver),
	# "fuzz-gen-srcs: FILE..." (generated above, in $out/gen) and
	# "fuzz-ldflags: FLAGS" lines in its header comment
	extra=
	# shellcheck disable=SC2013 # a list of words, not lines
	for f in $(sed -n 's/^ \* fuzz-srcs: *//p' "$h"); do
		case $f in
		@driver) extra="$extra $driver" ;;
		*) extra="$extra $top/$f" ;;
		esac
	done
	extra="$extra $(sed -n 's/^ \* fuzz-gen-srcs: *//p' "$h" | sed "s|[^ ][^ ]*|$out/gen/&|g")"
	ldflags=$(sed -n 's/^ \* fuzz-ldflags: *//p' "$h")
	# shellcheck disable=SC2086 # word splitting of flags/sources intended
	if ! $cc $cflags -o "$bin" "$h" $srcs $extra $ldflags; then
		echo "== fuzz_$name: BUILD FAILED" >&2
		fail=1
		continue
	fi
	seed="$here/corpus/$name"
	work="$out/corpus-$name"
	rm -rf "$work"
	mkdir -p "$work" "$out/artifacts-$name"
	set -- "$work"
	# libFuzzer adds new units to the first directory only: the scratch one.
	[ -d "$seed" ] && set -- "$work" "$seed"
	echo "== fuzz_$name: run ${secs}s"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$out/artifacts-$name/" \
	    "$@" >"$out/fuzz_$name.log" 2>&1; then
		echo "== fuzz_$name: FAILED (log: $out/fuzz_$name.log)" >&2
		tail -n 40 "$out/fuzz_$name.log" >&2
		fail=1
		continue
	fi
	grep -E '^stat::(number_of_executed_units|new_units_added)' \
	    "$out/fuzz_$name.log" | sed "s/^/   /" || true
	echo "== fuzz_$name: ok"
done

if [ "$found" -eq 0 ]; then
	echo "run-smoke.sh: no harness in $here" >&2
	exit 1
fi
exit $fail
