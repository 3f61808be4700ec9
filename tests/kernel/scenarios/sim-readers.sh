# Scenario sim-readers: reader shapes with the simulator as real USB
# devices: a 5-slot reader with commands on every slot at once (Teridian
# TSC12xxF, bMaxCCIDBusySlots 5), a composite device with two CCID
# interfaces (Broadcom 5880), an interface of class 0xFF (Verisign Secure
# Token), the Bludrive II descriptor layout (class descriptor after the
# endpoints), and the GemPC Pinpad's PIN entry (PC_to_RDR_Secure; the digits
# come from the simulator's pinpad-digits).
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="readers multislot composite class-ff bludrive pinpad-ok pinpad-wrong
pinpad-timeout pinpad-again"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=120

ks_prepare() { :; }
ks_qemu_devices() {
	ks_sim_devices "$1" Teridian_TSC12xxFV.09.txt Broadcom_5880_0x5832.txt \
	    Verisign_secure_token.txt BludriveII.txt GemPCPinpadv2.txt -- \
	    builtin builtin builtin builtin builtin builtin builtin builtin builtin builtin
}

step_readers() {
	for r in 'TSC12xxF#4' '5880#1' Verisign BLUDRIVE GemPCPinpad; do
		pcsc-steps wait "$r" card 60 || return 1
	done
}
step_multislot() {
	pcsc-steps slots 'TSC12xxF#0' 'TSC12xxF#1' 'TSC12xxF#2' 'TSC12xxF#3' 'TSC12xxF#4' || return 1
	_m=$(sim_stat max_in_flight)
	echo "max_in_flight ${_m:-?}"
	[ "${_m:-0}" -ge 2 ]
}
step_composite() { pcsc-steps slots '5880#0' '5880#1'; }
step_class_ff() { pcsc-steps sweep Verisign 255 5; }
step_bludrive() { pcsc-steps sweep BLUDRIVE 255 5; }
pinverify() {
	_sw=$(pcsc-steps pinverify GemPCPinpad) || { echo "$_sw"; return 1; }
	echo "SW $_sw"
	echo "$_sw" | grep -Eq "^$1\$"
}
step_pinpad_ok() { sim pinpad-digits 123456 && pinverify 9000; }
step_pinpad_wrong() { sim pinpad-digits 999999 && pinverify '63C[0-9A-F]'; }
step_pinpad_timeout() { sim pinpad-timeout && pinverify 6400; }
step_pinpad_again() {
	sim pinpad-digits 123456 && pinverify 9000 || return 1
	sim stats | grep -q '"pin_in_usb_data": false' || { echo "a PIN crossed USB in plain data"; return 1; }
}
