# Scenario sim-levels: the simulator as six real USB readers, one per
# exchange level (tests/kernel/README.md "The simulator as a real USB
# device"): extended APDU (KOBIL KAAN Base), short APDU (XIRING Leo v2),
# TPDU with a T=1 and a T=0 card (two Lenovo readers), character level with
# a T=1 and a T=0 card (two Winbond readers). Echo APDUs (the built-in
# card's 80 01) of every length; answers cross the guest's bus in 64-byte
# packets with a zero-length packet after an exact multiple of 64.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="readers ext-loop ext-sweep ext-64k ext-edges short-sweep t1-sweep t1-ext
t0-sweep char-t1 char-t0 zlp-on-bus"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=120

ks_prepare() { :; }
ks_qemu_devices() {
	ks_sim_devices "$1" default.txt @vidpid:0f14:0038 @vidpid:17ef:1003 @vidpid:17ef:1003 \
	    @dump:Winbond.txt @dump:Winbond.txt -- \
	    builtin builtin builtin builtin:proto=0 builtin builtin:proto=0
}

step_readers() {
	for r in KAAN Leo 'Lenovo#1' 'Winbond#1'; do
		pcsc-steps wait "$r" card 60 || return 1
	done
}
step_ext_loop() {
	pcsc-steps loop KAAN 300 >loop.out; _rc=$?
	cat loop.out
	echo "KRESULT ext-loop usb-redir xhci: $(cat loop.out)"
	return $_rc
}
step_ext_sweep() { pcsc-steps sweep KAAN 4000 97; }
step_ext_64k() { pcsc-steps sweep KAAN 65535 8191; }
# DataBlocks of 10 + n + 2 bytes around multiples of 64 (n = 52, 116, 180,
# 244 end on a packet boundary: a zero-length packet ends them)
step_ext_edges() {
	for n in 1 51 52 53 115 116 117 179 180 181 243 244 245; do
		pcsc-steps sweep KAAN $n $n || return 1
	done
}
step_short_sweep() { pcsc-steps sweep Leo 255 1; }
step_t1_sweep() { pcsc-steps sweep 'Lenovo#0' 255 1; }
step_t1_ext() { pcsc-steps sweep 'Lenovo#0' 3000 101; }
step_t0_sweep() { pcsc-steps sweep 'Lenovo#1' 255 1; }
step_char_t1() { pcsc-steps sweep 'Winbond#0' 255 3; }
step_char_t0() { pcsc-steps sweep 'Winbond#1' 255 3; }
step_zlp_on_bus() {
	_z=$(sim_stat zlp); _p=$(sim_stat bulk_in)
	echo "bulk-IN packets ${_p:-?}, zero-length ${_z:-?}"
	[ "${_z:-0}" -gt 0 ]
}
