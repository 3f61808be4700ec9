#!/usr/bin/python3
"""make bench: openccid against Debian's libccid on the same virtual reader
(tests/sim/openccid-sim, profile `default`, 0d46:3001, extended APDU) and
the same built-in card, in one run. Runs inside a private mount namespace
(bench/run.sh). Prints a table of figures, ratios and targets and writes
them as JSON (--out).

Sections (each driver loaded by pcscd from its own private drop dir, or
dlopen()ed by the IFDH-direct harness ifdh-drive):
  pcscd    APDU/s, median and p99 latency through pcscd + pyscard; USB
           transfers per APDU; transfers while idle with a card present;
           plug -> first APDU (URBs, ms); pcscd RSS delta at plug
  instr    driver-own instructions per APDU (callgrind, self cost of the
           driver's object only, difference of two run lengths)
  heap     peak heap of the IFDH harness with one open reader (massif)
  scaling  aggregate APDU/s with 1, 2, 4, 8 slots in parallel (8-slot
           sysmoOCTSIM profile, bMaxCCIDBusySlots 8, TPDU T=0; one client
           process per slot)
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, HERE)

# libpcsclite reads the socket path once: set it before the first import.
_tmp = tempfile.mkdtemp(prefix="openccid-bench-")
_sockdir = os.path.join(_tmp, "pcscd-socket")
os.mkdir(_sockdir)
os.environ["PCSCLITE_CSOCK_NAME"] = os.path.join(_sockdir, "pcscd.comm")

import harness  # noqa: E402
from callgrind_obj import object_cost  # noqa: E402

DRIVERS = ("openccid", "libccid")
ECHO16 = harness.echo_apdu(bytes(range(16)))

# pcscd without --debug/--apdu: its logging would dominate the timing.
_orig_process_init = harness.Process.__init__


def _quiet_process_init(self, name, argv, env, log_path):
    if name == "pcscd":
        argv = [a for a in argv if a not in ("--debug", "--apdu", "--color")]
    _orig_process_init(self, name, argv, env, log_path)


harness.Process.__init__ = _quiet_process_init


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def urbs(st):
    u = st["urbs"]
    return {k: u.get(k, 0) for k in ("ctrl", "bulk_out", "bulk_in", "intr")}


def diff(a, b):
    return {k: b[k] - a[k] for k in a}


def pct(vals, p):
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def driver_mapped(pid, lib):
    with open("/proc/%d/maps" % pid) as f:
        return lib in f.read()


def setup_dropdirs(args):
    dd = {"openccid": args.openccid_dropdir}
    ccid = os.path.join(_tmp, "libccid-drop")
    os.mkdir(ccid)
    shutil.copytree(args.libccid_bundle, os.path.join(ccid, "ifd-ccid.bundle"), symlinks=True)
    dd["libccid"] = ccid
    return dd


LIBS = {"openccid": "libopenccid.so", "libccid": "libccid.so"}


def lib_path(dropdir, drv):
    for root, _d, files in os.walk(dropdir):
        if LIBS[drv] in files:
            return os.path.join(root, LIBS[drv])
    raise harness.HarnessError("%s not found under %s" % (LIBS[drv], dropdir))


def new_lab(dropdir, name):
    os.environ["OPENCCID_DROPDIR"] = dropdir
    cfg = harness.Config()
    return harness.Lab(cfg, name, _sockdir, base_tmp=_tmp)


def wait_reader_fast(lab, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rl = lab.readers()
        if rl:
            return rl[0]
        time.sleep(0.002)
    raise harness.HarnessError("no reader after %.0f s" % timeout)


# ---------------------------------------------------------------------------

def bench_pcscd(drv, dropdir, n_apdus, idle_s):
    res = {}
    lab = new_lab(dropdir, "bench-" + drv)
    try:
        lab.start(profile="default", cards=["builtin"])
        pid = lab.pcscd.pid
        if not driver_mapped(pid, LIBS[drv]):
            raise harness.HarnessError("pcscd did not map %s" % LIBS[drv])
        card = lab.connect()
        for _ in range(100):
            card.transmit(ECHO16)
        want = bytes(range(16)) + b"\x90\x00"
        times = []
        s0 = lab.sim.stats()
        t_start = time.perf_counter()
        for _ in range(n_apdus):
            t = time.perf_counter()
            r = card.transmit(ECHO16)
            times.append(time.perf_counter() - t)
            if r != want:
                raise harness.HarnessError("echo answered %s" % harness.hexs(r))
        wall = time.perf_counter() - t_start
        s1 = lab.sim.stats()
        d = diff(urbs(s0), urbs(s1))
        res["apdus"] = n_apdus
        res["apdu_per_s"] = n_apdus / wall
        res["median_ms"] = statistics.median(times) * 1e3
        res["p99_ms"] = pct(times, 99) * 1e3
        res["urbs_per_apdu"] = {k: v / n_apdus for k, v in d.items()}
        cmds = {k: s1["ccid"].get(k, 0) - s0["ccid"].get(k, 0) for k in s1["ccid"]}
        xfr = cmds.get("XfrBlock", 0)
        other = sum(cmds.values()) - xfr
        # Per exchange: each CCID command other than XfrBlock (pcscd's
        # presence polls) takes one bulk OUT and one bulk IN; the rest
        # belongs to the APDUs.
        res["xfrblocks_per_apdu"] = xfr / n_apdus
        res["per_exchange"] = {"bulk_out": (d["bulk_out"] - other) / n_apdus,
                               "bulk_in": (d["bulk_in"] - other) / n_apdus,
                               "ctrl": d["ctrl"] / n_apdus}
        res["ccid_per_apdu"] = {k: (s1["ccid"].get(k, 0) - s0["ccid"].get(k, 0)) / n_apdus
                                for k in s1["ccid"]}
        card.disconnect()
        for ctx in lab.contexts:
            harness.scard.SCardReleaseContext(ctx)
        lab.contexts = []
        # Idle with a card present and no client. Some seconds after the
        # last client left pcscd powers the card off (its own grace
        # period, not the driver's doing): wait for that IccPowerOff and
        # then 2 quiet seconds on the link (at most 25 s), then measure.
        settle_t0 = time.monotonic()
        transient = {}
        while time.monotonic() - settle_t0 < 25:
            lab.sim.control("stats-reset")
            time.sleep(2.0)
            st = lab.sim.stats()
            for k, v in st["ccid"].items():
                if v:
                    transient[k] = transient.get(k, 0) + v
            quiet = sum(urbs(st).values()) - urbs(st)["intr"] == 0
            if quiet and transient.get("IccPowerOff"):
                break
        res["idle_settle_s"] = time.monotonic() - settle_t0
        res["idle_transient_ccid"] = transient
        lab.sim.control("stats-reset")
        time.sleep(idle_s)
        st = lab.sim.stats()
        u = urbs(st)
        res["idle_s"] = idle_s
        res["idle_urbs"] = u
        res["idle_urbs_per_s"] = {k: v / idle_s for k, v in u.items()}
        res["idle_ccid"] = {k: v for k, v in st["ccid"].items() if v}
        # Plug -> first APDU answered.
        lab.sim.control("unplug")
        lab.wait_reader(present=False, timeout=15)
        time.sleep(0.5)
        rss0 = rss_kb(pid)
        lab.sim.control("stats-reset")
        t0 = time.perf_counter()
        lab.sim.control("plug")
        reader = wait_reader_fast(lab)
        t_reader = time.perf_counter()
        ctx = lab.context()
        deadline = time.monotonic() + 15
        while True:
            rv, h, proto = harness.scard.SCardConnect(
                ctx, reader, harness.scard.SCARD_SHARE_SHARED,
                harness.scard.SCARD_PROTOCOL_T0 | harness.scard.SCARD_PROTOCOL_T1)
            if rv == harness.scard.SCARD_S_SUCCESS:
                break
            if time.monotonic() > deadline:
                raise harness.HarnessError("SCardConnect after plug: %s" % harness.scard_err(rv))
            time.sleep(0.002)
        c2 = harness.Card(lab, ctx, h, proto)
        r = c2.transmit(ECHO16)
        t1 = time.perf_counter()
        st = lab.sim.stats()
        if r != want:
            raise harness.HarnessError("echo after plug answered %s" % harness.hexs(r))
        u = urbs(st)
        res["plug_urbs"] = u
        res["plug_round_trips"] = sum(u.values())
        res["plug_ccid"] = {k: v for k, v in st["ccid"].items() if v}
        res["plug_ms"] = (t1 - t0) * 1e3
        res["plug_reader_listed_ms"] = (t_reader - t0) * 1e3
        res["rss_kb_reader_delta"] = rss_kb(pid) - rss0
        res["rss_kb_pcscd"] = rss_kb(pid)
        c2.disconnect()
    finally:
        problems = lab.stop()
        if problems:
            res["problems"] = problems
    return res


# ---------------------------------------------------------------------------

def run_ifdh(args, drv, lib, sim, tool, extra, n, out_prefix):
    env = dict(os.environ)
    env["LD_PRELOAD"] = harness.PRELOAD
    env["UMOCKDEV_DIR"] = sim.umockdev_dir
    argv = [args.ifdh_drive, "--driver", lib, "--profile", sim.profile_path,
            "--control", sim.control_path, "--no-events", "--iterations", str(n),
            "--log", out_prefix + ".drvlog"] + extra
    if tool == "callgrind":
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_prefix + ".cg",
                "--trace-children=no"] + argv
    elif tool == "massif":
        argv = ["valgrind", "--tool=massif", "--massif-out-file=" + out_prefix + ".ms"] + argv
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=600)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    ok = [l for l in lines if l.get("outcome") == "works"]
    if r.returncode != 0 or not ok:
        raise harness.HarnessError("ifdh-drive %s (%s) rc=%d: %s\n%s" % (
            drv, " ".join(extra), r.returncode, r.stdout[-800:], r.stderr[-800:]))
    return ok[0]


SIZES = {  # name: (ifdh-drive args, short run, long run)
    "short": (["--short-sizes", "16", "--ext-sizes", ""], 5, 205),
    "ext4k": (["--short-sizes", "", "--ext-sizes", "4096", "--ext", "yes"], 5, 105),
    "ext64k": (["--short-sizes", "", "--ext-sizes", "65535", "--ext", "yes"], 2, 22),
}


def bench_ifdh(args, drv, dropdir, quick):
    res = {}
    lib = lib_path(dropdir, drv)
    os.environ["OPENCCID_DROPDIR"] = dropdir
    cfg = harness.Config()
    wd = tempfile.mkdtemp(prefix="ifdh-%s-" % drv, dir=_tmp)
    sim = harness.Sim(cfg, wd, "default", ["builtin"])
    try:
        for name, (extra, n1, n2) in SIZES.items():
            if quick:
                n2 = n1 + (n2 - n1) // 5
            costs = []
            for n in (n1, n2):
                pre = os.path.join(wd, "%s-%d" % (name, n))
                out = run_ifdh(args, drv, lib, sim, "callgrind", extra, n, pre)
                costs.append((out["apdus"], object_cost(pre + ".cg", os.path.basename(lib))))
            (a1, c1), (a2, c2) = costs
            res["instr_" + name] = (c2 - c1) / float(a2 - a1) if a2 > a1 else None
        pre = os.path.join(wd, "massif")
        run_ifdh(args, drv, lib, sim, "massif", SIZES["short"][0], 1, pre)
        res["heap_peak_bytes"] = massif_peak(pre + ".ms")
    finally:
        sim.process.stop()
    return res


def massif_peak(path):
    best = 0
    cur = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"mem_heap(_extra)?_B=(\d+)", line)
            if m:
                cur[m.group(1) or ""] = int(m.group(2))
                if len(cur) == 2:
                    best = max(best, sum(cur.values()))
                    cur = {}
    return best


# ---------------------------------------------------------------------------

WORKER = r"""
import sys, time
from smartcard import scard
reader, n = sys.argv[1], int(sys.argv[2])
apdu = list(bytes.fromhex(sys.argv[3]))
rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
rv, h, proto = scard.SCardConnect(ctx, reader, scard.SCARD_SHARE_SHARED,
                                  scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
if rv: print("ERR connect %x" % (rv & 0xffffffff)); sys.exit(1)
pci = scard.SCARD_PCI_T1 if proto == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
for _ in range(20): scard.SCardTransmit(h, pci, apdu)
sys.stdout.write("ready\n"); sys.stdout.flush(); sys.stdin.readline()
t = time.perf_counter()
for _ in range(n):
    rv, r = scard.SCardTransmit(h, pci, apdu)
    if rv or r[-2:] != [0x90, 0]: print("ERR transmit %x" % (rv & 0xffffffff)); sys.exit(1)
print("%f %f" % (t, time.perf_counter()))
"""

# Generated from the reader facts (harness.GENERATED_PROFILES): 8 slots,
# all of which may be busy at once (a SIM bank); T=0 only.
SCALE_PROFILE = "sysmoOCTSIM"
SCALE_SLOTS = 8
SCALE_CARD = "builtin:proto=0"
# Case 2 (READ 16 bytes 00 01 ..): at T=0 TPDU level a case 4 echo ends
# in 61 XX for drivers that leave GET RESPONSE to the application
# (libccid), so both drivers get an APDU they complete in one TPDU.
SCALE_APDU = bytes.fromhex("8002001010")


def bench_scaling(drv, dropdir, n_per):
    res = {}
    lab = new_lab(dropdir, "scale-" + drv)
    try:
        lab.start(profile=SCALE_PROFILE, cards=[SCALE_CARD] * SCALE_SLOTS)
        deadline = time.monotonic() + 15
        readers = []
        while time.monotonic() < deadline:
            readers = lab.readers() or []
            if len(readers) >= SCALE_SLOTS:
                break
            time.sleep(0.1)
        res["readers_listed"] = len(readers)
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        for k in (1, 2, 4, 8):
            if k > len(readers):
                res[str(k)] = {"na": "%d slots listed by pcscd (profile %s has %d; "
                               "one pcscd sees one umockdev testbed, so several "
                               "simulator instances cannot be combined)"
                               % (len(readers), SCALE_PROFILE, SCALE_SLOTS)}
                continue
            procs = [subprocess.Popen([sys.executable, "-c", WORKER, readers[i], str(n_per),
                                       SCALE_APDU.hex()], env=env, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
                     for i in range(k)]
            bad = None
            for p in procs:
                line = p.stdout.readline().strip()
                if line != "ready":
                    bad = line or "worker exited"
            for p in procs:
                try:
                    p.stdin.write("go\n")
                    p.stdin.flush()
                except BrokenPipeError:
                    pass
            spans = []
            for p in procs:
                out, _ = p.communicate(timeout=300)
                try:
                    a, b = map(float, out.split()[-2:])
                    spans.append((a, b))
                except ValueError:
                    bad = bad or out.strip()[-200:]
            if bad or len(spans) != k:
                res[str(k)] = {"na": "client failed: %s" % bad}
                continue
            wall = max(b for _a, b in spans) - min(a for a, _b in spans)
            res[str(k)] = {"apdu_per_s": k * n_per / wall}
    except harness.HarnessError as e:
        res["error"] = str(e).splitlines()[0]
    finally:
        problems = lab.stop()
        if problems:
            res["problems"] = problems
    return res


# ---------------------------------------------------------------------------

def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if abs(v) >= 100:
            return "%.0f%s" % (v, unit)
        return "%.2f%s" % (v, unit)
    return "%s%s" % (v, unit)


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


def g(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def build_rows(R):
    o, l = R["openccid"], R["libccid"]
    rows = []

    def row(name, ov, lv, target, met, note=""):
        num = (int, float)
        rows.append({"metric": name, "openccid": ov, "libccid": lv,
                     "ratio": ratio(ov, lv) if isinstance(ov, num) and
                     isinstance(lv, num) else None,
                     "target": target, "met": met, "note": note})

    def both(*keys):
        return g(o, *keys), g(l, *keys)

    def cmp_le(ov, lv, factor=1.0):
        return None if ov is None or lv is None else ov <= factor * lv

    for d in DRIVERS:
        for sec in ("pcscd", "ifdh", "scaling"):
            if g(R[d], sec, "error"):
                rows.append({"metric": "%s %s section" % (d, sec), "openccid": None,
                             "libccid": None, "ratio": None, "target": "-", "met": None,
                             "note": R[d][sec]["error"]})
    ov, lv = both("pcscd", "apdu_per_s")
    row("APDU/s via pcscd (16-byte echo, %s)" % g(o, "pcscd", "apdus"), ov, lv, "-", None)
    row("median latency ms", *both("pcscd", "median_ms"), "-", None)
    row("p99 latency ms", *both("pcscd", "p99_ms"), "-", None)
    for name, label in (("short", "short 16 B"), ("ext4k", "extended 4 KiB"),
                        ("ext64k", "extended 64 KiB")):
        ov, lv = both("ifdh", "instr_" + name)
        row("driver instr/APDU, %s" % label, ov, lv, "<= 0.5x libccid", cmp_le(ov, lv, 0.5))
    uo, ul = both("pcscd", "urbs_per_apdu")
    eo, el = both("pcscd", "per_exchange")
    if uo and ul and eo and el:
        met = abs(eo["bulk_out"] - 1) < 1e-9 and abs(eo["bulk_in"] - 1) < 1e-9 \
            and eo["ctrl"] == 0 and g(o, "pcscd", "xfrblocks_per_apdu") == 1
        row("USB transfers per APDU exchange (bulk OUT+IN)", eo["bulk_out"] + eo["bulk_in"],
            el["bulk_out"] + el["bulk_in"], "exactly 1 OUT + 1 IN", met,
            "raw URBs per APDU incl. pcscd's polls, out/in/ctrl/intr: openccid "
            "%.4f/%.4f/%.4f/%.4f; libccid %.4f/%.4f/%.4f/%.4f" % (
                uo["bulk_out"], uo["bulk_in"], uo["ctrl"], uo["intr"],
                ul["bulk_out"], ul["bulk_in"], ul["ctrl"], ul["intr"]))
    io, il = both("pcscd", "idle_urbs")
    if io and il:
        idle_s = o["pcscd"]["idle_s"]
        met = io["ctrl"] + io["bulk_out"] + io["bulk_in"] == 0 and io["intr"] <= 1
        row("USB transfers per idle s (card in, no client)",
            sum(io.values()) / idle_s, sum(il.values()) / idle_s,
            "none beyond the pending interrupt", met,
            "URBs submitted in %.0f s: openccid %s ccid %s; libccid %s ccid %s; "
            "measured after pcscd's card power-off and 2 quiet s (settled after "
            "%.0f / %.0f s; CCID commands before that, after the client left: "
            "openccid %s, libccid %s)" % (
                idle_s, io, o["pcscd"]["idle_ccid"], il, l["pcscd"]["idle_ccid"],
                o["pcscd"]["idle_settle_s"], l["pcscd"]["idle_settle_s"],
                o["pcscd"]["idle_transient_ccid"], l["pcscd"]["idle_transient_ccid"]))
    po, pl = both("pcscd", "plug_round_trips")
    row("plug -> first APDU: USB round trips", po, pl, "<= libccid", cmp_le(po, pl),
        "URBs: openccid %s; libccid %s" % both("pcscd", "plug_urbs") if po else "")
    ov, lv = both("pcscd", "plug_ms")
    row("plug -> first APDU: ms", ov, lv, "-", None,
        "reader listed after %.0f / %.0f ms" % both("pcscd", "plug_reader_listed_ms")
        if ov and lv else "")
    ho, hl = both("ifdh", "heap_peak_bytes")
    row("heap peak, IFDH harness + 1 open reader (B)", ho, hl, "<= libccid", cmp_le(ho, hl))
    ro, rl = both("pcscd", "rss_kb_reader_delta")
    row("pcscd RSS delta at plug (KiB)", ro, rl, "<= libccid", cmp_le(ro, rl),
        "pcscd RSS after: %s / %s KiB" % both("pcscd", "rss_kb_pcscd") if ro is not None else "")
    for k in ("1", "2", "4", "8"):
        so, sl = g(o, "scaling", k) or {}, g(l, "scaling", k) or {}
        note = "; ".join("%s: %s" % (d, s["na"]) for d, s in (("openccid", so), ("libccid", sl))
                         if "na" in s)
        row("APDU/s, %s slot(s) in parallel" % k, so.get("apdu_per_s"), sl.get("apdu_per_s"),
            "-", None, note)
    return rows


def print_table(rows, out):
    w = max(len(r["metric"]) for r in rows)
    hdr = "| %-*s | %10s | %10s | %6s | %-32s | %-3s |" % (
        w, "metric", "openccid", "libccid", "ratio", "target", "met")
    out.write(hdr + "\n|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|\n")
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        out.write("| %-*s | %10s | %10s | %6s | %-32s | %-3s |\n" % (
            w, r["metric"], fmt(r["openccid"]), fmt(r["libccid"]),
            fmt(r["ratio"]), r["target"], met))
    notes = [r for r in rows if r["note"]]
    if notes:
        out.write("\nnotes:\n")
        for r in notes:
            out.write("- %s: %s\n" % (r["metric"], r["note"]))


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def guarded(fn, *a):
    """A failing section is reported in the table, not fatal."""
    try:
        return fn(*a)
    except Exception as e:  # noqa: BLE001 - reported as n/a with the reason
        log("%s failed: %s" % (fn.__name__, e))
        return {"error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--openccid-dropdir", required=True)
    ap.add_argument("--libccid-bundle", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--ifdh-drive", required=True)
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--apdus", type=int, default=2000)
    ap.add_argument("--idle", type=float, default=5.0)
    ap.add_argument("--scale-apdus", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="fewer callgrind iterations")
    ap.add_argument("--only", default="pcscd,ifdh,scaling")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, callgrind files)")
    args = ap.parse_args()
    os.environ["OPENCCID_SIM"] = args.sim
    os.environ["OPENCCID_SIM_PROFILES"] = args.profiles
    dropdirs = setup_dropdirs(args)
    only = args.only.split(",")
    t0 = time.monotonic()
    R = {d: {"pcscd": {}, "ifdh": {}, "scaling": {}} for d in DRIVERS}
    for drv in DRIVERS:
        if "pcscd" in only:
            log("%s: pcscd throughput, idle, plug" % drv)
            R[drv]["pcscd"] = guarded(bench_pcscd, drv, dropdirs[drv], args.apdus, args.idle)
        if "ifdh" in only:
            log("%s: callgrind / massif on ifdh-drive" % drv)
            R[drv]["ifdh"] = guarded(bench_ifdh, args, drv, dropdirs[drv], args.quick)
        if "scaling" in only:
            log("%s: scaling" % drv)
            R[drv]["scaling"] = guarded(bench_scaling, drv, dropdirs[drv], args.scale_apdus)
    rows = build_rows(R)
    m = machine()
    m["seconds"] = time.monotonic() - t0
    sys.stdout.write("\nopenccid vs libccid, %s, %s CPUs (%s), %.0f s\n\n" % (
        m["date"], m["nproc"], m["cpu"], m["seconds"]))
    print_table(rows, sys.stdout)
    with open(args.out, "w") as f:
        json.dump({"machine": m, "rows": rows, "raw": R}, f, indent=1)
    log("results: %s" % args.out)
    if args.keep:
        log("work dir kept: %s" % _tmp)
    else:
        shutil.rmtree(_tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
