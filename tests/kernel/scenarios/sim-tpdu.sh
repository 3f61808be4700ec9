# Scenario sim-tpdu: the simulator as real USB readers at the TPDU level
# (two Lenovo readers: a T=1 and a T=0 card) and the character level (two
# Winbond readers: T=1 and T=0); echo APDUs of every length, extended ones
# over T=1 chaining.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="readers t1-sweep t1-ext t0-sweep char-t1 char-t0"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=120

ks_prepare() { :; }
ks_qemu_devices() {
	ks_sim_devices "$1" @vidpid:17ef:1003 @vidpid:17ef:1003 @dump:Winbond.txt @dump:Winbond.txt -- \
	    builtin builtin:proto=0 builtin builtin:proto=0
}

step_readers() { pcsc-steps wait 'Lenovo#1' card 60 && pcsc-steps wait 'Winbond#1' card 60; }
step_t1_sweep() { pcsc-steps sweep 'Lenovo#0' 255 1; }
step_t1_ext() { pcsc-steps sweep 'Lenovo#0' 3000 101; }
step_t0_sweep() { pcsc-steps sweep 'Lenovo#1' 255 1; }
step_char_t1() { pcsc-steps sweep 'Winbond#0' 255 3; }
step_char_t0() { pcsc-steps sweep 'Winbond#1' 255 3; }
