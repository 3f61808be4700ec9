#!/usr/bin/python3
"""The simulator as a real USB device under a real kernel (issue 24, item 4).

Boots Debian's kernel in QEMU (TCG) with an initramfs built here from the
installed packages (busybox, kernel USB modules, systemd-udevd, pcscd, the
driver bundle under test, tests/kernel/redir/pcsc-steps); every simulator
(tests/sim/openccid-sim --usbredir) is one `usb-redir` device on the guest's
host controller. The guest's /init runs the scenario's steps, each printing
one `VERDICT <step> PASS|FAIL <detail>` line on the console; a step that
needs the simulator to act (card-remove, plug, fault ...) writes
`<sim> <command>` to the guest's second serial port, which this script
forwards to that simulator's control socket and answers with its reply.

usage: run.py --sim PATH --bundle DIR [--hc xhci|uhci|ehci|ohci]
              [--only NAME,...] [--keep DIR]
Exit status 0 only if every step of every scenario passed.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROFILES = os.path.join(TOP, "tests", "sim", "profiles")
KVER = os.environ.get("OPENCCID_KERNEL_VERSION") or sorted(
    d for d in os.listdir("/lib/modules") if os.path.exists("/boot/vmlinuz-" + d))[-1]
MODULES = ["usb-common", "usbcore", "xhci-hcd", "xhci-pci", "ehci-hcd", "ehci-pci",
           "uhci-hcd", "ohci-hcd", "ohci-pci"]
HOST_CONTROLLERS = {
    "xhci": ["-M", "q35", "-device", "qemu-xhci,id=hc"],
    "uhci": ["-M", "pc", "-device", "piix3-usb-uhci,id=hc"],
    "ehci": ["-M", "q35", "-device", "ich9-usb-ehci1,id=hc",
             "-device", "ich9-usb-uhci1,masterbus=hc.0,firstport=0,multifunction=on"],
    "ohci": ["-M", "pc", "-device", "pci-ohci,id=hc"],
}
BOOT_TIMEOUT = float(os.environ.get("OPENCCID_REDIR_TIMEOUT", "300"))

# Guest binaries (with the libraries ldd names) and data copied in.
GUEST_BINS = ["/bin/busybox", "/usr/sbin/pcscd", "/lib/systemd/systemd-udevd",
              "/bin/udevadm"]

# name -> (profile, cards, [(step, guest shell command), ...]). Steps run in
# order in one boot; `sim NAME CMD` inside a command talks to a simulator.
# Reader names: pcscd's "<product> [<interface>] (serial) 00 00".
ECHO16 = "800100001000112233445566778899AABBCCDDEEFF00"
ECHO16_RSP = "00112233445566778899AABBCCDDEEFF9000"


def zlp_seen(st):
    p = st["packets"]
    return p["zlp"] > 0 and p["bulk_in"] > st["urbs"]["bulk_in"], "packets %s" % p


def fired(*names):
    def check(st):
        f = st.get("faults_fired", {})
        return all(f.get(n, 0) >= 1 for n in names), "faults_fired %s" % f
    return check


FAULTS_IN = ["zlp-before-reply", "dup-reply", "in-error babble", "in-error proto",
             "in-error crc", "stall-in", "truncate", "late-reply 300", "wtx 3",
             "wrong-seq", "wrong-slot", "wrong-type", "bad-length long",
             "bad-length short", "reply-data short", "reply-data long", "oversize",
             "no-reply"]
DESC_FAULTS = ["slots255", "msglen0", "msglenmax", "rates", "clocks", "short",
               "total-short", "total-long"]

# scenario -> [(check, f(stats) -> (ok, detail))] on the simulator's stats
# once the guest powered off
CHECKS = {
    "ext": [("ext-zlp-on-bus", zlp_seen)],
    "short": [("short-zlp-on-bus", zlp_seen)],
    "tpdu-t1": [("t1-zlp-on-bus", zlp_seen)],
    "events": [("events-faults-fired", fired("unplug-during-xfr",
                                             "card-remove-during-xfr"))],
    "faults": [("faults-fired", fired(*[f.split()[0] for f in FAULTS_IN]))],
    "desc": [("desc-fired", lambda st: (st["faults_fired"].get("desc", 0) == len(DESC_FAULTS),
                                        "faults_fired %s" % st["faults_fired"]))],
    "multislot": [("multislot-in-flight", lambda st: (st["max_in_flight"] >= 2,
                                                      "max_in_flight %d" % st["max_in_flight"]))],
    "pinpad": [("pinpad-no-pin-on-usb", lambda st: (
        not st["pinpad"]["pin_in_usb_data"] and st["pinpad"]["pin_ok"] >= 2,
        "pinpad %s" % st["pinpad"]))],
}


def scenarios():
    """name -> (profile, cards, steps)"""
    s = {}
    # one profile per exchange level, APDU length sweeps
    s["ext"] = ("default.txt", ["builtin"], [
        ("ext-present", "pcsc-steps wait KAAN card 20"),
        ("ext-loop", "pcsc-steps loop KAAN 300"),
        ("ext-sweep", "pcsc-steps sweep KAAN 4000 97"),
        ("ext-sweep-64k", "pcsc-steps sweep KAAN 65535 8191"),
        # DataBlocks of 10 + n + 2 bytes around multiples of 64 (n = 52,
        # 116, 180, 244: exact multiples, a zero-length packet ends them)
        ("ext-edges", "for n in 1 51 52 53 115 116 117 179 180 181 243 244 245; "
                      "do pcsc-steps sweep KAAN $n $n || exit 1; done"),
    ])
    s["short"] = ("@vidpid:0f14:0038", ["builtin"], [
        ("short-sweep", "pcsc-steps wait 'Leo' card 20 && pcsc-steps sweep Leo 255 1"),
    ])
    s["tpdu-t1"] = ("@vidpid:17ef:1003", ["builtin"], [
        ("t1-sweep", "pcsc-steps wait Lenovo card 20 && pcsc-steps sweep Lenovo 255 1"),
        ("t1-ext", "pcsc-steps sweep Lenovo 3000 101"),
    ])
    s["tpdu-t0"] = ("@vidpid:17ef:1003", ["builtin:proto=0"], [
        ("t0-sweep", "pcsc-steps wait Lenovo card 20 && pcsc-steps sweep Lenovo 255 1"),
    ])
    s["char"] = ("@dump:Winbond.txt", ["builtin"], [
        ("char-t1-sweep", "pcsc-steps wait '' card 20 && pcsc-steps sweep '' 255 3"),
    ])
    s["char-t0"] = ("@dump:Winbond.txt", ["builtin:proto=0"], [
        ("char-t0-sweep", "pcsc-steps wait '' card 20 && pcsc-steps sweep '' 255 3"),
    ])
    s["events"] = ("default.txt", ["builtin"], [
        ("card-present", "pcsc-steps wait KAAN card 20"),
        ("card-remove", "sim card-remove 0 && pcsc-steps wait KAAN nocard 10"),
        ("card-insert", "sim card-insert 0 && pcsc-steps wait KAAN card 10 && "
                        "pcsc-steps apdu KAAN %s %s" % (ECHO16, ECHO16_RSP)),
        ("unplug", "sim unplug && pcsc-steps wait KAAN absent 15"),
        ("plug", "sim plug && pcsc-steps first KAAN %s %s 30" % (ECHO16, ECHO16_RSP)),
        ("unplug-during-apdu",
         "sim fault unplug-during-xfr cmd=XfrBlock && pcsc-steps fail KAAN %s && "
         "pcsc-steps wait KAAN absent 15" % ECHO16),
        ("replug-after-apdu", "sim plug && pcsc-steps wait KAAN card 20 && "
                              "pcsc-steps apdu KAAN %s %s" % (ECHO16, ECHO16_RSP)),
        ("card-remove-during-apdu",
         "sim fault card-remove-during-xfr cmd=XfrBlock && pcsc-steps fail KAAN %s && "
         "pcsc-steps wait KAAN nocard 10 && sim card-insert 0 && "
         "pcsc-steps wait KAAN card 10 && pcsc-steps apdu KAAN %s %s"
         % (ECHO16, ECHO16, ECHO16_RSP)),
    ])
    # bulk-IN delivery faults: each must end in a right answer or a clean
    # error, never a wrong answer; the next APDU works
    faults = []
    for f in FAULTS_IN:
        name = "fault-" + f.replace(" ", "-")
        faults.append((name,
                       "sim fault %s cmd=XfrBlock && "
                       "pcsc-steps strict KAAN %s %s && "
                       "pcsc-steps wait KAAN card 30 && "
                       "pcsc-steps apdu KAAN %s %s"
                       % (f, ECHO16, ECHO16_RSP, ECHO16, ECHO16_RSP)))
    s["faults"] = ("default.txt", ["builtin"],
                   [("faults-present", "pcsc-steps wait KAAN card 20")] + faults)
    descs = []
    for d in DESC_FAULTS:
        descs.append(("desc-" + d,
                      "sim unplug && pcsc-steps wait KAAN absent 15 && "
                      "sim fault desc %s && sim plug && sleep 4 && "
                      "kill -0 $(cat /run/pcscd.pid) && sim unplug && "
                      "pcsc-steps wait KAAN absent 15 && sim plug && "
                      "pcsc-steps wait KAAN card 20 && pcsc-steps apdu KAAN %s %s"
                      % (d, ECHO16, ECHO16_RSP)))
    s["desc"] = ("default.txt", ["builtin"],
                 [("desc-present", "pcsc-steps wait KAAN card 20")] + descs)
    s["multislot"] = ("Teridian_TSC12xxFV.09.txt", ["builtin"] * 5, [
        ("multislot-present", "pcsc-steps wait 'TSC12xxF#4' card 20"),
        ("multislot-parallel", "pcsc-steps slots 'TSC12xxF#0' 'TSC12xxF#1' 'TSC12xxF#2' "
                               "'TSC12xxF#3' 'TSC12xxF#4'"),
    ])
    s["composite"] = ("Broadcom_5880_0x5832.txt", ["builtin", "builtin"], [
        ("composite-present", "pcsc-steps wait '5880#1' card 20"),
        ("composite-both", "pcsc-steps slots '5880#0' '5880#1'"),
    ])
    s["gempckey"] = ("GemPCKey.txt", ["builtin"], [
        ("gempckey-sweep", "pcsc-steps wait '' card 60 && pcsc-steps sweep '' 255 5"),
    ])
    # interface class 0xFF (Token GEM USB COMBI)
    s["class-ff"] = ("Verisign_secure_token.txt", ["builtin"], [
        ("classff-sweep", "pcsc-steps wait '' card 60 && pcsc-steps sweep '' 255 5"),
    ])
    s["bludrive"] = ("BludriveII.txt", ["builtin"], [
        ("bludrive-sweep", "pcsc-steps wait '' card 20 && pcsc-steps sweep '' 255 5"),
    ])
    s["pinpad"] = ("GemPCPinpadv2.txt", ["builtin"], [
        ("pinpad-present", "pcsc-steps wait Pinpad card 20"),
        ("pinpad-verify-ok", "sim pinpad-digits 123456 && "
                             "test \"$(pcsc-steps pinverify Pinpad)\" = 9000"),
        ("pinpad-verify-wrong", "sim pinpad-digits 999999 && "
                                "pcsc-steps pinverify Pinpad | grep -q '^63C'"),
        ("pinpad-timeout", "sim pinpad-timeout && "
                           "test \"$(pcsc-steps pinverify Pinpad)\" = 6400"),
        ("pinpad-verify-again", "sim pinpad-digits 123456 && "
                                "test \"$(pcsc-steps pinverify Pinpad)\" = 9000"),
    ])
    return s


def log(*a):
    print("run.py:", *a, file=sys.stderr, flush=True)


def profile_path(name, work):
    """A profile file: NAME in tests/sim/profiles, or "@dump:FILE" /
    "@vidpid:VID:PID" made from the reader facts by mkprofile.py."""
    if not name.startswith("@"):
        return os.path.join(PROFILES, name)
    kind, arg = name[1:].split(":", 1)
    out = os.path.join(work, "profile.txt")
    subprocess.run([sys.executable, os.path.join(TOP, "tests", "sim", "mkprofile.py"),
                    "--" + kind, arg, "-o", out], check=True)
    return out


# ---- the initramfs ---------------------------------------------------------

def ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs.append(parts[2])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def copy_in(root, path, dest=None):
    dst = os.path.join(root, (dest or path).lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if not os.path.exists(dst):
        shutil.copy2(os.path.realpath(path), dst)


def module_path(name):
    r = subprocess.run(["modinfo", "-k", KVER, "-n", name], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("run.py: kernel module %s not found for %s" % (name, KVER))
    return r.stdout.strip()


def build_initramfs(work, bundle, client, steps_sh):
    root = os.path.join(work, "root")
    for d in ["bin", "sbin", "etc", "proc", "sys", "dev", "run", "tmp", "lib/modules",
              "usr/lib/pcsc/drivers", "etc/reader.conf.d", "var/run"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    # glibc dlopens libgcc_s for pthread_exit (pcscd's client threads)
    copy_in(root, "/lib/x86_64-linux-gnu/libgcc_s.so.1")
    for b in GUEST_BINS + [client]:
        copy_in(root, b, "/bin/" + os.path.basename(b) if b == client else None)
        for lib in ldd(b):
            copy_in(root, lib)
    so = os.path.join(bundle, "Contents", "Linux")
    for f in os.listdir(so):
        for lib in ldd(os.path.join(so, f)):
            copy_in(root, lib)
    shutil.copytree(bundle, os.path.join(root, "usr/lib/pcsc/drivers",
                                         os.path.basename(bundle)))
    for d in ["/lib/udev/rules.d"]:
        shutil.copytree(d, os.path.join(root, d.lstrip("/")), dirs_exist_ok=True)
    for m in MODULES:
        copy_in(root, module_path(m), "/lib/modules/%s.ko" % m)
    for applet in ["pidof", "sh", "mount", "insmod", "sleep", "cat", "echo", "grep", "tail",
                   "poweroff", "stty", "timeout", "mkdir", "dmesg", "test", "head",
                   "kill", "ls", "sed", "wc", "seq", "date"]:
        os.symlink("busybox", os.path.join(root, "bin", applet))
    for d in ["usr/bin", "usr/sbin"]:
        if not os.path.exists(os.path.join(root, d)):
            os.symlink("../bin", os.path.join(root, d))
    with open(os.path.join(root, "init"), "w") as f:
        f.write(INIT % {"modules": " ".join(MODULES)})
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "bin", "sim"), "w") as f:
        f.write(SIM_SH)
    os.chmod(os.path.join(root, "bin", "sim"), 0o755)
    shutil.copy(steps_sh, os.path.join(root, "steps.sh"))
    img = os.path.join(work, "initramfs.cpio")
    find = subprocess.Popen(["find", "."], cwd=root, stdout=subprocess.PIPE)
    with open(img, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       stdin=find.stdout, stdout=out, check=True)
    find.wait()
    return img


INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mkdir -p /run/pcscd /run/udev /tmp
for m in %(modules)s; do insmod /lib/modules/$m.ko 2>/dev/null; done
/lib/systemd/systemd-udevd --daemon >/tmp/udevd.log 2>&1 || echo "udevd: $(cat /tmp/udevd.log)"
udevadm trigger --action=add >/dev/null 2>&1
udevadm settle --timeout=10 >/dev/null 2>&1
stty -F /dev/ttyS1 raw -echo 2>/dev/null
export OPENCCID_LOG_LEVEL=3
pcscd --foreground --debug >/tmp/pcscd.log 2>&1 &
echo $! >/run/pcscd.pid
for i in $(seq 100); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
step() {
	name=$1; shift
	out=$(timeout ${STEP_TIMEOUT:-90} sh -c "$*" 2>&1)
	rc=$?
	# pcscd must survive every step
	kill -0 "$(cat /run/pcscd.pid)" 2>/dev/null || { rc=99; out="$out pcscd died"; }
	if [ $rc = 0 ]; then
		echo "VERDICT $name PASS $(echo "$out" | tail -n 1)"
	else
		echo "VERDICT $name FAIL rc=$rc $(echo "$out" | tail -n 3 | tr '\n' ' ')"
		echo "--- $name: output"
		echo "$out" | tail -n 40
		echo "--- $name: pcscd's device and driver lines"
		grep -E 'hotplug|HPAdd|HPRemove|RFAddReader|RFRemoveReader|Attempting|usb_open|IFDH|quirk|rror' /tmp/pcscd.log | tail -n 25
		echo "--- $name: pcscd log tail"
		tail -n 25 /tmp/pcscd.log
		echo "--- $name: kernel log tail"
		dmesg | tail -n 15
		echo "--- end"
	fi
}
. /steps.sh
echo "VERDICT-END"
poweroff -f
"""


# `sim CMD`: the scenario's simulator acts (through ttyS1 and the host)
SIM_SH = r"""#!/bin/sh
# one open of the port for the command and its reply: nothing is lost
# between a close and the next open
exec 3<>/dev/ttyS1
stty raw -echo <&3
echo "$*" >&3
read -r reply <&3
exec 3<&-
case "$reply" in ok*) exit 0;; esac
echo "sim $*: $reply"
exit 1
"""


# ---- the run -----------------------------------------------------------------

class Bridge(threading.Thread):
    """ttyS1 of the guest <-> the simulators' control sockets."""

    def __init__(self, path, controls):
        super().__init__(daemon=True)
        self.controls = controls
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.log = []

    def control(self, sock_path, cmd):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(10)
            c.connect(sock_path)
            c.sendall((cmd + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                part = c.recv(65536)
                if not part:
                    break
                buf += part
            return buf.decode(errors="replace").strip()

    def run(self):
        conn, _ = self.srv.accept()
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data.replace(b"\r", b"")
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd = line.decode(errors="replace").strip()
                if not cmd:
                    continue
                try:
                    reply = self.control(self.controls, cmd)
                except OSError as e:
                    reply = "err bridge: %s" % e
                self.log.append((time.time(), cmd, reply))
                conn.sendall((reply.split("\n")[0][:200] + "\n").encode())


def run_scenario(args, name, spec, work):
    profile, cards, steps = spec
    d = os.path.join(work, name)
    os.makedirs(d)
    steps_sh = os.path.join(d, "steps.sh")
    with open(steps_sh, "w") as f:
        for step, cmd in steps:
            f.write("step %s %s\n" % (step, shq(cmd)))
    img = build_initramfs(d, args.bundle, args.client, steps_sh)
    redir = os.path.join(d, "redir.sock")
    ctl = os.path.join(d, "sim.ctl")
    sim_argv = [args.sim, "--usbredir", "unix:" + redir, "--profile",
                profile_path(profile, d), "--control", ctl, "--ready-file",
                os.path.join(d, "sim.ready"), "--log", os.path.join(d, "sim.log")]
    for c in cards:
        sim_argv += ["--card", c]
    sim = subprocess.Popen(sim_argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists(os.path.join(d, "sim.ready")):
            break
        time.sleep(0.05)
    else:
        sim.kill()
        return {"sim-ready": ("FAIL", "simulator did not start")}, ""
    bridge = Bridge(os.path.join(d, "bridge.sock"), ctl)
    bridge.start()
    console = os.path.join(d, "console.log")
    qemu_argv = (["qemu-system-x86_64", "-accel", "tcg", "-smp", "1", "-m", "512",
                  "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                  "-kernel", "/boot/vmlinuz-" + KVER, "-initrd", img,
                  "-append", "console=ttyS0 panic=-1 loglevel=4",
                  "-chardev", "file,id=con,path=" + console, "-serial", "chardev:con",
                  "-chardev", "socket,id=ctl,path=" + os.path.join(d, "bridge.sock"),
                  "-serial", "chardev:ctl",
                  "-chardev", "socket,id=redir0,path=" + redir]
                 + HOST_CONTROLLERS[args.hc]
                 + ["-device", "usb-redir,chardev=redir0,id=r0,bus=hc.0"])
    t0 = time.time()
    qemu = subprocess.Popen(qemu_argv, stdout=open(os.path.join(d, "qemu.log"), "w"),
                            stderr=subprocess.STDOUT)
    try:
        qemu.wait(timeout=BOOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        qemu.kill()
        qemu.wait()
    took = time.time() - t0
    checks = {}
    try:
        st = json.loads(bridge.control(ctl, "stats")[3:])
        for cname, fn in CHECKS.get(name, []):
            ok, detail = fn(st)
            checks[cname] = ("PASS" if ok else "FAIL", detail)
    except (OSError, ValueError, KeyError) as e:
        checks["sim-stats"] = ("FAIL", "cannot read the simulator's stats: %s" % e)
    sim.terminate()
    try:
        sim.wait(timeout=5)
    except subprocess.TimeoutExpired:
        sim.kill()
    text = open(console, errors="replace").read()
    verdicts = {}
    for line in text.splitlines():
        if line.startswith("VERDICT ") and not line.startswith("VERDICT-END"):
            parts = line.split(" ", 3)
            verdicts[parts[1]] = (parts[2], parts[3] if len(parts) > 3 else "")
    for step, _ in steps:
        verdicts.setdefault(step, ("FAIL", "no verdict (guest did not get there)"))
    verdicts.update(checks)
    if "VERDICT-END" not in text:
        verdicts["poweroff"] = ("FAIL", "guest did not finish in %.0f s" % took)
    log("%s: %.1f s (%s)" % (name, took, args.hc))
    return verdicts, text


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--client", help="built pcsc-steps (default: built here)")
    ap.add_argument("--hc", default="xhci", choices=sorted(HOST_CONTROLLERS))
    ap.add_argument("--only", default="")
    ap.add_argument("--keep")
    args = ap.parse_args()
    for tool in ["qemu-system-x86_64", "cpio", "busybox", "pcscd", "modinfo"]:
        if not shutil.which(tool) and not os.path.exists("/bin/" + tool):
            raise SystemExit("run.py: %s is missing (scripts/install-deps)" % tool)
    work = args.keep or tempfile.mkdtemp(prefix="openccid-redir-")
    os.makedirs(work, exist_ok=True)
    if not args.client:
        args.client = os.path.join(work, "pcsc-steps")
        cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "libpcsclite"],
                                capture_output=True, text=True, check=True).stdout.split()
        subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra",
                        "-Werror", "-o", args.client, os.path.join(HERE, "pcsc-steps.c")]
                       + cflags + ["-lpthread"], check=True)
    all_s = scenarios()
    names = [n for n in args.only.split(",") if n] or list(all_s)
    failed = 0
    total = 0
    for n in names:
        verdicts, text = run_scenario(args, n, all_s[n], work)
        for step, (v, detail) in verdicts.items():
            total += 1
            print("%-28s %s %s" % (n + "/" + step, v, detail), flush=True)
            if v != "PASS":
                failed += 1
        if any(v != "PASS" for v, _ in verdicts.values()):
            print("---- %s console (failures) ----" % n)
            print("\n".join(l for l in text.splitlines()[-200:]))
    print("usb-redir scenarios: %d of %d steps passed (%s)" % (total - failed, total, args.hc))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
