#!/bin/sh
# openccid - the seeds in tests/fuzz/corpus/driver/seed-* are exactly what
# tests/fuzz/mk_driver_seeds.py writes: reproducible, and regenerated
# whenever the input format of fuzz_driver.c changes.
set -eu

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
corpus=$top/tests/fuzz/corpus/driver
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

python3 "$top/tests/fuzz/mk_driver_seeds.py" "$tmp"
n=0
for f in "$tmp"/seed-*; do
	name=$(basename "$f")
	if ! cmp -s "$f" "$corpus/$name"; then
		echo "check_driver_seeds: $name differs from the generator's;" \
		    "run tests/fuzz/mk_driver_seeds.py" >&2
		exit 1
	fi
	n=$((n + 1))
done
for f in "$corpus"/seed-*; do
	if [ ! -f "$tmp/$(basename "$f")" ]; then
		echo "check_driver_seeds: $(basename "$f") is not generated" >&2
		exit 1
	fi
done
if [ "$n" -lt 9 ]; then
	echo "check_driver_seeds: only $n seeds" >&2
	exit 1
fi
echo "check_driver_seeds: $n seeds match"
