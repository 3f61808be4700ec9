# Scenario sim-desc2 (and sim-desc, the other half): every descriptor fault of the simulator presented to a
# real kernel by a fresh enumeration (KOBIL KAAN Base profile; unplug, arm
# `fault desc KIND`, plug): pcscd survives whatever the kernel and the
# driver make of it, and the reader plugged again with good descriptors
# works. `fired`: every one was presented.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

SIM_DESC_FAULTS="clocks short total-short total-long"
KS_STEPS="present $(for d in $SIM_DESC_FAULTS; do printf 'desc-%s ' "$d"; done) fired"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=90

ks_prepare() { :; }
ks_qemu_devices() { ks_sim_devices "$1" default.txt -- builtin; }

step_present() { pcsc-steps wait KAAN card 60; }
desc_fault() {
	sim unplug && pcsc-steps wait KAAN absent 30 && sim fault desc "$1" && sim plug &&
	    sleep 4 && kill -0 "$(cat /tmp/pcscd.pid)" && sim unplug &&
	    pcsc-steps wait KAAN absent 30 && sim plug && pcsc-steps wait KAAN card 30 &&
	    pcsc-steps apdu KAAN $ECHO16 $ECHO16_RSP
}
for _f in $SIM_DESC_FAULTS; do
	eval "step_desc_$(echo "$_f" | tr '-' '_')() { desc_fault $_f; }"
done
step_fired() {
	_s=$(sim stats) || return 1
	echo "faults_fired: $(echo "$_s" | grep -o '"faults_fired": {[^}]*}')"
	echo "$_s" | grep -q '"desc": 4'
}
