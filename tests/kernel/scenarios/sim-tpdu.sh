# Scenario sim-tpdu: the simulator as real USB readers at the TPDU level
# (two Lenovo readers: a T=1 and a T=0 card); echo APDUs of every length,
# extended ones over T=1 chaining. sim-char.sh: the character level.
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="readers t1-sweep t1-ext t0-sweep"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=120

ks_prepare() { :; }
ks_qemu_devices() {
	ks_sim_devices "$1" @vidpid:17ef:1003 @vidpid:17ef:1003 -- builtin builtin:proto=0
}

step_readers() { pcsc-steps wait 'Lenovo#1' card 60; }
step_t1_sweep() { pcsc-steps sweep 'Lenovo#0' 255 1; }
step_t1_ext() { pcsc-steps sweep 'Lenovo#0' 3000 101; }
step_t0_sweep() { pcsc-steps sweep 'Lenovo#1' 255 1; }
