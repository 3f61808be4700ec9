# The guest's step library (POSIX sh, busybox ash), sourced by /init and by
# every step's shell. A scenario file (/kscen/NAME.sh) defines KS_STEPS and
# one function step_<name> per step (dashes in the name become
# underscores); a step passes when its function returns 0.

KS_LOG=/tmp/pcscd.log
KS_DROPDIR=/usr/lib/pcsc/drivers

kuptime() { cut -d' ' -f1 /proc/uptime; }

kstart_udevd() {
	/lib/systemd/systemd-udevd --daemon --resolve-names=never 2>/dev/null ||
	    echo "KLOG init: systemd-udevd did not start"
	udevadm trigger --action=add --subsystem-match=usb 2>/dev/null
	udevadm settle --timeout=20 2>/dev/null
}

# pcscd in the foreground (so that its log is ours), driver logs at
# KS_LOGLEVEL; waits for its socket
kstart_pcscd() {
	OPENCCID_LOG_LEVEL=$KS_LOGLEVEL pcscd --foreground --debug --apdu \
	    >>"$KS_LOG" 2>&1 &
	echo $! >/tmp/pcscd.pid
	i=0
	while [ ! -S /run/pcscd/pcscd.comm ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -S /run/pcscd/pcscd.comm ] || echo "KLOG init: pcscd socket missing"
}

kstop_pcscd() {
	[ -f /tmp/pcscd.pid ] || return 0
	kill "$(cat /tmp/pcscd.pid)" 2>/dev/null
	i=0
	while kill -0 "$(cat /tmp/pcscd.pid)" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -9 "$(cat /tmp/pcscd.pid)" 2>/dev/null
	rm -f /tmp/pcscd.pid /run/pcscd/pcscd.comm
}

# Ask the host to act on QEMU (a named action of the scenario's host side,
# e.g. card-out); the step then waits for the effect itself.
khost() { echo "KHOST $*" >/dev/console; }

# kwait SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds
kwait() {
	_t=$1; shift
	_end=$(( $(cut -d. -f1 /proc/uptime) + _t ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}

# kexpect PATTERN FILE: FILE (a client's output) holds PATTERN (grep -E);
# else say what was expected
kexpect() {
	grep -Eq "$1" "$2" && return 0
	echo "expected /$1/ in $(basename "$2")"
	return 1
}

# kstep NAME: run step_NAME in its own session, bounded by the step's
# timeout (variable KS_TIMEOUT_<name>, else KS_TIMEOUT, else 60 s); print
# one verdict line, and on failure the step's output and the pcscd/driver
# log lines written meanwhile
kstep() {
	_name=$1
	_fn=step_$(echo "$_name" | tr - _)
	eval "_tmo=\${KS_TIMEOUT_$(echo "$_name" | tr - _):-\${KS_TIMEOUT:-60}}"
	_from=$(wc -l <"$KS_LOG")
	_t0=$(kuptime)
	mkdir -p /tmp/step
	setsid sh -c '. /kscen/kstep.sh; . "/kscen/$KS_SCEN.sh"; cd /tmp/step && '"$_fn" \
	    >/tmp/step.out 2>&1 &
	_pid=$!
	_end=$(( $(cut -d. -f1 /proc/uptime) + _tmo ))
	_to=
	while kill -0 $_pid 2>/dev/null; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
			kill -9 -$_pid 2>/dev/null; kill -9 $_pid 2>/dev/null
			_to=1
			break
		fi
		sleep 0.1
	done
	wait $_pid; _rc=$?
	_dt=$(awk -v a="$_t0" -v b="$(kuptime)" 'BEGIN { printf "%.2f", b - a }')
	if [ -z "$_to" ] && [ $_rc = 0 ]; then
		echo "KSTEP $_name PASS ${_dt}s $(grep '^KRESULT ' /tmp/step.out | cut -d' ' -f2- | tr '\n' ' ')"
		grep '^KRESULT ' /tmp/step.out | sed "s/^KRESULT /KRESULT $_name /"
		return 0
	fi
	if [ -n "$_to" ]; then
		echo "KSTEP $_name FAIL timeout after ${_tmo}s"
	else
		echo "KSTEP $_name FAIL exit $_rc after ${_dt}s"
	fi
	tail -n 25 /tmp/step.out | sed "s/^/KLOG $_name out: /"
	tail -n +$((_from + 1)) "$KS_LOG" |
	    grep -iE 'openccid|ifdhandler|ccid|error|fail|timeout|protocol|unresponsive|removed|inserted|reader' |
	    tail -n 30 | sed "s/^/KLOG $_name pcscd: /"
	return 1
}

# kswap_drivers: exchange the drop dir's bundle with the one in
# /kdrivers-alt (run.py --alt-bundle; e.g. Debian's libccid), for the next
# pcscd start
kswap_drivers() {
	[ -d /kdrivers-alt ] || { echo "no alternative driver in this initramfs"; return 1; }
	mkdir -p /tmp/kswap
	mv "$KS_DROPDIR"/* /tmp/kswap/ && mv /kdrivers-alt/* "$KS_DROPDIR"/ &&
	    mv /tmp/kswap/* /kdrivers-alt/
}
