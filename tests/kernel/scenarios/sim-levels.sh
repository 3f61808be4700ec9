# Scenario sim-levels: the simulator as real USB readers at the APDU levels
# (tests/kernel/README.md "The simulator as a real USB device"): extended
# APDU (KOBIL KAAN Base) and short APDU (XIRING Leo v2); sim-tpdu.sh has
# the TPDU and character levels. Echo APDUs (the built-in card's 80 01) of
# every length; answers cross the guest's bus in 64-byte packets with a
# zero-length packet after an exact multiple of 64.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="readers ext-loop ext-sweep ext-64k ext-edges short-sweep zlp-on-bus"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=120

ks_prepare() { :; }
ks_qemu_devices() { ks_sim_devices "$1" default.txt @vidpid:0f14:0038 -- builtin builtin; }

step_readers() { pcsc-steps wait KAAN card 60 && pcsc-steps wait Leo card 60; }
step_ext_loop() {
	pcsc-steps loop KAAN 200 >loop.out; _rc=$?
	cat loop.out
	echo "KRESULT ext-loop usb-redir ${KS_HC:-?}: $(cat loop.out)"
	return $_rc
}
step_ext_sweep() { pcsc-steps sweep KAAN 4000 97; }
step_ext_64k() { pcsc-steps sweep KAAN 65535 8191; }
# DataBlocks of 10 + n + 2 bytes around multiples of 64 (n = 52, 116, 180,
# 244 end on a packet boundary: a zero-length packet ends them)
step_ext_edges() { pcsc-steps lens KAAN 1 51 52 53 115 116 117 179 180 181 243 244 245; }
step_short_sweep() { pcsc-steps sweep Leo 255 1; }
step_zlp_on_bus() {
	_z=$(sim_stat zlp); _p=$(sim_stat bulk_in)
	echo "bulk-IN packets ${_p:-?}, zero-length ${_z:-?}"
	[ "${_z:-0}" -gt 0 ]
}
