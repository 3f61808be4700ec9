#!/bin/sh
# Run bench/bench.py in a private mount namespace (pcscd's socket and drop
# directories are compiled in; the bench bind-mounts private ones over
# them, see tests/integration/harness.py). Needs root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (unshare -m, mount --bind)" >&2
	exit 1
fi
mkdir -p /run/pcscd
OPENCCID_IT_HOST_MNTNS=$(readlink /proc/self/ns/mnt)
export OPENCCID_IT_HOST_MNTNS
exec unshare -m -- /bin/sh -c 'mount --make-rprivate / && exec /usr/bin/python3 "$0" "$@"' \
    "$here/bench.py" "$@"
