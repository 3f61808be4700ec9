# Scenario sim-events: card and device hot-plug with the simulator as a real
# USB reader (KOBIL KAAN Base profile): NotifySlotChange on interrupt-IN,
# usbredir device_disconnect / device_connect (the guest's kernel sees the
# device leave and a new enumeration, udev tells pcscd), both also during an
# APDU.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="present card-remove card-insert unplug plug unplug-during-apdu replug
card-remove-during-apdu"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=90

ks_prepare() { :; }
ks_qemu_devices() { ks_sim_devices "$1" default.txt -- builtin; }

step_present() { pcsc-steps wait KAAN card 60; }
step_card_remove() { sim card-remove 0 && pcsc-steps wait KAAN nocard 20; }
step_card_insert() {
	sim card-insert 0 && pcsc-steps wait KAAN card 20 &&
	    pcsc-steps apdu KAAN $ECHO16 $ECHO16_RSP
}
step_unplug() { sim unplug && pcsc-steps wait KAAN absent 30; }
step_plug() {
	sim plug && pcsc-steps first KAAN $ECHO16 $ECHO16_RSP 60 >first.out; _rc=$?
	cat first.out
	echo "KRESULT plug-to-first-APDU usb-redir ${KS_HC:-?}: $(cat first.out)"
	return $_rc
}
# the APDU must fail (no answer, the device is gone), the reader must leave
step_unplug_during_apdu() {
	sim fault unplug-during-xfr cmd=XfrBlock && pcsc-steps fail KAAN $ECHO16 &&
	    pcsc-steps wait KAAN absent 30
}
step_replug() {
	sim plug && pcsc-steps first KAAN $ECHO16 $ECHO16_RSP 60
}
step_card_remove_during_apdu() {
	sim fault card-remove-during-xfr cmd=XfrBlock && pcsc-steps fail KAAN $ECHO16 &&
	    pcsc-steps wait KAAN nocard 20 && sim card-insert 0 &&
	    pcsc-steps wait KAAN card 20 && pcsc-steps apdu KAAN $ECHO16 $ECHO16_RSP
}
