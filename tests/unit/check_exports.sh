#!/bin/sh
# The driver module must export exactly the IFD Handler v3 entry points
# (pcscd looks them up with dlsym); everything else stays hidden.
set -eu
so=.libs/libopenccid.so
if [ ! -f "$so" ]; then
	echo "check_exports: $so not built" >&2
	exit 1
fi
want='IFDHCloseChannel
IFDHControl
IFDHCreateChannel
IFDHCreateChannelByName
IFDHGetCapabilities
IFDHICCPresence
IFDHPowerICC
IFDHSetCapabilities
IFDHSetProtocolParameters
IFDHTransmitToICC'
got=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' |
	sed 's/@.*//' | sort -u)
if [ "$got" != "$want" ]; then
	echo "check_exports: unexpected exported symbols" >&2
	echo "--- want" >&2; echo "$want" >&2
	echo "--- got" >&2; echo "$got" >&2
	exit 1
fi
echo "check_exports: exactly the 10 IFDH* symbols"
