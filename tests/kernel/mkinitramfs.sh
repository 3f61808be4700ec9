#!/bin/sh
# Build the guest's initramfs (uncompressed newc cpio: the TCG guest unpacks
# it faster than it would inflate it) from the installed Debian packages:
#   mkinitramfs.sh OUT.cpio DRIVER_BUNDLE_DIR [EXTRA_BUNDLE_DIR]
# DRIVER_BUNDLE_DIR (an *.bundle directory) becomes the only driver in the
# guest's drop dir; EXTRA_BUNDLE_DIR, if given, goes to a second drop dir
# (/kdrivers-alt) that the guest can switch to (the benchmark compares
# Debian's libccid that way). Each binary is copied with the libraries ldd
# names; the kernel's USB modules come from /lib/modules/KVER (KVER: the
# newest installed linux-image, or $OPENCCID_KERNEL_VERSION).
set -eu
out=${1:?usage: mkinitramfs.sh OUT.cpio BUNDLE [ALT_BUNDLE]}
bundle=${2:?usage: mkinitramfs.sh OUT.cpio BUNDLE [ALT_BUNDLE]}
alt=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
kver=${OPENCCID_KERNEL_VERSION:-$(ls /lib/modules | sort -V | tail -1)}
moddir=/lib/modules/$kver
die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }
[ -d "$bundle/Contents/Linux" ] || die "$bundle is not a driver bundle"
[ -d "$moddir" ] || die "$moddir missing (Debian package linux-image-amd64)"
for t in cpio ldd ldconfig; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
[ -x /bin/busybox ] || die "/bin/busybox missing (Debian package busybox-static)"
file /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
    die "/bin/busybox is not static (install busybox-static)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin "$root"/etc \
    "$root"/proc "$root"/sys "$root"/dev "$root"/run "$root"/tmp "$root"/kmods \
    "$root"/lib/udev/rules.d "$root"/usr/lib/pcsc/drivers "$root"/kscen "$root"/kdata

# copy FILE (following links) to the same path in the root, with the
# libraries ldd names for it
copy_lib() {
	for f in "$@"; do
		[ -e "$f" ] || die "$f missing"
		[ -e "$root$f" ] && continue
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
		ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
		while read -r l; do
			[ -e "$root$l" ] && continue
			mkdir -p "$root$(dirname "$l")"
			cp -L "$l" "$root$l"
		done
	done
}
need() {
	for b in "$@"; do
		p=$(command -v "$b" 2>/dev/null) || die "$b not found (see scripts/install-deps)"
		copy_lib "$p"
	done
}

cp /bin/busybox "$root/bin/busybox"
# programs of the tests themselves (run.py --extra-bin), e.g. kbench
for b in ${OPENCCID_KERNEL_EXTRA_BIN:-}; do
	[ -x "$b" ] || die "$b is not an executable"
	copy_lib "$b"
	ln -s "$b" "$root/usr/bin/$(basename "$b")"
done
need pcscd pcsc_scan opensc-tool pkcs11-tool openssl
# programs built with the driver that scenarios run (OPENCCID_KERNEL_BINS:
# space-separated paths; the simulator scenarios' tests/kernel/pcsc-steps)
for b in ${OPENCCID_KERNEL_BINS:-}; do
	[ -x "$b" ] || die "$b (OPENCCID_KERNEL_BINS) missing: make tests/kernel/pcsc-steps"
	copy_lib "$b"
	ln -sf "$b" "$root/bin/$(basename "$b")"
done
copy_lib /lib/systemd/systemd-udevd /bin/udevadm
multi=/usr/lib/x86_64-linux-gnu
# dlopen()ed, so ldd does not name them: the PC/SC client library (OpenSC
# loads it at run time), the PKCS#11 module, and libgcc_s (glibc loads it
# for pthread_exit: without it pcscd aborts when a client leaves)
copy_lib $multi/libpcsclite.so.1 $multi/pkcs11/opensc-pkcs11.so \
    /lib/x86_64-linux-gnu/libgcc_s.so.1
ln -s pkcs11/opensc-pkcs11.so "$root$multi/opensc-pkcs11.so"
# pcsc_scan's ATR table, OpenSC's configuration: optional for the tools
for f in /etc/opensc/opensc.conf /usr/lib/ssl/openssl.cnf; do
	[ -e "$f" ] && { mkdir -p "$root$(dirname "$f")"; cp -L "$f" "$root$f"; }
done
# udevd adds the ID_* properties pcscd's hot-plug reads (usb_id builtin)
cp /lib/udev/rules.d/50-udev-default.rules "$root/lib/udev/rules.d/"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\npcscd:x:101:\n' >"$root/etc/group"

# drivers: the bundle under test is the only one pcscd sees
cp -rL "$bundle" "$root/usr/lib/pcsc/drivers/"
for so in "$bundle"/Contents/Linux/*.so*; do copy_lib "$so"; done
if [ -n "$alt" ]; then
	mkdir -p "$root/kdrivers-alt"
	cp -rL "$alt" "$root/kdrivers-alt/"
	for so in "$alt"/Contents/Linux/*.so*; do copy_lib "$so"; done
fi

# kernel modules, in dependency order (modules.dep lists a module's
# dependencies after it, deepest last)
: >"$root/kmods/order"
addmod() {
	rel=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -1) ||
	    die "module $1 not in $moddir/modules.dep"
	[ -n "$rel" ] || die "module $1 not in $moddir/modules.dep"
	deps=${rel#*:}
	for d in $(echo $deps | tr ' ' '\n' | sed '1!G;h;$!d'); do
		addfile "$d"
	done
	addfile "${rel%%:*}"
}
addfile() {
	b=$(basename "$1")
	grep -qx "$b" "$root/kmods/order" && return 0
	case "$b" in
	*.ko) cp "$moddir/$1" "$root/kmods/$b" ;;
	*.ko.xz) xz -dc "$moddir/$1" >"$root/kmods/${b%.xz}"; b=${b%.xz} ;;
	*.ko.zst) zstd -qdc "$moddir/$1" >"$root/kmods/${b%.zst}"; b=${b%.zst} ;;
	*) die "unknown module format $1" ;;
	esac
	echo "$b" >>"$root/kmods/order"
}
for m in xhci-pci ehci-pci uhci-hcd ohci-pci usbmon; do addmod "$m"; done

cp "$here/guest/init" "$root/init"
cp "$here/guest/kstep.sh" "$root/kscen/kstep.sh"
cp "$here"/scenarios/*.sh "$root/kscen/"
cp "$here"/scenarios/*.inc "$root/kscen/"
chmod 755 "$root/init"
# a loader cache for the root, so that dlopen() finds the multiarch libraries
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$root/etc/ld.so.conf"
ldconfig -r "$root" 2>/dev/null || die "ldconfig -r failed"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
