#!/usr/bin/env python3
"""The kernel stage's host side (tests/kernel/README.md).

Builds the guest's initramfs once, then boots Debian's kernel in
qemu-system-x86_64 (TCG) once per (scenario, host controller), with the
scenario's devices on that controller, and reads the serial console: the
guest's init prints one `KSTEP <name> PASS|FAIL ...` line per step and asks
for host actions with `KHOST <action>` (run on QEMU's monitor). A run fails
on a failed step, a missing step, or a guest that does not power off in
time. Exit 0 only when every step of every run passed.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

# QEMU's host controllers for a full-speed device: machine type, the
# controller's -device arguments, and the bus the scenario's devices go on.
CONTROLLERS = {
    "xhci": ("q35", ["-device", "qemu-xhci,id=hc"], "hc.0"),
    # ICH9 EHCI with its three UHCI companions: a full-speed device on an
    # EHCI port is handed to a companion, as on the real chipset
    "ehci": ("q35", ["-device", "ich9-usb-ehci1,id=hc,addr=1d.7,multifunction=on",
                     "-device", "ich9-usb-uhci1,masterbus=hc.0,firstport=0,addr=1d.0,multifunction=on",
                     "-device", "ich9-usb-uhci2,masterbus=hc.0,firstport=2,addr=1d.1",
                     "-device", "ich9-usb-uhci3,masterbus=hc.0,firstport=4,addr=1d.2"], "hc.0"),
    "uhci": ("pc", ["-device", "piix3-usb-uhci,id=hc"], "hc.0"),
    "ohci": ("pc", ["-device", "pci-ohci,id=hc"], "hc.0"),
}

VERDICT = re.compile(r"KSTEP (\S+) (PASS|FAIL)(.*)")


def die(msg):
    print("kernel: " + msg, file=sys.stderr)
    sys.exit(2)


def kernel_image():
    kv = os.environ.get("OPENCCID_KERNEL_VERSION")
    if not kv:
        vers = sorted(os.listdir("/lib/modules"),
                      key=lambda v: [int(x) if x.isdigit() else x for x in re.split(r"[.-]", v)])
        kv = vers[-1] if vers else None
    img = "/boot/vmlinuz-%s" % kv
    if not kv or not os.path.isfile(img):
        die("no kernel image %s (Debian package linux-image-amd64)" % img)
    return kv, img


class Scenario:
    """A scenario file (scenarios/NAME.sh), read through sh on the host."""

    def __init__(self, path, work):
        self.path = path
        self.name = os.path.basename(path)[:-3]
        self.work = work

    def sh(self, body, check=True):
        env = dict(os.environ, KS_SRC=SRC, KS_WORK=self.work,
                   KS_SCEN_DIR=os.path.dirname(self.path))
        r = subprocess.run(["sh", "-c", '. "$1"; ' + body, "scenario", self.path],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=300)
        if check and r.returncode != 0:
            raise RuntimeError("%s: `%s` failed:\n%s%s" % (self.name, body, r.stdout, r.stderr))
        return r.stdout

    def var(self, name, default=""):
        v = self.sh('printf %%s "${%s:-}"' % name).strip()
        return v if v else default

    def steps(self, hc):
        return self.var("KS_STEPS_" + hc, self.var("KS_STEPS")).split()

    def controllers(self):
        return self.var("KS_CONTROLLERS", "xhci ehci uhci ohci").split()

    def prepare(self):
        self.sh('ks_prepare "$KS_WORK"')

    def devices(self, bus):
        return shlex.split(self.sh('ks_qemu_devices %s' % shlex.quote(bus)))

    def action(self, name, bus):
        fn = "ks_action_" + name.replace("-", "_")
        out = self.sh('ks_bus=%s; %s' % (shlex.quote(bus), fn))
        return [l for l in out.splitlines() if l.strip()]


class Qmp:
    def __init__(self, path, timeout=10):
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r or "error" in r:
                return r

    def hmp(self, line):
        r = self.cmd("human-monitor-command", **{"command-line": line})
        if "error" in r:
            return "error: %s" % r["error"]
        return r["return"].strip()

    def close(self):
        self.s.close()


def run_vm(args, scen, hc, steps, initrd, kimg, log_path):
    machine, hcargs, bus = CONTROLLERS[hc]
    wdir = tempfile.mkdtemp(prefix="vm-%s-%s-" % (scen.name, hc), dir=args.work)
    qmp_path = os.path.join(wdir, "qmp.sock")
    append = ("console=ttyS0 quiet loglevel=3 panic=-1 ks.scen=%s ks.hc=%s ks.steps=%s ks.loglevel=%s"
              % (scen.name, hc, ",".join(steps), args.loglevel))
    cmd = (["qemu-system-x86_64", "-machine", machine + ",accel=tcg", "-smp", "1", "-m", "512",
            "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", kimg, "-initrd", initrd, "-append", append,
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
           + hcargs + scen.devices(bus) + args.qemu_arg)
    res = {"scenario": scen.name, "hc": hc, "steps": {}, "problems": [], "results": []}
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        log.write("# " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        log.flush()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)
        killer = threading.Timer(args.vm_timeout, p.kill)
        killer.start()
        qmp = None
        done = False
        try:
            for line in p.stdout:
                log.write(line)
                log.flush()
                if args.verbose:
                    sys.stdout.write("[%s/%s] %s" % (scen.name, hc, line))
                m = VERDICT.search(line)
                if m:
                    res["steps"][m.group(1)] = (m.group(2), m.group(3).strip())
                    print("kernel: %-14s %-5s %-16s %s %s" % (scen.name, hc, m.group(1),
                          m.group(2), m.group(3).strip()), flush=True)
                    continue
                if "KRESULT " in line:
                    res["results"].append(line[line.index("KRESULT ") + 8:].strip())
                if "KLOG " in line and not args.verbose:
                    sys.stdout.write("kernel:   " + line[line.index("KLOG "):])
                if "KDONE" in line:
                    done = True
                i = line.find("KHOST ")
                if i >= 0:
                    action = line[i + 6:].strip()
                    if qmp is None:
                        qmp = Qmp(qmp_path)
                    for hl in scen.action(action, bus):
                        out = qmp.hmp(hl)
                        log.write("# host %s: %s -> %s\n" % (action, hl, out))
                        if out:
                            res["problems"].append("host action %s: %s: %s" % (action, hl, out))
        finally:
            p.wait()
            killer.cancel()
            if qmp:
                qmp.close()
    res["seconds"] = round(time.monotonic() - t0, 1)
    if not done:
        res["problems"].append("guest did not finish its steps (no KDONE)")
    if p.returncode != 0:
        res["problems"].append("QEMU exit status %s%s" % (
            p.returncode, " (killed after %ss: no power-off in time)" % args.vm_timeout
            if p.returncode == -9 else ""))
    for s in steps:
        if s not in res["steps"]:
            res["problems"].append("step %s: no verdict" % s)
    for s in res["steps"]:
        if s not in steps:
            res["problems"].append("step %s: not in the step list" % s)
    shutil.rmtree(wdir, ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True, help="the driver bundle under test (*.bundle)")
    ap.add_argument("--alt-bundle", help="a second bundle the guest can switch to (Debian's libccid)")
    ap.add_argument("--scenario", action="append", help="scenario name (default: all)")
    ap.add_argument("--hc", help="comma-separated host controllers (default: the scenario's)")
    ap.add_argument("--steps", help="comma-separated steps (default: the scenario's)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("OPENCCID_KERNEL_JOBS", "2")))
    ap.add_argument("--work", help="work directory (default: a temporary one)")
    ap.add_argument("--vm-timeout", type=int, default=300, help="seconds per guest")
    ap.add_argument("--loglevel", default="0x07", help="OPENCCID_LOG_LEVEL in the guest")
    ap.add_argument("--extra-bin", action="append", default=[],
                    help="a program to copy into the guest's /usr/bin (with its libraries)")
    ap.add_argument("--qemu-arg", action="append", default=[],
                    help="one more QEMU argument (e.g. -trace usb_ohci_td_*): repeat for each")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the console")
    args = ap.parse_args()

    for t in ("qemu-system-x86_64", "cpio", "busybox"):
        if not shutil.which(t) and not os.path.exists("/bin/" + t):
            die("%s not found (scripts/install-deps)" % t)
    kv, kimg = kernel_image()
    tmp = None
    if not args.work:
        tmp = args.work = tempfile.mkdtemp(prefix="openccid-kernel-")
    os.makedirs(args.work, exist_ok=True)
    args.work = os.path.abspath(args.work)
    t0 = time.monotonic()

    names = args.scenario or sorted(os.path.basename(p)[:-3]
                                    for p in glob.glob(os.path.join(HERE, "scenarios", "*.sh")))
    scens = []
    for n in names:
        path = os.path.join(HERE, "scenarios", n + ".sh")
        if not os.path.isfile(path):
            die("no scenario %s" % path)
        sw = os.path.join(args.work, n)
        os.makedirs(sw, exist_ok=True)
        s = Scenario(path, sw)
        # benchmarks (KS_BY_NAME=1) run only when named
        if not args.scenario and s.var("KS_BY_NAME") == "1":
            continue
        s.prepare()
        scens.append(s)

    initrd = os.path.join(args.work, "initrd.cpio")
    mk = [os.path.join(HERE, "mkinitramfs.sh"), initrd, args.bundle]
    if args.alt_bundle:
        mk.append(args.alt_bundle)
    r = subprocess.run(mk, env=dict(os.environ, OPENCCID_KERNEL_VERSION=kv,
                                    OPENCCID_KERNEL_EXTRA_BIN=" ".join(args.extra_bin)))
    if r.returncode != 0:
        die("mkinitramfs.sh failed")
    print("kernel: initramfs %d KiB, kernel %s, prepared in %.1f s" % (
        os.path.getsize(initrd) // 1024, kv, time.monotonic() - t0), flush=True)

    runs = []
    for s in scens:
        hcs = args.hc.split(",") if args.hc else s.controllers()
        for hc in hcs:
            if hc not in CONTROLLERS:
                die("unknown host controller %s (%s)" % (hc, ", ".join(CONTROLLERS)))
            steps = args.steps.split(",") if args.steps else s.steps(hc)
            runs.append((s, hc, steps))
    logs = os.path.join(args.work, "logs")
    os.makedirs(logs, exist_ok=True)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(run_vm, args, s, hc, steps, initrd, kimg,
                          os.path.join(logs, "%s-%s.log" % (s.name, hc)))
                for s, hc, steps in runs]
        for f in futs:
            results.append(f.result())

    npass = nfail = 0
    print("kernel: summary")
    for r in results:
        ok = sum(1 for v in r["steps"].values() if v[0] == "PASS")
        bad = sum(1 for v in r["steps"].values() if v[0] != "PASS")
        missing = sum(1 for p in r["problems"] if p.endswith("no verdict"))
        npass += ok
        nfail += bad + missing
        if not r["problems"] and not bad and not missing:
            state = "ok"
        else:
            state = "FAILED"
        print("kernel:   %-14s %-5s %-6s %2d passed %2d failed %5.1f s %s" % (
            r["scenario"], r["hc"], state, ok, bad + missing, r["seconds"],
            "; ".join(r["problems"])))
        if r["problems"] and not (bad or missing):
            nfail += 1
    total = time.monotonic() - t0
    print("kernel: %d steps passed, %d failed, %.0f s" % (npass, nfail, total))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"passed": npass, "failed": nfail, "seconds": round(total, 1),
                       "runs": results}, f, indent=1)
    if tmp and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif args.keep:
        print("kernel: work directory kept: %s" % args.work)
    return 0 if nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
