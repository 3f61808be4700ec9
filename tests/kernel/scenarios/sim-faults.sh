# Scenario sim-faults: the simulator's faults on a real bus (KOBIL KAAN
# Base profile). Every bulk-IN delivery fault on one XfrBlock: the client
# gets the right answer or an error, never another answer as success, and
# the next APDU works. Every descriptor fault presented by a fresh
# enumeration (unplug, arm, plug): pcscd survives, and the reader plugged
# again with good descriptors works.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

# fault ARG -> step name (tests/sim/README.md, Faults)
SIM_IN_FAULTS="zlp-before-reply dup-reply in-error:babble in-error:proto in-error:crc
stall-in truncate late-reply:300 wtx:3 wrong-seq wrong-slot wrong-type bad-length:long
bad-length:short reply-data:short reply-data:long oversize no-reply"
SIM_DESC_FAULTS="slots255 msglen0 msglenmax rates clocks short total-short total-long"

KS_STEPS="present $(for f in $SIM_IN_FAULTS; do printf 'in-%s ' "$(echo "$f" | tr : -)"; done)
$(for d in $SIM_DESC_FAULTS; do printf 'desc-%s ' "$d"; done) fired"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=90

ks_prepare() { :; }
ks_qemu_devices() { ks_sim_devices "$1" default.txt -- builtin; }

step_present() { pcsc-steps wait KAAN card 60; }

in_fault() {
	sim fault $(echo "$1" | tr : ' ') cmd=XfrBlock &&
	    pcsc-steps strict KAAN $ECHO16 $ECHO16_RSP &&
	    pcsc-steps wait KAAN card 30 && pcsc-steps apdu KAAN $ECHO16 $ECHO16_RSP
}
desc_fault() {
	sim unplug && pcsc-steps wait KAAN absent 30 && sim fault desc "$1" && sim plug &&
	    sleep 4 && kill -0 "$(cat /tmp/pcscd.pid)" && sim unplug &&
	    pcsc-steps wait KAAN absent 30 && sim plug && pcsc-steps wait KAAN card 30 &&
	    pcsc-steps apdu KAAN $ECHO16 $ECHO16_RSP
}
for _f in $SIM_IN_FAULTS; do
	eval "step_in_$(echo "$_f" | tr ':-' '__')() { in_fault $_f; }"
done
for _f in $SIM_DESC_FAULTS; do
	eval "step_desc_$(echo "$_f" | tr '-' '_')() { desc_fault $_f; }"
done

# every armed fault fired (the simulator counts them)
step_fired() {
	_s=$(sim stats) || return 1
	_bad=
	for f in $SIM_IN_FAULTS; do
		n=${f%%:*}
		echo "$_s" | grep -q "\"$n\": [1-9]" || _bad="$_bad $n"
	done
	echo "$_s" | grep -q "\"desc\": 8" || _bad="$_bad desc"
	echo "faults_fired: $(echo "$_s" | grep -o '"faults_fired": {[^}]*}')"
	[ -z "$_bad" ] || { echo "not fired:$_bad"; return 1; }
}
