#!/bin/sh
# Run openccid's integration tests: the real pcscd with only a chosen driver
# bundle, in a private mount namespace, against the virtual USB reader
# (tests/sim/openccid-sim), driven by real clients.
#
#   tests/integration/run.sh [pytest args]
#
# Environment (all required unless a default is given; a missing one makes
# the tests FAIL, never skip):
#   OPENCCID_DROPDIR       directory holding the ifd-*.bundle dirs pcscd loads
#                          (make check-integration: the staged drop dir)
#   OPENCCID_READERS_TOOL  the installed openccid-readers (test_corpus_sample.py
#                          adds readers the shipped list leaves out with it)
#   OPENCCID_READERS_ROOT  the DESTDIR it is installed below (default: none,
#                          an installed package)
#   OPENCCID_SIM           the built openccid-sim binary
#   OPENCCID_SIM_PROFILES  profile directory (default tests/sim/profiles)
#   OPENCCID_PCSCD_GROUP  group the unprivileged pcscd runs in, as given to
#                          configure --with-pcscd-group (default pcscd;
#                          test_unprivileged.py)
#   PYTHON                 interpreter with pytest and pyscard (default
#                          /usr/bin/python3: Debian's python3-pyscard lives
#                          there, not in a pyenv/venv python)
# Needs root: unshare -m and bind mounts. Nothing leaks to the host's mount
# table: every mount happens inside the namespace and dies with it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

if [ "${OPENCCID_IT_IN_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "run.sh: the integration tests need root (unshare -m, mount --bind)" >&2
		exit 1
	fi
	command -v unshare >/dev/null 2>&1 || {
		echo "run.sh: unshare (util-linux) not found" >&2; exit 1; }
	# pcscd's socket directory is compiled in; it must exist on the host
	# side so that the namespace can bind-mount a private directory over it.
	mkdir -p /run/pcscd
	OPENCCID_IT_IN_NS=1
	# The harness checks it really runs in another mount namespace.
	OPENCCID_IT_HOST_MNTNS=$(readlink /proc/self/ns/mnt)
	export OPENCCID_IT_IN_NS OPENCCID_IT_HOST_MNTNS
	exec unshare -m -- /bin/sh "$0" "$@"
fi

# Inside the new mount namespace: stop mount events from propagating back.
mount --make-rprivate /

: "${OPENCCID_SIM_PROFILES:=$top/tests/sim/profiles}"
export OPENCCID_SIM_PROFILES
PYTHON=${PYTHON:-/usr/bin/python3}

# The source tree may be read-only (distcheck): no byte code, no cache.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
cd "$top"
exec "$PYTHON" -m pytest -p no:cacheprovider "$here" -v "$@"
