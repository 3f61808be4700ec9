# Scenario cac-bench (make bench-kernel): the numbers of issue 24 item 6,
# openccid and Debian's libccid in the same guest run, on QEMU's usb-ccid
# with libcacard's CAC card (the devices and host actions of cac-emulated):
# ms per APDU (200 SELECTs on one connection) and plug to first APDU (the
# USB device in the guest's sysfs -> reader listed by pcscd -> connect ->
# one APDU answered), timed in the guest by kbench (tests/kernel/kbench.c,
# run.py --extra-bin). Runs only when named (KS_BY_NAME).
. "$KS_SCEN_DIR/cac-emulated.sh"

KS_BY_NAME=1
KS_STEPS="oc-apdu oc-plug lc-switch lc-apdu lc-plug"
# UHCI: the controller where both drivers pass every step (README)
KS_CONTROLLERS="uhci"
KS_TIMEOUT=120
BENCH_APDUS=200

bench_apdu() {
	kwait 30 card_present || { opensc-tool -l; return 1; }
	r=$(kbench apdu $BENCH_APDUS) || return 1
	echo "KRESULT $1 $r"
}

usb_gone() { ! usb_reader; }

# unplug the reader, then time its plug from the guest's side
bench_plug() {
	khost reader-out
	kwait 20 reader_gone || { echo "reader still listed"; return 1; }
	kwait 20 usb_gone || { echo "08e6:4433 still in sysfs"; return 1; }
	kbench plug 08e6:4433 60 >plug.out 2>&1 &
	p=$!
	sleep 0.5
	khost reader-in
	wait $p || { cat plug.out; return 1; }
	echo "KRESULT $1 $(cat plug.out)"
}

step_oc_apdu() { bench_apdu openccid; }
step_oc_plug() { bench_plug openccid; }
step_lc_switch() {
	kstop_pcscd
	kswap_drivers || return 1
	ls "$KS_DROPDIR" | grep -qx ifd-ccid.bundle || { ls "$KS_DROPDIR"; return 1; }
	kstart_pcscd
	kwait 30 card_present || { opensc-tool -l; return 1; }
}
step_lc_apdu() { bench_apdu libccid; }
step_lc_plug() { bench_plug libccid; }
