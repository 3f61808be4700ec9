# Scenario sim-char: the simulator as real USB readers at the character
# level (two Winbond readers: a T=1 and a T=0 card; the driver does the
# T=0 procedure bytes and T=1 blocks itself); echo APDUs 0..255.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="readers char-t1 char-t0"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=120

ks_prepare() { :; }
ks_qemu_devices() {
	ks_sim_devices "$1" @dump:Winbond.txt @dump:Winbond.txt -- builtin builtin:proto=0
}

step_readers() { pcsc-steps wait 'Winbond#1' card 60; }
step_char_t1() { pcsc-steps sweep 'Winbond#0' 255 3; }
step_char_t0() { pcsc-steps sweep 'Winbond#1' 255 3; }
