#!/bin/sh
# Make an NSS database for the simulator's libcacard card (--card cacard:DIR):
# three self-signed certificates with their RSA keys, nicknamed cert1..cert3
# (the names openccid-sim passes to vcard_emul_options).
#   tests/sim/mk-cacard-db.sh DIR
# Needs openssl and certutil/pk12util (Debian: libnss3-tools).
set -eu
dir=${1:?usage: mk-cacard-db.sh DIR}
for t in openssl certutil pk12util; do
	command -v "$t" >/dev/null 2>&1 || { echo "mk-cacard-db.sh: $t not found" >&2; exit 1; }
done
mkdir -p "$dir"
rm -f "$dir/cert9.db" "$dir/key4.db" "$dir/pkcs11.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
certutil -N -d "sql:$dir" --empty-password
for i in 1 2 3; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-subj "/CN=openccid test cert$i/O=openccid" \
		-keyout "$tmp/k$i.pem" -out "$tmp/c$i.pem" 2>/dev/null
	openssl pkcs12 -export -inkey "$tmp/k$i.pem" -in "$tmp/c$i.pem" \
		-name "cert$i" -passout pass: -out "$tmp/p$i.p12"
	pk12util -i "$tmp/p$i.p12" -d "sql:$dir" -W "" -K "" >/dev/null
	# the emulator looks the certificates up by nickname
	certutil -M -d "sql:$dir" -n "cert$i" -t "u,u,u" >/dev/null 2>&1 || true
done
certutil -L -d "sql:$dir"
