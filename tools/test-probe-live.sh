#!/bin/sh
# openccid-probe on simulated readers (tests/sim, umockdev): the decode of
# a live device, the class requests, the quirk rows, and the printed
# quirks entry fed back through tools/quirks-check and a run-time quirks
# directory, where it must make the reader usable again.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
b=${top_builddir:-.}
probe=$b/openccid-probe
sim=$b/tests/sim/openccid-sim
qc=$b/tools/quirks-check
for f in "$probe" "$sim" "$qc"; do
	[ -x "$f" ] || { echo "FAIL: $f not built (umockdev missing?)"; exit 1; }
done
# The umockdev preload for a program; an ASan build (configure
# --enable-sanitizers) needs its runtime first in the list.
preload_for() {
	asan=$(readelf -d "$1" 2>/dev/null |
	    sed -n 's/.*\[\(libasan\.so[.0-9]*\)\].*/\1/p' | head -n 1)
	echo "${asan:+$asan:}libumockdev-preload.so.0"
}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail=0

start_sim() { # profile (a name in tests/sim/profiles, or a path) [simulator args...]
	[ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null; }
	rm -f "$tmp/ready"
	case $1 in
	*/*) prof=$1 ;;
	*) prof=$top_srcdir/tests/sim/profiles/$1 ;;
	esac
	shift
	LD_PRELOAD=$(preload_for "$sim") "$sim" --profile "$prof" "$@" \
	    --control "$tmp/ctl" --ready-file "$tmp/ready" --log "$tmp/sim.log" \
	    >"$tmp/sim.out" 2>&1 &
	pid=$!
	i=0
	while [ ! -s "$tmp/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$tmp/ready" ] || { echo "FAIL: simulator not ready"; cat "$tmp/sim.out"; exit 1; }
	tb=$(cat "$tmp/ready")
}
run_probe() { # args...; output in $out
	out=$(LD_PRELOAD=$(preload_for "$probe") UMOCKDEV_DIR=$tb "$probe" "$@" 2>&1)
}
has() { # description, expected substring (in $out)
	case $out in
	*"$2"*) echo "ok: $1" ;;
	*) echo "FAIL: $1: wanted '$2' in:"; echo "$out"; fail=1 ;;
	esac
}
hasnt() {
	case $out in
	*"$2"*) echo "FAIL: $1: did not want '$2' in:"; echo "$out"; fail=1 ;;
	*) echo "ok: $1" ;;
	esac
}
# The lists of "show" (text) in $all: the rows acting on the device, and
# those acting only on a run-time condition.
acting() { printf '%s\n' "$all" | sed -n '/^quirks:$/,/^quirks [ae]/p'; }
conditional() {
	printf '%s\n' "$all" | sed -n '/^quirks acting only on a run-time condition:$/,/^quirks entry:$/p'
}

# --- BLUDRIVE II: class descriptor after the endpoints (libccid D2) ---
start_sim BludriveII.txt
mkdir "$tmp/empty"
run_probe show -q "$tmp/empty"
has "bludrive listed as CCID" 'usb:1b0e/1078 interface 0 class 0x0B "BLUTRONICS BLUDRIVE II CCID": CCID'
has "descriptor place" "class descriptor:       type 0x21, after the endpoints"
has "level" "dwFeatures:             0x00010130 (TPDU exchange)"
has "message length" "dwMaxCCIDMessageLength: 271"
has "GET_CLOCK_FREQUENCIES" "GET_CLOCK_FREQUENCIES:  3580 (kHz)"
has "GET_DATA_RATES" "GET_DATA_RATES:         9600, 12800, 13950, 18600, 19200, 23040, 27900, 28800, 37200, 38400, 55800, 57600, 74400, 111600, 115200 (bps)"
has "built-in quirk row shown" "descriptor.quirks:"
has "quirk row key" ": class_desc_after_endpoints"
# Generic rows ("match any") whose condition excludes this reader are not
# its quirks: it is CCID (bInterfaceProtocol 0), class 0x0B, reports
# dwMaxCCIDMessageLength 271 and has no PIN pad.
all=$out
out=$(acting)
# The row's line number from the file: rows above it come and go.
warmup=$(grep -n '^set open_warmup_tries=2 ' "$top_srcdir/quirks/open.quirks" | cut -d: -f1)
has "generic row acting on every reader" "open.quirks:$warmup: open_warmup_tries=2"
has "interrupt-IN endpoint: drained at open" ": open_drain_interrupt_ms=100"
hasnt "ICCD-only power cycle on a CCID reader" "iccd_open_power_cycle"
hasnt "ICCD-B-only level on a CCID reader" "iccd_b_short_as_extended"
hasnt "ICCD-only transfer cap on a CCID reader" "iccd_max_transfer"
hasnt "class-0xFF-only key on class 0x0B" "vendor_class_any_len54"
hasnt "length fix for 263 on a 271 reader" "msg_len_fix_from"
out=$all
hasnt "PIN pad key on a reader without PIN pad" "pinpad_validation_invalid_fix"
hasnt "no conditional list when nothing is conditional" "quirks acting only on a run-time condition"
has "reader list line" "$(printf '1b0e:1078\tlocal\tBLUTRONICS BLUDRIVE II CCID')"
# The entry, as printed, is a valid quirks file that quirks-check accepts
# and that gives the device the key.
printf '%s\n' "$out" | sed -n '/^quirks entry:$/,/^reader list line/p' | sed '1d;$d' >"$tmp/probe.quirks"
out=$(cat "$tmp/probe.quirks"); has "entry printed" "match vid=1b0e pid=1078"
has "entry key" "set class_desc_after_endpoints"
out=$("$qc" -l 1b0e:1078:0010:0 "$tmp/probe.quirks" 2>&1) || { echo "FAIL: quirks-check rejects the entry: $out"; fail=1; }
has "quirks-check: entry matches" "probe.quirks:3: class_desc_after_endpoints"
# Without the built-in row the probe (same table code as the driver)
# refuses the interface; the printed entry in the run-time dir fixes it.
mkdir "$tmp/off" "$tmp/fixed"
printf 'match vid=1b0e pid=1078\nset class_desc_after_endpoints=false\n' >"$tmp/off/00-off.quirks"
cp "$tmp/off/00-off.quirks" "$tmp/fixed/"
cp "$tmp/probe.quirks" "$tmp/fixed/50-probe.quirks"
run_probe list -q "$tmp/off"
has "without the quirk: refused, key named" "not used: the CCID class descriptor follows the endpoints (needs the quirk class_desc_after_endpoints)"
run_probe list -q "$tmp/fixed"
has "with the printed entry: CCID again" '"BLUTRONICS BLUDRIVE II CCID": CCID'
# JSON
run_probe show --json -q "$tmp/empty"
has "json needed quirks" '"needed_quirks":["class_desc_after_endpoints"]'
has "json descriptor" '"dwMaxCCIDMessageLength":271'
has "json rates" '"data_rates_bps":[9600,12800,'
if command -v python3 >/dev/null; then
	printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["vid"]=="1b0e" and d[0]["accepted"] is True, d' \
	    && echo "ok: json parses" || { echo "FAIL: json does not parse"; fail=1; }
	if printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; assert "timeout_default_ms=3000" in d["quirks_matched"] and "iccd_" not in d["quirks_matched"] and d["quirks_conditional"] == "", d'; then
		echo "ok: json quirks of a CCID reader"
	else
		echo "FAIL: json quirks of a CCID reader"; fail=1
	fi
fi

# --- the same reader as ICCD-B at short APDU level, reporting 263 bytes,
# with a PIN pad: the conditional generic rows now act, and the PIN pad
# fix for a bad bEntryValidationCondition is listed apart (whether it acts
# depends on the PIN request an application sends) ---
sed -e 's/^if0.bInterfaceProtocol = .*/if0.bInterfaceProtocol = 2/' \
    -e 's/^if0.dwFeatures = .*/if0.dwFeatures = 0x20130/' \
    -e 's/^if0.dwMaxCCIDMessageLength = .*/if0.dwMaxCCIDMessageLength = 263/' \
    -e 's/^if0.bPINSupport = .*/if0.bPINSupport = 0x3/' \
    "$top_srcdir/tests/sim/profiles/BludriveII.txt" >"$tmp/iccd-b.txt"
start_sim "$tmp/iccd-b.txt"
run_probe show -q "$tmp/empty"
all=$out
has "profile variant: ICCD-B" "bInterfaceProtocol:     2"
out=$(acting)
has "ICCD power cycle on ICCD" ": iccd_open_power_cycle"
has "ICCD-B short APDU as extended" ": iccd_b_short_as_extended"
has "ICCD transfer cap on ICCD" ": iccd_max_transfer=0x1000"
has "length fix for a 263 reader" "runtime.quirks:60: msg_len_fix_from=263"
hasnt "run-time PIN pad fix not among the acting rows" "pinpad_validation_invalid_fix"
out=$(conditional)
has "run-time PIN pad fix in the conditional list" "pinpad.quirks:7: pinpad_validation_invalid_fix=0x02 (only on a PIN request whose bEntryValidationCondition is 0 or above 7)"
out=$all
run_probe show --json -q "$tmp/empty"
has "json conditional list" '"quirks_conditional":"matched quirks/pinpad.quirks:7: pinpad_validation_invalid_fix=0x02'

# --- GemPC Pinpad: its own pinpad_validation_fix overwrites any
# condition, so the generic fix of a bad one never acts on it ---
start_sim GemPCPinpadv2.txt
run_probe show -q "$tmp/empty"
has "the reader's own validation fix acts" ": pinpad_validation_fix=0x02"
hasnt "generic fix overwritten: not listed" "pinpad_validation_invalid_fix"

# --- class 0xFF pre-standard token (libccid D1) ---
start_sim Verisign_secure_token.txt
mkdir "$tmp/voff"
printf 'match vid=08e6 pid=ace0\nset vendor_class_ccid=false vendor_class_any_len54=false\n' >"$tmp/voff/00-off.quirks"
run_probe show -q "$tmp/voff"
has "class 0xFF refused without quirks" "class 0xFF (vendor) is not CCID without the quirk vendor_class_ccid"
has "descriptor decoded anyway" "class descriptor:       type 0xFF, after the interface descriptor"
has "no class requests when refused" "class requests:         not sent"
has "entry key" "set vendor_class_ccid"
printf '%s\n' "$out" | sed -n '/^quirks entry:$/,/^reader list line/p' | sed '1d;$d' >"$tmp/voff/50-probe.quirks"
run_probe show -q "$tmp/voff"
has "with the printed entry: accepted" '"Gemplus Token GEM USB COMBI": CCID'
has "the entry's row matched" "50-probe.quirks:3: vendor_class_ccid"
hasnt "class requests sent" "class requests:         not sent"

# --- show --power: the card of every slot powered, its ATR decoded ---
# AU9522: two slots, a T=1 card in slot 0 (the ATR of real OpenPGP
# cards), slot 1 empty.
start_sim AlcorMicro_AU9522.txt --card builtin:proto=1:atr=3BDA18FF81B1FE751F030031F573C78A40009000B0
run_probe show --power -q "$tmp/empty"
has "slot 0 ATR" "slot 0                  ATR 3B DA 18 FF 81 B1 FE 75 1F 03 00 31 F5 73 C7 8A 40 00 90 00 B0"
has "ATR decoded (driver's parser)" "  T=1:               IFSC=254 BWI=7 CWI=5 EDC=LRC"
has "TA1 decoded" "  Fi/Di:             372/12 (TA1 present)"
has "TCK checked" "  TCK:               B0 ok"
has "slot 1 empty" "slot 1                  no card"
run_probe show --power --json -q "$tmp/empty"
has "json slots" '"slots":[{"slot":0,"card":true,"atr":"3BDA18FF81B1FE751F030031F573C78A40009000B0","error":""},{"slot":1,"card":false,"atr":null,"error":""}]'
# The probe powered the card down again, and "show" alone powers nothing.
st=$(python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"stats\n"); print(s.recv(65536).decode())' "$tmp/ctl" 2>&1)
case $st in *'"IccPowerOn": 2'*) echo "ok: two power-ons (text, json)";; *) echo "FAIL: power-on count: $st"; fail=1;; esac
case $st in *'"IccPowerOff": 2'*) echo "ok: two power-offs";; *) echo "FAIL: power-off count: $st"; fail=1;; esac
run_probe show -q "$tmp/empty"
hasnt "no --power: no slot lines" "slot 0                  "

# --- a reader the shipped list marks unsupported: the reason (issue 25) ---
# C3PO LTC3x 0783:0003, a profile made from its descriptor dump.
python3 "$top_srcdir/tests/sim/mkprofile.py" --vidpid 0783:0003 \
    --data "$top_srcdir/tests/data/descriptors.jsonl" -o "$tmp/ltc3x.profile" ||
    { echo "FAIL: mkprofile 0783:0003"; exit 1; }
start_sim "$tmp/ltc3x.profile"
note=$(awk -F '\t' '$1 == "0783:0003" && $2 == "unsupported" { print $4 }' \
    "$top_srcdir/bundle/readers.list")
[ -n "$note" ] || { echo "FAIL: no note for 0783:0003 in bundle/readers.list"; fail=1; }
run_probe show -q "$tmp/empty"
has "unsupported reader: the list's reason" "shipped reader list:    unsupported: $note"
run_probe show --json -q "$tmp/empty"
has "json reader_list_note" "\"reader_list_note\":\"$note\""
start_sim BludriveII.txt
run_probe show --json -q "$tmp/empty"
has "json reader_list_note null for a supported reader" '"reader_list_note":null'
run_probe show -q "$tmp/empty"
hasnt "no list note for a supported reader" "shipped reader list:"

# --- filters ---
run_probe list -d 1234:5678
has "no device for another VID:PID" "no CCID interface found"
run_probe list -s 1:x
has "bad -s" "usage:"
exit $fail
