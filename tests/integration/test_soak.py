"""Bounded concurrency soak through real pcscd, the driver under valgrind.

Three simulated USB readers on one bus (a 4-slot SpringCard, a 2-slot
Alcor, a 1-slot KOBIL: 7 slots, 7 readers in pcscd), one tolerant client
process per slot (slot_client.py: random-length echo APDUs, every success
reply checked byte for byte, errors recorded with their time). Meanwhile a
seeded schedule takes cards out and puts them back, arms simulator faults
(tests/integration/FAULTS.md), and unplugs and replugs one reader once.
The run then has a quiet tail in which everything must work again.

Asserted: every client ends within a bound (no deadlock); no wrong reply
ever; every error falls in the window of an event that makes it
legitimate (a card event on that client's slot, an unplug of its device,
an armed fault); every client answers again in the quiet tail; pcscd
alive with all readers; every armed fault fired; and valgrind memcheck
(pcscd runs under it, --keep-debuginfo so the unloaded driver's frames
keep their names) reports no lost block and no memory error with a frame
of the driver.

Environment: OPENCCID_SOAK_SECONDS (default 60), OPENCCID_SOAK_SEED
(default 1), OPENCCID_SOAK_VALGRIND=0 to run pcscd without valgrind.
Longer run (documented in README): OPENCCID_SOAK_SECONDS=1800.
"""

import glob
import os
import random
import re
import shutil
import time

import harness
import multi

SECONDS = float(os.environ.get("OPENCCID_SOAK_SECONDS", "60"))
SEED = int(os.environ.get("OPENCCID_SOAK_SEED", "1"))
VALGRIND = os.environ.get("OPENCCID_SOAK_VALGRIND", "1") != "0"

# (profile, slots); the slots are numbered across devices in this order.
DEVICES = [("SpringCard_EasyFinger_Ultimate", 4), ("AlcorMicro_AU9522", 2), ("default", 1)]
UNPLUG_DEV = 1
# Faults whose outcome FAULTS.md records as a correct answer or an error
# followed by a correct next APDU, all bounded.
FAULTS = ["zlp-before-reply cmd=XfrBlock", "dup-reply cmd=XfrBlock", "wrong-seq cmd=XfrBlock",
          "stall-in cmd=XfrBlock", "late-reply 1000 cmd=XfrBlock", "wtx 3 cmd=XfrBlock",
          "mute cmd=XfrBlock", "hw-error cmd=XfrBlock", "notify-spurious",
          "intr-garbage bits"]
CARD_WINDOW = 4.0    # errors allowed on that slot up to this long after the insert
FAULT_WINDOW = 10.0  # ... on any slot this long after a fault is armed
PLUG_WINDOW = 20.0   # ... on the unplugged device's slots after the replug
QUIET = 15.0         # no event in the last QUIET seconds: everything must work


def _driver_sources():
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    return {os.path.basename(p) for p in glob.glob(os.path.join(src, "*.c"))}


def _valgrind_findings(path):
    """(records with a driver frame, whether a leak check ran)."""
    with open(path, errors="replace") as f:
        text = f.read()
    ran = "LEAK SUMMARY" in text or "All heap blocks were freed" in text
    srcs = _driver_sources()
    frame = re.compile(r"\((?:in [^)]*libopenccid[^)]*|(%s):\d+)\)"
                       % "|".join(re.escape(s) for s in sorted(srcs)))
    records, cur = [], []
    for line in text.splitlines():
        body = re.sub(r"^==\d+==\s?", "", line)
        if not body.strip():
            if cur:
                records.append(cur)
            cur = []
        else:
            cur.append(body)
    if cur:
        records.append(cur)
    bad = []
    for rec in records:
        head = rec[0]
        if "still reachable" in head or "LEAK SUMMARY" in head or "HEAP SUMMARY" in head:
            continue
        if any(frame.search(l) for l in rec):
            bad.append("\n".join(rec[:25]))
    return bad, ran


def _wait_no_reader(lb, bound):
    """Until pcscd lists no reader. pyscard 2.0.5's SCardListReaders at
    times raises SystemError ("returned a result with an exception set")
    while the last readers go; that is retried like "not yet"."""
    deadline = time.monotonic() + bound
    last = None
    while time.monotonic() < deadline:
        try:
            last = lb.readers()
        except SystemError as e:
            last = "pyscard: %s" % e
        if last == []:
            return
        time.sleep(0.2)
    raise AssertionError("readers still listed %.0f s after unplugging every device: %s\n%s"
                         % (bound, last, lb.log_tails(40)))


def test_soak(lab, monkeypatch, tmp_path):
    rnd = random.Random(SEED)
    nslots = sum(n for _p, n in DEVICES)
    # The harness watchdog must outlive the soak (longer documented runs).
    monkeypatch.setattr(harness, "TEST_TIMEOUT", max(harness.TEST_TIMEOUT, SECONDS + 300))
    kw = {}
    vg_dir = str(tmp_path)
    if VALGRIND:
        vg = shutil.which("valgrind")
        assert vg, "valgrind is not installed (OPENCCID_SOAK_VALGRIND=0 runs without it)"
        kw = {"pcscd_wrapper": [vg, "--tool=memcheck", "--leak-check=full",
                                "--show-leak-kinds=definite,indirect,possible",
                                "--keep-debuginfo=yes", "--num-callers=40",
                                "--suppressions=%s" % os.path.join(os.path.dirname(
                                    os.path.abspath(__file__)), "umockdev.supp"),
                                "--log-file=%s" % os.path.join(vg_dir, "vg.%p")],
              "pcscd_stop_timeout": 180}
    lb = lab.start(profile=[p for p, _n in DEVICES], cards=["builtin"] * nslots,
                   wait_reader=False, **kw)
    readers = multi.wait_readers(lb, nslots, timeout=60)
    # Reader names -> global slots: group by base name, devices by slot count.
    by_base = {}
    for r in readers:
        base, _idx, slot = multi.split_name(r)
        by_base.setdefault(base, []).append((slot, r))
    assert len(by_base) == len(DEVICES), readers
    slot_reader, slot_dev = {}, {}
    g = 0
    for d, (_p, n) in enumerate(DEVICES):
        bases = [b for b, v in by_base.items() if len(v) == n]
        assert len(bases) == 1, (n, by_base)
        for slot, r in sorted(by_base[bases[0]]):
            slot_reader[g], slot_dev[g] = r, d
            g += 1
    lb.sim.control("stats-reset")

    cl = multi.Clients(lb)
    t_start = multi.start_time(nslots)
    for g, r in slot_reader.items():
        cl.start(r, "slot%d" % g, seconds=SECONDS, seed=SEED * 100 + g, tolerant=True,
                 start_at=t_start)
    time.sleep(max(0.0, t_start - time.monotonic()))
    t_end = t_start + SECONDS
    events_until = t_end - QUIET
    windows = []   # (t0, t1, set of global slots or None for all, what)
    armed = {}
    unplug_at = t_start + (events_until - t_start) * 0.4
    unplugged = False
    log = []
    while time.monotonic() < events_until:
        time.sleep(rnd.uniform(0.4, 1.5))
        now = time.monotonic()
        if now >= events_until:
            break
        if not unplugged and now >= unplug_at:
            slots = {g for g, d in slot_dev.items() if d == UNPLUG_DEV}
            t0 = time.monotonic()
            lb.sim.control("unplug %d" % UNPLUG_DEV)
            time.sleep(2.0)
            lb.sim.control("plug %d" % UNPLUG_DEV)
            windows.append((t0 - 0.2, time.monotonic() + PLUG_WINDOW, slots, "unplug"))
            log.append("%.1f unplug/plug device %d" % (t0 - t_start, UNPLUG_DEV))
            unplugged = True
            continue
        if rnd.random() < 0.35:
            f = rnd.choice(FAULTS)
            t0 = time.monotonic()
            lb.sim.control("fault " + f)
            name = f.split()[0]
            armed[name] = armed.get(name, 0) + 1
            windows.append((t0 - 0.2, t0 + FAULT_WINDOW, None, "fault " + f))
            log.append("%.1f fault %s" % (t0 - t_start, f))
        else:
            g = rnd.randrange(nslots)
            t0 = time.monotonic()
            lb.sim.control("card-remove %d" % g)
            time.sleep(rnd.uniform(0.3, 1.2))
            lb.sim.control("card-insert %d" % g)
            windows.append((t0 - 0.2, time.monotonic() + CARD_WINDOW, {g}, "card %d" % g))
            log.append("%.1f card out/in slot %d" % (t0 - t_start, g))

    res = cl.wait(SECONDS + 120)
    problems = []
    for tag, r in sorted(res.items()):
        g = int(tag[4:])
        if r["wrong"]:
            problems.append("%s: %d WRONG replies reported as success, first %s"
                            % (tag, len(r["wrong"]), r["wrong"][0]))
        for e in r["errors"]:
            # A failed call spans [t, t + its duration] (slow under
            # valgrind): the event may have struck at any point of it.
            t = e[0]
            t_done = t + (e[3] if len(e) > 3 else 0.0)
            if not any(w0 <= t_done and t <= w1 and (sl is None or g in sl)
                       for w0, w1, sl, _w in windows):
                problems.append("%s: %s error %s at +%.1f s outside every event window"
                                % (tag, e[1], multi.err_name(e[2]), t - t_start))
        if r["ok"] < 10:
            problems.append("%s: only %d correct replies" % (tag, r["ok"]))
        if r["last_ok"] is None or r["last_ok"] < t_end - 5:
            problems.append("%s: no correct reply in the last 5 s of the run (last at +%s s)"
                            % (tag, None if r["last_ok"] is None else
                               round(r["last_ok"] - t_start, 1)))
    st = lb.sim.stats()
    fired = st.get("faults_fired", {})
    for name, n in armed.items():
        if fired.get(name, 0) < n:
            problems.append("fault %s armed %d times, fired %d" % (name, n, fired.get(name, 0)))
    assert lb.pcscd.alive(), "pcscd died during the soak\n" + lb.log_tails(60)
    still = multi.wait_readers(lb, nslots, timeout=10)
    assert len(still) == nslots, still
    total_ok = sum(r["ok"] for r in res.values())
    total_err = sum(len(r["errors"]) for r in res.values())
    summary = ("soak %.0f s seed %d: %d correct replies, %d legitimate errors, %d events "
               "(%s)" % (SECONDS, SEED, total_ok, total_err, len(windows), "; ".join(log)))
    print(summary)
    assert not problems, "\n".join(problems[:40]) + "\n" + summary + "\n" + lb.log_tails(60)

    if VALGRIND:
        # pcscd 1.9.9 exits on SIGTERM without closing its readers, so the
        # driver's memory would still be reachable from its reader table
        # and its polling threads still blocked: unplug every device first
        # (pcscd closes each reader, the driver frees everything), then
        # stop pcscd and let valgrind report.
        for d in range(len(DEVICES)):
            lb.sim.control("unplug %d" % d)
        _wait_no_reader(lb, 30)
        time.sleep(1.0)
        p = lb.pcscd.stop()
        assert p is None, p
        logs = glob.glob(os.path.join(vg_dir, "vg.*"))
        assert logs, "no valgrind log in %s" % vg_dir
        bad, ran = [], False
        for path in logs:
            b, r = _valgrind_findings(path)
            bad += b
            ran = ran or r
        assert ran, "valgrind did not report a leak check (pcscd killed?): %s" % logs
        assert not bad, ("valgrind: %d record(s) with a driver frame:\n\n" % len(bad)
                         + "\n\n".join(bad[:10]))

