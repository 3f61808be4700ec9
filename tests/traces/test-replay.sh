#!/bin/sh
# openccid - replay every committed trace (tests/traces/*.trace) through
# openccid-replay: each must PASS. Then the same trace with one byte of
# one reply altered must FAIL, so that this test can fail at all.
set -eu

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
tool="$builddir/openccid-replay"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$tool" ]; then
	echo "FAIL: $tool not built" >&2
	exit 1
fi
n=0
for t in "$srcdir"/tests/traces/*.trace; do
	[ -f "$t" ] || continue
	n=$((n + 1))
	out=$("$tool" "$t") || { echo "FAIL: $out" >&2; exit 1; }
	case $out in
	*": PASS "*) echo "$out" ;;
	*) echo "FAIL: no PASS for $t: $out" >&2; exit 1 ;;
	esac
	# The first reply that carries data (after its 10-byte header):
	# its first data byte gets another high nibble.
	bad="$tmp/$(basename "$t")"
	awk '!done && $2 == "in" && $3 ~ /^data=80/ && length($3) > 26 {
		c = substr($3, 26, 1)
		$3 = substr($3, 1, 25) (c == "0" ? "1" : "0") substr($3, 27)
		done = 1
	}
	{ print }
	END { if (!done) exit 3 }' "$t" >"$bad" || {
		echo "FAIL: $t has no reply to alter" >&2
		exit 1
	}
	if cmp -s "$t" "$bad"; then
		echo "FAIL: the altered copy of $t is identical" >&2
		exit 1
	fi
	rc=0
	out=$("$tool" "$bad") || rc=$?
	case "$rc:$out" in
	"1:"*": FAIL: line "*) echo "altered copy fails as it must: $out" ;;
	*) echo "FAIL: altered $t did not fail (exit $rc): $out" >&2; exit 1 ;;
	esac
done
if [ "$n" -lt 2 ]; then
	echo "FAIL: $n traces in $srcdir/tests/traces (the committed ones: tests/unit/trace.am lists them)" >&2
	exit 1
fi
