"""Helpers for tests with several readers, slots and client processes
(test_multislot.py, test_soak.py)."""

import json
import os
import re
import subprocess
import sys
import time

from smartcard import scard

import harness

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slot_client.py")
_NAME = re.compile(r"^(.*) ([0-9A-F]{2}) ([0-9A-F]{2})$")


def split_name(reader):
    """pcscd's reader name -> (base, reader index, slot index)."""
    m = _NAME.match(reader)
    if not m:
        raise harness.HarnessError("unexpected reader name %r" % reader)
    return m.group(1), int(m.group(2), 16), int(m.group(3), 16)


def wait_readers(lb, n, timeout=harness.READER_TIMEOUT, prefix=None):
    """Until at least n readers (whose names start with prefix) are listed;
    returns them sorted by (reader index, slot)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not lb.pcscd.alive():
            raise harness.HarnessError("pcscd exited while waiting for readers\n" + lb.log_tails())
        rl = lb.readers() or []
        last = [r for r in rl if prefix is None or r.startswith(prefix)]
        if len(last) >= n:
            return sorted(last, key=lambda r: split_name(r)[1:])
        time.sleep(0.1)
    raise harness.HarnessError("%d reader(s)%s expected after %.0f s, listed: %s\n%s"
                               % (n, " named %r..." % prefix if prefix else "", timeout, last,
                                  lb.log_tails()))


def start_time(n):
    """A CLOCK_MONOTONIC instant by which n client processes have started
    and connected (python start-up is slow on a loaded 2-core machine), so
    that their first APDUs go out together."""
    return time.monotonic() + 1.5 + 0.6 * n


class Clients:
    """slot_client.py processes; each writes its JSON result to a file."""

    def __init__(self, lb):
        self.lb = lb
        self.procs = []

    def start(self, reader, tag, count=0, seconds=0.0, seed=1, tolerant=False, max_len=255,
              start_at=0.0, latencies=False):
        out = os.path.join(self.lb.dir, "client-%s.json" % tag)
        log = open(os.path.join(self.lb.dir, "client-%s.log" % tag), "wb")
        argv = [sys.executable, CLIENT, reader, "--out", out, "--seed", str(seed),
                "--max-len", str(max_len)]
        if count:
            argv += ["--count", str(count)]
        if seconds:
            argv += ["--seconds", str(seconds)]
        if tolerant:
            argv.append("--tolerant")
        if start_at:
            argv += ["--start-at", repr(start_at)]
        if latencies:
            argv.append("--latencies")
        env = dict(os.environ)
        env["PCSCLITE_CSOCK_NAME"] = self.lb.socket
        env.pop("LD_PRELOAD", None)
        p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=harness._die_with_parent)
        log.close()
        self.procs.append((tag, reader, p, out))
        return p

    def wait(self, bound):
        """Every client ends within `bound` seconds (else: a deadlock, the
        test fails and the stuck ones are killed). Returns {tag: result}."""
        deadline = time.monotonic() + bound
        stuck = []
        for tag, reader, p, _out in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stuck.append("%s (%s)" % (tag, reader))
        if stuck:
            for _tag, _r, p, _out in self.procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            raise AssertionError("client(s) still running %.0f s after the start (deadlock?): %s\n%s"
                                 % (bound, ", ".join(stuck), self.lb.log_tails(60)))
        results = {}
        for tag, reader, p, out in self.procs:
            if not os.path.exists(out):
                with open(os.path.join(self.lb.dir, "client-%s.log" % tag), errors="replace") as f:
                    raise AssertionError("client %s on %r left no result (rc %s):\n%s"
                                         % (tag, reader, p.returncode, f.read()[-3000:]))
            with open(out) as f:
                results[tag] = json.load(f)
        self.procs = []
        return results


def err_name(rv):
    return harness.scard_err(rv if rv < 0x80000000 else rv - (1 << 32))


def assert_all_ok(lb, results, want_each):
    """No wrong reply, no error, and at least want_each replies per client."""
    bad = []
    for tag, r in sorted(results.items()):
        if r["wrong"]:
            bad.append("%s (%s): %d WRONG replies reported as success, first: %s"
                       % (tag, r["reader"], len(r["wrong"]), r["wrong"][0]))
        if r["errors"]:
            bad.append("%s (%s): errors %s" % (tag, r["reader"],
                                               [(e[1], err_name(e[2])) for e in r["errors"][:5]]))
        if r["ok"] < want_each:
            bad.append("%s (%s): %d correct replies, wanted %d" % (tag, r["reader"], r["ok"],
                                                                   want_each))
    assert not bad, "\n".join(bad) + "\n" + lb.log_tails(40)


def assert_overlap(results):
    """The clients really ran at the same time: some instant lies inside
    every client's span of correct replies."""
    starts = [r["first_ok"] for r in results.values()]
    ends = [r["last_ok"] for r in results.values()]
    assert max(starts) < min(ends), (
        "clients did not overlap: first replies %s, last replies %s" % (starts, ends))


def status_now(ctx, reader):
    rv, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    return states[0][1] & ~scard.SCARD_STATE_CHANGED


def wait_state(lb, ctx, reader, current, want_bit, bound):
    """SCardGetStatusChange until the reader's state has want_bit; returns
    (seconds, state). Fails past bound."""
    t0 = time.monotonic()
    state = current
    while time.monotonic() - t0 < bound:
        left = max(1, int((bound - (time.monotonic() - t0)) * 1000))
        rv, states = scard.SCardGetStatusChange(ctx, left, [(reader, state)])
        if rv == scard.SCARD_E_TIMEOUT:
            break
        assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
        event = states[0][1]
        if event & want_bit:
            return time.monotonic() - t0, event & ~scard.SCARD_STATE_CHANGED
        state = event & ~scard.SCARD_STATE_CHANGED
    raise AssertionError("reader %r: state bit 0x%x not reached within %.1f s (last 0x%x)\n%s"
                         % (reader, want_bit, bound, state, lb.log_tails(40)))
