#!/bin/sh
# openccid-probe decodes real data and refuses bad input with a clear error.
set -u
probe=${top_builddir:-.}/openccid-probe
fail=0
check() { # description, expected substring, command...
	desc=$1; want=$2; shift 2
	out=$("$@" 2>&1)
	case $out in
	*"$want"*) echo "ok: $desc" ;;
	*) echo "FAIL: $desc: wanted '$want' in: $out"; fail=1 ;;
	esac
}
# libcacard's CAC card: T=0 only, 10 historical bytes, no TCK
check "CAC ATR protocols" "protocols:         T=0" "$probe" atr 3B 7A 18 00 00 73 66 74 65 20 63 64 31 34 34
check "CAC ATR history" "(10)" "$probe" atr 3B7A180000736674652063643134 34
# an OpenPGP-style T=1 ATR with TCK
check "T=1 ATR" "T=1:               IFSC=" "$probe" atr 3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C
check "bad TS" "invalid ATR" "$probe" atr 12 34
check "odd digits" "not a hex byte string" "$probe" atr 3B 0
check "usage" "usage:" "$probe"
"$probe" atr 12 >/dev/null 2>&1; [ $? = 1 ] || { echo "FAIL: bad ATR exit status"; fail=1; }
exit $fail
