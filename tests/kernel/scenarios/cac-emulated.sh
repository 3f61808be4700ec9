# Scenario cac-emulated: QEMU's own CCID reader (usb-ccid, 08E6:4433 "433-Swap")
# with libcacard's CAC card (ccid-card-emulated, three certificates with their
# keys from an NSS database this file makes on the host). A CCID
# implementation nobody here wrote, behind the guest's real kernel usbfs.
# Host side: ks_prepare, ks_qemu_devices, ks_action_*; guest side: step_*.
# (tests/kernel/README.md: how to add a scenario)

KS_STEPS="scan apdu-loop opensc-list opensc-atr opensc-apdu p11-list p11-objects p11-sign
card-out card-in reader-unplug reader-plug after-replug"
KS_CONTROLLERS="xhci ehci uhci ohci"
KS_TIMEOUT=60
# QEMU 7.2's OHCI model loses a short bulk-IN reply that ends a URB of more
# than one TD (README: "QEMU's OHCI"): openccid cannot open the reader there.
# The step shows that fault and that short reads work; it fails once QEMU
# is fixed, and then OHCI gets the whole list.
KS_STEPS_ohci="qemu-ohci-underrun"
KS_TIMEOUT_qemu_ohci_underrun=90

CAC_ATR="3B:7A:18:00:00:73:66:74:65:20:63:64:31:34:34"
CAC_PIN=77777777
# libcacard's CAC PKI applet for the first certificate (its AID)
CAC_SELECT="00:A4:04:00:07:A0:00:00:00:79:01:00"
P11=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so

# --- host side ------------------------------------------------------------

ks_prepare() {
	sh "$KS_SRC/tests/sim/mk-cacard-db.sh" "$1/nssdb" >/dev/null
}

ks_card() {
	echo "ccid-card-emulated,id=card0,bus=ccid0.0,backend=certificates,cert1=cert1,cert2=cert2,cert3=cert3,db=sql:$KS_WORK/nssdb"
}

# ks_qemu_devices BUS: the reader on the scenario's controller, and the card
ks_qemu_devices() {
	echo "-device usb-ccid,id=ccid0,bus=$1 -device $(ks_card)"
}

ks_action_card_out() { echo "device_del card0"; }
ks_action_card_in() { echo "device_add $(ks_card)"; }
ks_action_reader_out() { echo "device_del ccid0"; }
ks_action_reader_in() {
	echo "device_add usb-ccid,id=ccid0,bus=$ks_bus"
	echo "device_add $(ks_card)"
}

# --- guest side -----------------------------------------------------------

reader_listed() { opensc-tool -l 2>&1 | grep -q '433-Swap'; }
card_present() { opensc-tool -l 2>&1 | grep -q 'Yes.*433-Swap'; }
card_absent() { opensc-tool -l 2>&1 | grep -q 'No .*433-Swap'; }
reader_gone() { ! opensc-tool -l 2>&1 | grep -q '433-Swap'; }

step_scan() {
	pcsc_scan -n -t 6 >scan.out 2>&1
	cat scan.out
	kexpect 'Reader 0: .*433-Swap' scan.out &&
	    kexpect 'Card state: Card inserted' scan.out &&
	    kexpect "ATR: $(echo $CAC_ATR | tr : ' ')" scan.out
}

# a loop of APDUs on one connection: each SELECT of the CAC applet ends 90 00
step_apdu_loop() {
	n=40; a=
	i=0; while [ $i -lt $n ]; do a="$a -s $CAC_SELECT"; i=$((i + 1)); done
	opensc-tool -r 0 $a >loop.out 2>&1
	ok=$(grep -c 'SW1=0x90, SW2=0x00' loop.out)
	echo "$ok of $n answered 90 00"
	[ "$ok" = $n ] || { tail -20 loop.out; return 1; }
}

step_opensc_list() {
	opensc-tool -l >l.out 2>&1; cat l.out
	# QEMU's descriptor sets bPINSupport, so OpenSC shows "PIN pad"
	kexpect '^0 +Yes .*Gemalto .*433-Swap' l.out
}

step_opensc_atr() {
	opensc-tool -r 0 -a >a.out 2>&1; cat a.out
	kexpect "^$(echo $CAC_ATR | tr 'A-F' 'a-f')\$" a.out
}

step_opensc_apdu() {
	opensc-tool -r 0 -s "$CAC_SELECT" >s.out 2>&1; cat s.out
	kexpect 'SW1=0x90, SW2=0x00' s.out
}

step_p11_list() {
	pkcs11-tool --module $P11 -L >L.out 2>&1; cat L.out
	kexpect '^Slot 0 .*433-Swap' L.out &&
	    kexpect 'token label +: openccid test cert1' L.out
}

step_p11_objects() {
	pkcs11-tool --module $P11 -O --type cert >O.out 2>&1; cat O.out
	n=$(grep -cE 'subject: +DN: CN=openccid test cert[123], O=openccid' O.out)
	echo "$n certificates"
	[ "$n" = 3 ]
}

# sign with the first certificate's key on the card, verify with openssl
# against the certificate read from the card
step_p11_sign() {
	pkcs11-tool --module $P11 -O --type cert >O.out 2>&1
	id=$(awk '/CN=openccid test cert1/ { f = 1 } f && /ID:/ { print $2; exit }' O.out)
	[ -n "$id" ] || { cat O.out; echo "no certificate ID"; return 1; }
	pkcs11-tool --module $P11 --read-object --type cert --id "$id" -o cert.der >/dev/null 2>&1 &&
	    openssl x509 -inform DER -in cert.der -noout -pubkey >pub.pem || return 1
	i=0; while [ $i -lt 10 ]; do echo "openccid kernel stage"; i=$((i + 1)); done >msg
	pkcs11-tool --module $P11 --sign --login --pin $CAC_PIN --id "$id" \
	    -m SHA256-RSA-PKCS -i msg -o sig >p.out 2>&1 || { cat p.out; return 1; }
	openssl dgst -sha256 -verify pub.pem -signature sig msg
}

step_card_out() {
	card_present || { echo "no card before the removal"; return 1; }
	khost card-out
	kwait 20 card_absent || { opensc-tool -l; return 1; }
}

step_card_in() {
	khost card-in
	kwait 30 card_present || { opensc-tool -l; return 1; }
	opensc-tool -r 0 -a | grep -qi "^$CAC_ATR\$"
}

step_reader_unplug() {
	reader_listed || { echo "the reader was not listed before the unplug"; return 1; }
	khost reader-out
	kwait 20 reader_gone || { opensc-tool -l; return 1; }
}

step_reader_plug() {
	khost reader-in
	kwait 40 card_present || { opensc-tool -l; return 1; }
}

step_after_replug() {
	opensc-tool -r 0 -s "$CAC_SELECT" >s.out 2>&1; cat s.out
	kexpect 'SW1=0x90, SW2=0x00' s.out
}

# --- OHCI: QEMU's fault, shown ------------------------------------------
# usbmon text lines: "URB time S|C Bi:BUS:DEV:EP status length ..."
usb_reader() {
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/idVendor" 2>/dev/null):$(cat "$d/idProduct" 2>/dev/null)" = 08e6:4433 ] &&
		    return 0
	done
	return 1
}

# restart pcscd with usbmon capturing into $1, let the driver try for $2 s
pcscd_watched() {
	kstop_pcscd
	cat /sys/kernel/debug/usb/usbmon/0u >"$1" & _mon=$!
	kstart_pcscd
	sleep "$2"
	opensc-tool -l >"$1.list" 2>&1
	kill $_mon
}

step_qemu_ohci_underrun() {
	usb_reader || { echo "the kernel did not enumerate 08e6:4433"; return 1; }
	[ -e /sys/kernel/debug/usb/usbmon/0u ] || { echo "no usbmon"; return 1; }
	# openccid: each reply is read into one dwMaxCCIDMessageLength buffer
	pcscd_watched /tmp/mon.oc 8
	grep ' Bi:' /tmp/mon.oc | head -6
	# the GetSlotStatus went out, the big bulk-IN read completed with
	# status 0 and 0 bytes although QEMU's usb-ccid had answered 10 bytes
	grep -q ' S Bo:.* 10 = 65000000 ' /tmp/mon.oc ||
	    { echo "no GetSlotStatus on the wire"; return 1; }
	# (URB addresses are reused: take the completion after the submission)
	awk '!s && $3 == "S" && $4 ~ /^Bi:/ && $6 > 4096 { s = $1; next }
	    s && $1 == s && $3 == "C" { seen = 1; ok = ($5 == "0" && $6 == "0"); exit }
	    END { if (!seen) print "no big bulk-IN read completed"; exit (ok ? 0 : 1) }' /tmp/mon.oc ||
	    { echo "the big bulk-IN read did not complete empty: QEMU fixed? give OHCI the whole list"; return 1; }
	if grep -q '433-Swap' /tmp/mon.oc.list; then
		echo "openccid opened the reader on OHCI: QEMU fixed? give OHCI the whole list"
		return 1
	fi
	# Debian's libccid reads each reply with a buffer of its expected
	# size: one TD, which QEMU completes correctly
	kswap_drivers || return 1
	pcscd_watched /tmp/mon.lc 6
	kswap_drivers
	grep ' Bi:' /tmp/mon.lc | head -4
	grep -q ' C Bi:.* 0 10 = 81000000 ' /tmp/mon.lc ||
	    { echo "libccid's short read did not get the SlotStatus"; return 1; }
	opensc-tool -r 0 -a 2>&1 | tee /tmp/atr.lc
	kstop_pcscd; kstart_pcscd
	grep -qi "^$CAC_ATR\$" /tmp/atr.lc || { echo "no ATR through libccid"; return 1; }
	echo "KRESULT qemu-ohci: a short packet in a bulk-IN TD that is not its URB's last comes back as 0 bytes; one-TD reads work"
}
