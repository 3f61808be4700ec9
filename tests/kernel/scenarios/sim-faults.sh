# Scenario sim-faults: the simulator's bulk-IN delivery faults on a real bus
# (KOBIL KAAN Base profile), first half (sim-faults2.sh: the second half;
# sim-desc.sh: the descriptor faults). Each on one XfrBlock: the client
# gets the right answer or an error, never another answer as success, and
# the next APDU works; `fired`: the simulator counted every one.
SIM_IN_FAULTS="zlp-before-reply dup-reply in-error:babble in-error:proto in-error:crc
stall-in truncate late-reply:300 wtx:3"
if [ -n "${KS_SRC:-}" ]; then . "$KS_SRC/tests/kernel/scenarios/sim.inc"; else . /kscen/sim.inc; fi

KS_STEPS="present $(for f in $SIM_IN_FAULTS; do printf 'in-%s ' "$(echo "$f" | tr : -)"; done) fired"
KS_CONTROLLERS="xhci"
KS_TIMEOUT=90

ks_prepare() { :; }
ks_qemu_devices() { ks_sim_devices "$1" default.txt -- builtin; }

step_present() { pcsc-steps wait KAAN card 60; }
for _f in $SIM_IN_FAULTS; do
	eval "step_in_$(echo "$_f" | tr ':-' '__')() { sim_in_fault $_f; }"
done
step_fired() { sim_fired $SIM_IN_FAULTS; }
