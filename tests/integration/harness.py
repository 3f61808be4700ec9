"""Integration-test harness: real pcscd + one driver bundle + openccid-sim.

One `Lab` per test: a fresh temporary directory, private mounts over pcscd's
compiled-in socket directory and drop directory (the process must already
run in a private mount namespace: tests/integration/run.sh arranges it), the
simulator under the umockdev preload, pcscd under the same preload, and
clients pointed at the private socket.

Everything that can wait is bounded; every failure says what was expected
and shows the end of the logs.
"""

import ctypes
import json
import os
import plistlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from smartcard import scard

PRELOAD = "libumockdev-preload.so.0"
PCSCD = shutil.which("pcscd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "pcscd"
# pcscd 1.9.9 compiles these in and ignores PCSCLITE_CSOCK_NAME and
# PCSCLITE_HP_DROPDIR (LAB-NOTES "pcscd in a private namespace").
PCSCD_IPCDIR = "/run/pcscd"
PCSCD_DROPDIR = os.environ.get("OPENCCID_PCSCD_DROPDIR", "/usr/lib/pcsc/drivers")

SIM_READY_TIMEOUT = 10.0
READER_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
CONTROL_TIMEOUT = 10.0
TEST_TIMEOUT = float(os.environ.get("OPENCCID_IT_TEST_TIMEOUT", "180"))

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class HarnessError(AssertionError):
    """The test set-up or an observation failed; the message says which."""


def _die_with_parent():
    # A child must not outlive the test runner (e.g. after a hard timeout).
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _mount_bind(src, dst):
    subprocess.run(["mount", "--bind", src, dst], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _umount(path):
    r = subprocess.run(["umount", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        r = subprocess.run(["umount", "-l", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    return r.returncode == 0


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    text = strip_ansi(data.decode("utf-8", "replace"))
    return "\n".join(text.splitlines()[-lines:])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(s):
    return _ANSI.sub("", s)


def hexs(b):
    return " ".join("%02X" % x for x in b)


def scard_err(rv):
    return "0x%08X (%s)" % (rv & 0xFFFFFFFF, scard.SCardGetErrorMessage(rv))


# --------------------------------------------------------------------------
# Configuration from the environment: missing input is a failure.

class Config:
    def __init__(self):
        problems = []
        self.top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        self.dropdir = os.environ.get("OPENCCID_DROPDIR", "")
        self.sim = os.environ.get("OPENCCID_SIM", "")
        self.profiles = os.environ.get("OPENCCID_SIM_PROFILES",
                                       os.path.join(self.top, "tests", "sim", "profiles"))
        if not self.dropdir:
            problems.append("OPENCCID_DROPDIR is not set (directory of ifd-*.bundle dirs)")
        elif not os.path.isdir(self.dropdir):
            problems.append("OPENCCID_DROPDIR=%s is not a directory" % self.dropdir)
        else:
            self.bundles = sorted(d for d in os.listdir(self.dropdir)
                                  if d.startswith("ifd-") and d.endswith(".bundle"))
            if not self.bundles:
                problems.append("OPENCCID_DROPDIR=%s holds no ifd-*.bundle" % self.dropdir)
        if not self.sim:
            problems.append("OPENCCID_SIM is not set (path of the built openccid-sim)")
        elif not os.access(self.sim, os.X_OK):
            problems.append("OPENCCID_SIM=%s is not an executable file" % self.sim)
        if not os.path.isdir(self.profiles):
            problems.append("OPENCCID_SIM_PROFILES=%s is not a directory" % self.profiles)
        for tool in ("pcscd", "mount", "umount"):
            if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
                problems.append("%s not found" % tool)
        if os.geteuid() != 0:
            problems.append("not root: the harness bind-mounts over %s" % PCSCD_IPCDIR)
        if not _in_private_mount_ns():
            problems.append("not in a private mount namespace: run tests/integration/run.sh")
        if not os.path.isdir(PCSCD_IPCDIR):
            problems.append("%s does not exist (run.sh creates it)" % PCSCD_IPCDIR)
        if not os.path.isdir(PCSCD_DROPDIR):
            problems.append("pcscd's drop dir %s does not exist" % PCSCD_DROPDIR)
        self.problems = problems

    def profile(self, name):
        """Path of a profile: a path, or NAME[.profile|.txt] in the profile dir."""
        if os.sep in name:
            cands = [name]
        else:
            base = os.path.join(self.profiles, name)
            cands = [base + ".profile", base + ".txt", base]
        for path in cands:
            if os.path.isfile(path):
                return path
        if name in GENERATED_PROFILES:
            return self._generate_profile(name, GENERATED_PROFILES[name])
        have = ", ".join(sorted(os.listdir(self.profiles))) if os.path.isdir(self.profiles) else "-"
        raise HarnessError("simulator profile %r not found in %s (have: %s)"
                           % (name, self.profiles, have))


    def _generate_profile(self, name, vidpid):
        out_dir = os.environ.get("OPENCCID_IT_PROFILE_CACHE") or tempfile.mkdtemp(prefix="profiles-")
        os.environ["OPENCCID_IT_PROFILE_CACHE"] = out_dir
        path = os.path.join(out_dir, name + ".profile")
        if os.path.isfile(path):
            return path
        gen = os.path.join(self.top, "tests", "sim", "mkprofile.py")
        r = subprocess.run([sys.executable, gen, "--vidpid", vidpid, "-o", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0 or not os.path.isfile(path):
            raise HarnessError("%s --vidpid %s failed:\n%s" % (gen, vidpid, r.stdout))
        return path


def dump_profile(tmp_path, dump):
    """A simulator profile in tmp_path made by tests/sim/mkprofile.py
    from the real reader dump of that name (descriptors.jsonl)."""
    out = os.path.join(str(tmp_path), dump.replace(".txt", "") + ".profile")
    gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim",
                       "mkprofile.py")
    r = subprocess.run([sys.executable, gen, "--dump", dump, "-o", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise HarnessError("%s --dump %s failed:\n%s" % (gen, dump, r.stdout))
    return out


# Profiles the tests need that tests/sim/profiles does not hold (yet): made
# from the real reader facts by tests/sim/mkprofile.py. A profile of the same
# name in the profile directory wins. Readers listed by both libccid 1.5.2
# and openccid, one slot, T=0 and T=1, interrupt-IN:
GENERATED_PROFILES = {
    # short APDU level (dwFeatures 0x000204BA, dwMaxCCIDMessageLength 271)
    "short-apdu": "0f14:0038",     # XIRING Leo v2
    # TPDU level (0x00010230, 271): the driver runs T=0 / T=1 itself
    "tpdu": "17ef:1003",           # Lenovo Integrated Smart Card Reader
    # extended APDU level with a 271-byte message limit (0x000404BA):
    # extended APDUs need XfrBlock chaining (wLevelParameter)
    "extended-apdu": "046a:01a2",  # Cherry GmbH CHERRY SECURE BOARD 1.0
    # 8 slots, bMaxCCIDBusySlots 8 (a SIM bank), TPDU level, T=0 only
    "sysmoOCTSIM": "1d50:6141",
    # ICCD version B token: no bulk endpoints, commands on the control
    # pipe (short APDU driven as extended, T=1; tests/sim/iccd.c)
    "iccd-b": "08e6:1227",         # Gemalto PDT
}


def _in_private_mount_ns():
    """run.sh exports the namespace it left; other callers (scripts/demo)
    are checked against PID 1's, or, where that is unreadable (containers),
    by the root mount not propagating (mount --make-rprivate /)."""
    own = os.readlink("/proc/self/ns/mnt")
    host = os.environ.get("OPENCCID_IT_HOST_MNTNS")
    if host:
        return own != host
    try:
        return own != os.readlink("/proc/1/ns/mnt")
    except OSError:
        pass
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == "/":
                opt = fields[6:fields.index("-")]
                return not any(o.startswith("shared:") for o in opt)
    return False


def read_profile(path):
    """The simulator profile as a dict (`key = value` lines, # comments)."""
    d = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                k, v = line.split("=", 1)
                d[k.strip()] = v.strip()
    return d


def bundle_plists(dropdir):
    """[(bundle name, library path, Info.plist dict)] for every bundle."""
    out = []
    for b in sorted(os.listdir(dropdir)):
        p = os.path.join(dropdir, b, "Contents", "Info.plist")
        if not (b.startswith("ifd-") and os.path.isfile(p)):
            continue
        with open(p, "rb") as f:
            pl = plistlib.load(f)
        lib = os.path.join(PCSCD_DROPDIR, b, "Contents", "Linux",
                           pl.get("CFBundleExecutable", "?"))
        out.append((b, lib, pl))
    return out


def friendly_name(dropdir, vid, pid):
    """ifdFriendlyName the bundles give to VID:PID, or None."""
    for _b, _lib, pl in bundle_plists(dropdir):
        vids = pl.get("ifdVendorID", [])
        pids = pl.get("ifdProductID", [])
        names = pl.get("ifdFriendlyName", [])
        if isinstance(vids, str):
            vids, pids, names = [vids], [pids], [names]
        for v, p, n in zip(vids, pids, names):
            if int(v, 16) == vid and int(p, 16) == pid:
                return n
    return None


# --------------------------------------------------------------------------
# pcscd's log. With --color, the level is the colour (pcsc-lite debuglog.c):
# critical 01;31, error 35, info 34, debug none; the colour format also
# prints the thread id, which lines() drops.

_LEVELS = {"01;31": "CRITICAL", "35": "ERROR", "34": "INFO"}
_LINE = re.compile(r"^(?:\x1b\[36m)?(\d{8})(?:\x1b\[0m)? (?:\[\d+\] )?(?:\x1b\[([0-9;]+)m)?(.*?)(?:\x1b\[0m)?$")


class PcscdLog:
    def __init__(self, path):
        self.path = path

    def lines(self):
        """[(level, text)] of every line so far; foreign lines are 'RAW'."""
        try:
            with open(self.path, "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        out = []
        for raw in data.splitlines():
            m = _LINE.match(raw)
            if m:
                out.append((_LEVELS.get(m.group(2), "DEBUG"), strip_ansi(m.group(3))))
            else:
                out.append(("RAW", strip_ansi(raw)))
        return out

    def text(self):
        return "\n".join(t for _l, t in self.lines())

    def errors(self):
        return [(l, t) for l, t in self.lines() if l in ("ERROR", "CRITICAL")]

    def sanitizer_reports(self):
        return [t for _l, t in self.lines()
                if "AddressSanitizer" in t or "LeakSanitizer" in t
                or "UndefinedBehaviorSanitizer" in t or ": runtime error:" in t]


# --------------------------------------------------------------------------

class Process:
    """A child we started: log file, bounded stop, crash verdict."""

    def __init__(self, name, argv, env, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self.we_signalled = None
        self.stop_timeout = STOP_TIMEOUT  # longer under valgrind (leak check at exit)

    def alive(self):
        return self.proc.poll() is None

    def kill(self, sig):
        if self.alive():
            self.we_signalled = sig
            try:
                os.kill(self.pid, sig)  # our own child, by its PID
            except ProcessLookupError:
                pass

    def stop(self):
        """SIGTERM, then SIGKILL after a bound. Returns a problem or None
        (a second call returns None: the first one reported it)."""
        if self.log.closed:
            return None
        problem = None
        rc = self.proc.poll()
        if rc is not None:
            problem = self._verdict(rc, stopped_by_us=False)
        else:
            self.kill(signal.SIGTERM)
            try:
                rc = self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                rc = self.proc.wait(STOP_TIMEOUT)
                problem = "%s (pid %d) ignored SIGTERM for %.0f s; killed" % (
                    self.name, self.pid, self.stop_timeout)
            else:
                problem = self._verdict(rc, stopped_by_us=True)
        self.log.close()
        return problem

    def _verdict(self, rc, stopped_by_us):
        if rc < 0:
            sig = -rc
            if stopped_by_us and sig == signal.SIGTERM:
                return None
            if self.we_signalled == sig:
                return "%s (pid %d) was killed by the harness (signal %d)" % (self.name, self.pid, sig)
            return "%s (pid %d) died of signal %d (%s)" % (
                self.name, self.pid, sig, signal.Signals(sig).name)
        if not stopped_by_us:
            return "%s (pid %d) exited on its own with status %d" % (self.name, self.pid, rc)
        if rc != 0:
            return "%s (pid %d) exited with status %d after SIGTERM" % (self.name, self.pid, rc)
        return None


class Sim:
    """openccid-sim under the umockdev preload, and its control socket."""

    def __init__(self, cfg, workdir, profile, cards, extra_env=None):
        # A list of profiles: several USB devices on one testbed (device k
        # is `unplug k`/`plug k`; --card specs fill their slots in order).
        names = list(profile) if isinstance(profile, (list, tuple)) else [profile]
        self.profile_paths = [cfg.profile(n) for n in names]
        self.profile_path = self.profile_paths[0]
        self.profile = read_profile(self.profile_path)
        self.control_path = os.path.join(workdir, "sim.ctl")
        self.ready_path = os.path.join(workdir, "sim.ready")
        self.log_path = os.path.join(workdir, "sim.log")
        argv = [cfg.sim]
        for p in self.profile_paths:
            argv += ["--profile", p]
        for c in cards or []:
            argv += ["--card", c]
        argv += ["--control", self.control_path, "--ready-file", self.ready_path,
                 "--log", self.log_path]
        env = dict(os.environ)
        env["LD_PRELOAD"] = PRELOAD
        env.pop("UMOCKDEV_DIR", None)
        env.update(extra_env or {})
        self.stdout_path = os.path.join(workdir, "sim.out")
        self.process = Process("openccid-sim", argv, env, self.stdout_path)
        self.umockdev_dir = self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + SIM_READY_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.ready_path):
                with open(self.ready_path) as f:
                    d = f.read().strip()
                if d and os.path.isdir(d):
                    return d
                raise HarnessError("simulator ready file names %r, not a directory" % d)
            if not self.process.alive():
                raise HarnessError("openccid-sim exited with status %s before it was ready:\n%s\n%s"
                                   % (self.process.proc.returncode, tail(self.stdout_path),
                                      tail(self.log_path)))
            time.sleep(0.02)
        raise HarnessError("openccid-sim not ready after %.0f s (no %s):\n%s\n%s"
                           % (SIM_READY_TIMEOUT, self.ready_path, tail(self.stdout_path),
                              tail(self.log_path)))

    def control(self, command, timeout=CONTROL_TIMEOUT):
        """Send one command; return the data after 'ok'; raise on 'err'."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.control_path)
            s.sendall(command.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except OSError as e:
            raise HarnessError("sim control %r: %s" % (command, e))
        finally:
            s.close()
        reply = buf.decode("utf-8", "replace").strip()
        if reply == "ok" or reply.startswith("ok "):
            return reply[3:]
        raise HarnessError("sim control %r answered %r" % (command, reply))

    def stats(self):
        return json.loads(self.control("stats"))

    def vid_pid(self):
        """(idVendor, idProduct) from the profile, or (None, None)."""
        def num(*keys):
            for k in keys:
                if k in self.profile:
                    return int(self.profile[k], 16)
            return None
        return num("idVendor", "vid", "vendor_id"), num("idProduct", "pid", "product_id")


class Lab:
    """One test's world: mounts, simulator, pcscd, client helpers."""

    def __init__(self, cfg, name, session_sockdir, base_tmp=None):
        if cfg.problems:
            raise HarnessError("integration set-up incomplete:\n  " + "\n  ".join(cfg.problems))
        self.cfg = cfg
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="it-%s-" % re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60],
                                    dir=base_tmp)
        self.rundir = os.path.join(self.dir, "run")
        self.confdir = os.path.join(self.dir, "config")
        os.mkdir(self.rundir)
        os.mkdir(self.confdir)
        self.sockdir = session_sockdir
        self.socket = os.path.join(session_sockdir, "pcscd.comm")
        self.pcscd_log_path = os.path.join(self.dir, "pcscd.log")
        self.log = PcscdLog(self.pcscd_log_path)
        self.client_log_path = os.path.join(self.dir, "clients.log")
        self.mounts = []
        self.sim = None
        self.pcscd = None
        self.contexts = []
        self.problems = []
        self.watchdog_fired = False
        self._watchdog = None

    # ---- set-up ----------------------------------------------------------

    def start(self, profile="default", cards=None, wait_reader=True, sim_env=None,
              pcscd_env=None, pcscd_user=None, before_pcscd=None, pcscd_wrapper=None,
              pcscd_stop_timeout=None, pcscd_apdu_log=True):
        """pcscd_user=(uid, gid) runs pcscd with those ids and no
        capabilities (as pcsc-lite 2.4 does under systemd);
        before_pcscd(lab) runs once the simulator is up, before pcscd;
        pcscd_wrapper: argv prefix (e.g. valgrind ...) with
        pcscd_stop_timeout seconds for it to exit after SIGTERM;
        pcscd_apdu_log=False drops --apdu (pcscd's own APDU log lines,
        which show PINs: for tests of the driver's redaction)."""
        self._watchdog = threading.Timer(TEST_TIMEOUT, self._on_watchdog)
        self._watchdog.daemon = True
        self._watchdog.start()
        # Private socket dir, seen by pcscd at its compiled-in path and by
        # clients at the session path (libpcsclite caches the env value).
        for src, dst in ((self.rundir, PCSCD_IPCDIR), (self.rundir, self.sockdir),
                         (self.cfg.dropdir, PCSCD_DROPDIR)):
            _mount_bind(src, dst)
            self.mounts.append(dst)
        if profile is not None:
            self.sim = Sim(self.cfg, self.dir, profile, cards, sim_env)
            umockdev_dir = self.sim.umockdev_dir
        else:
            # No device at all: an empty mocked /sys, so that pcscd never
            # sees the host's real readers.
            umockdev_dir = os.path.join(self.dir, "empty-testbed")
            for d in ("sys", "dev"):
                os.makedirs(os.path.join(umockdev_dir, d))
            wait_reader = False
        env = dict(os.environ)
        env["LD_PRELOAD"] = self._pcscd_preload()
        env["UMOCKDEV_DIR"] = umockdev_dir
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        env.update(pcscd_env or {})  # e.g. OPENCCID_LOG_LEVEL
        argv = [PCSCD, "--foreground", "--debug"] + \
            (["--apdu"] if pcscd_apdu_log else []) + \
            ["--color", "--config", self.confdir]
        if pcscd_wrapper:
            argv = list(pcscd_wrapper) + argv
        if pcscd_user is not None:
            argv = self._drop_privileges(pcscd_user, umockdev_dir) + argv
        if before_pcscd is not None:
            before_pcscd(self)
        self.pcscd = Process("pcscd", argv, env, self.pcscd_log_path)
        if pcscd_stop_timeout:
            self.pcscd.stop_timeout = pcscd_stop_timeout
        self.wait_service()
        if wait_reader:
            self.reader = self.wait_reader(present=True, timeout=READER_TIMEOUT)
        return self

    def _drop_privileges(self, user, umockdev_dir):
        """Let uid:gid reach what a real pcscd user reaches (its run dir,
        its config dir, /sys) and return the setpriv prefix. The device
        node is left alone: its owner and mode are what is under test."""
        uid, gid = user
        os.chown(self.rundir, uid, gid)  # systemd's RuntimeDirectory=
        for d in (os.path.dirname(self.dir), self.dir):
            os.chmod(d, 0o711)  # search only, to reach --config
        # umockdev plumbing, no real-system counterpart: the testbed root
        # (mkdtemp, 0700) holds /sys and /dev and the preload's uevent
        # sockets that pcscd creates; the ioctl sockets stand behind the
        # device nodes (only the node's own mode decides who opens it).
        os.chown(umockdev_dir, 0, gid)
        os.chmod(umockdev_dir, 0o770)
        ioctl_dir = os.path.join(umockdev_dir, "ioctl")
        for root, _dirs, files in os.walk(ioctl_dir):
            for f in files:
                os.chmod(os.path.join(root, f), 0o777)
        # pdeathsig is cleared by the uid change: setpriv sets it again.
        return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                "--inh-caps=-all", "--pdeathsig=KILL", "--"]

    def wait_service(self, timeout=READER_TIMEOUT):
        """Until SCardEstablishContext succeeds through our socket."""
        deadline = time.monotonic() + timeout
        rv = None
        while time.monotonic() < deadline:
            if not self.pcscd.alive():
                raise HarnessError("pcscd exited (status %s) during start-up\n%s"
                                   % (self.pcscd.proc.returncode, self.log_tails()))
            rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rv == scard.SCARD_S_SUCCESS:
                scard.SCardReleaseContext(ctx)
                return
            time.sleep(0.05)
        raise HarnessError("pcscd not reachable through %s after %.0f s: %s\n%s"
                           % (self.socket, timeout, scard_err(rv), self.log_tails()))

    def _pcscd_preload(self):
        # A driver built with ASan, loaded by an uninstrumented pcscd, needs
        # the runtime first in the preload list.
        pre = [PRELOAD]
        for _b, lib, _pl in bundle_plists(self.cfg.dropdir):
            real = os.path.join(self.cfg.dropdir, os.path.relpath(lib, PCSCD_DROPDIR))
            try:
                out = subprocess.run(["readelf", "-d", real], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True).stdout
            except OSError:
                continue
            m = re.search(r"\[(libasan\.so[.0-9]*)\]", out)
            if m and m.group(1) not in pre:
                pre.insert(0, m.group(1))
        return ":".join(pre)

    def _on_watchdog(self):
        # Unblocks a client stuck in libpcsclite: its socket closes.
        self.watchdog_fired = True
        for p in (self.pcscd, self.sim and self.sim.process):
            if p:
                p.kill(signal.SIGKILL)

    # ---- teardown --------------------------------------------------------

    def stop(self):
        """Stop everything we started; return the list of problems."""
        if self._watchdog:
            self._watchdog.cancel()
        problems = []
        if self.watchdog_fired:
            problems.append("test exceeded %.0f s: the harness killed pcscd and the simulator"
                            % TEST_TIMEOUT)
        for ctx in self.contexts:
            try:
                scard.SCardReleaseContext(ctx)
            except Exception:  # noqa: BLE001 - pcscd may be gone already
                pass
        self.contexts = []
        if self.pcscd:
            p = self.pcscd.stop()
            if p and not self.watchdog_fired:
                problems.append(p)
            san = self.log.sanitizer_reports()
            if san:
                problems.append("sanitizer report in pcscd log:\n  " + "\n  ".join(san[:20]))
        if self.sim:
            p = self.sim.process.stop()
            if p and not self.watchdog_fired:
                problems.append(p)
            for path in (self.sim.stdout_path, self.sim.log_path):
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        t = f.read()
                    if "AddressSanitizer" in t or ": runtime error:" in t:
                        problems.append("sanitizer report in %s" % path)
        for m in reversed(self.mounts):
            if not _umount(m):
                problems.append("cannot unmount %s" % m)
        self.mounts = []
        self.problems = problems
        return problems

    def log_tails(self, lines=60):
        out = ["--- pcscd log (%s), last %d lines ---" % (self.pcscd_log_path, lines),
               tail(self.pcscd_log_path, lines)]
        if self.sim:
            out += ["--- simulator output (%s) ---" % self.sim.stdout_path,
                    tail(self.sim.stdout_path, 20),
                    "--- simulator log (%s) ---" % self.sim.log_path,
                    tail(self.sim.log_path, 20)]
        if os.path.exists(self.client_log_path):
            out += ["--- client runs (%s) ---" % self.client_log_path,
                    tail(self.client_log_path, 40)]
        return "\n".join(out)

    # ---- pcscd's log -----------------------------------------------------

    def assert_driver_loaded(self, expect_reader=True):
        """pcscd loaded a library from our drop dir and added the reader,
        with no error-level line up to that point. Returns the library."""
        lines = self.log.lines()
        libs = [lib for _b, lib, _pl in bundle_plists(self.cfg.dropdir)]
        start_idx = lib_seen = None
        for i, (_lvl, t) in enumerate(lines):
            m = re.search(r"Attempting startup of (.*) using (\S+)", t)
            if m and m.group(2) in libs:
                start_idx, lib_seen = i, m.group(2)
                break
        if start_idx is None:
            raise HarnessError("pcscd never attempted to start a reader with a library of %s "
                               "(expected one of %s)\n%s" % (self.cfg.dropdir, libs,
                                                             self.log_tails(40)))
        bad = [t for _l, t in lines if re.search(
            r"RFLoadReader failed|RFBindFunctions failed|Open Port .* Failed|init failed|"
            r"DYN_LoadLibrary|DYN_GetAddress|Error with library|Failed adding USB device", t)]
        if bad:
            raise HarnessError("pcscd could not load/initialise the driver:\n  "
                               + "\n  ".join(bad) + "\n" + self.log_tails(40))
        if not any("Loading IFD Handler 3.0" in t for _l, t in lines[start_idx:]):
            raise HarnessError("pcscd did not bind the IFD Handler 3.0 entry points of %s"
                               % lib_seen)
        # Errors up to the first card event (the loading phase).
        end = len(lines)
        if expect_reader:
            for j in range(start_idx, len(lines)):
                if re.search(r"Card inserted|Card Removed|Card ATR|RFAddReader.*failed", lines[j][1]):
                    end = j
                    break
        errs = [t for l, t in lines[:end] if l in ("ERROR", "CRITICAL")]
        if errs:
            raise HarnessError("error-level lines in pcscd's log while loading %s:\n  %s"
                               % (lib_seen, "\n  ".join(errs)))
        return lib_seen

    # ---- PC/SC client helpers (pyscard, in this process) ------------------

    def context(self):
        rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            raise HarnessError("SCardEstablishContext via %s: %s" % (self.socket, scard_err(rv)))
        self.contexts.append(ctx)
        return ctx

    def readers(self, ctx=None):
        own = ctx is None
        if own:
            rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rv != scard.SCARD_S_SUCCESS:
                return None  # no service (yet)
        try:
            rv, rl = scard.SCardListReaders(ctx, [])
        except SystemError:
            # pyscard 2.0.5 while pcscd's reader list changes (a reader
            # going away): UnicodeDecodeError inside, raised as this
            return None
        finally:
            if own:
                scard.SCardReleaseContext(ctx)
        if rv == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rv != scard.SCARD_S_SUCCESS:
            return None
        return list(rl)

    def wait_reader(self, present=True, timeout=READER_TIMEOUT, name_prefix=None, gone=None):
        """Poll SCardListReaders until a reader is there (returns its name)
        or, with present=False, until `gone` (a name) or all are gone."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.pcscd and not self.pcscd.alive():
                raise HarnessError("pcscd exited (status %s) while waiting for the reader\n%s"
                                   % (self.pcscd.proc.returncode, self.log_tails()))
            rl = self.readers()
            last = rl
            if rl is not None:
                if present:
                    match = [r for r in rl if name_prefix is None or r.startswith(name_prefix)]
                    if match:
                        return match[0]
                elif (gone is None and not rl) or (gone is not None and gone not in rl):
                    return None
            time.sleep(0.05)
        what = ("a reader%s" % (" named %r..." % name_prefix if name_prefix else "")
                if present else "reader %r to disappear" % (gone or "(all)"))
        raise HarnessError("no %s after %.0f s (last SCardListReaders: %s)\n%s"
                           % (what, timeout, last, self.log_tails()))

    def expected_reader_prefix(self):
        """The reader name the bundle should give the simulated device:
        its Info.plist ifdFriendlyName for the profile's VID:PID, else the
        profile's USB product string. None if neither is known."""
        vid, pid = self.sim.vid_pid()
        if vid is not None and pid is not None:
            n = friendly_name(self.cfg.dropdir, vid, pid)
            if n:
                return n
        return self.sim.profile.get("product")

    def connect(self, reader=None, protocols=scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
                share=scard.SCARD_SHARE_SHARED):
        ctx = self.context()
        rv, card, proto = scard.SCardConnect(ctx, reader or self.reader, share, protocols)
        if rv != scard.SCARD_S_SUCCESS:
            raise HarnessError("SCardConnect(%r, protocols %d): %s\n%s"
                               % (reader or self.reader, protocols, scard_err(rv), self.log_tails(30)))
        return Card(self, ctx, card, proto)

    def status_change(self, ctx, reader, current, timeout_ms):
        rv, states = scard.SCardGetStatusChange(ctx, timeout_ms, [(reader, current)])
        return rv, states

    # ---- command-line clients --------------------------------------------

    def run_client(self, argv, timeout=30, input=None, env=None):
        e = dict(os.environ)
        e["PCSCLITE_CSOCK_NAME"] = self.socket
        e.pop("LD_PRELOAD", None)
        e.update(env or {})
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, env=e, input=input, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout,
                               preexec_fn=_die_with_parent)
            out, err, rc = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as ex:
            out, err, rc = ex.stdout or b"", ex.stderr or b"", "timeout after %ss" % timeout
        with open(self.client_log_path, "ab") as f:
            f.write(("$ %s   # rc=%s, %.2f s\n" % (" ".join(argv), rc, time.monotonic() - t0)).encode())
            f.write(out or b"")
            if err:
                f.write(b"[stderr]\n" + err)
        return ClientRun(argv, rc, (out or b"").decode("utf-8", "replace"),
                         (err or b"").decode("utf-8", "replace"))


class ClientRun:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __str__(self):
        return "$ %s -> rc=%s\n[stdout]\n%s\n[stderr]\n%s" % (
            " ".join(self.argv), self.rc, self.out[-3000:], self.err[-3000:])


class Card:
    def __init__(self, lab, ctx, handle, proto):
        self.lab, self.ctx, self.handle, self.protocol = lab, ctx, handle, proto

    def status(self):
        rv, name, state, proto, atr = scard.SCardStatus(self.handle)
        if rv != scard.SCARD_S_SUCCESS:
            raise HarnessError("SCardStatus: %s" % scard_err(rv))
        return name, state, proto, bytes(atr)

    def transmit(self, apdu):
        pci = scard.SCARD_PCI_T1 if self.protocol == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
        rv, resp = scard.SCardTransmit(self.handle, pci, list(apdu))
        if rv != scard.SCARD_S_SUCCESS:
            raise HarnessError("SCardTransmit(%d bytes: %s...): %s\n%s"
                               % (len(apdu), hexs(apdu[:12]), scard_err(rv),
                                  self.lab.log_tails(30)))
        return bytes(resp)

    def exchange(self, apdu, max_rounds=300):
        """transmit() plus what applications do for T=0 cards (ISO 7816-4
        §5.3.4): 61xx -> GET RESPONSE, 6Cxx -> resend with Le=xx. Returns
        (data, sw) with the response data of all rounds joined."""
        apdu = bytes(apdu)
        data = b""
        for _ in range(max_rounds):
            r = self.transmit(apdu)
            if len(r) < 2:
                raise HarnessError("response of %d bytes to %s" % (len(r), hexs(apdu[:8])))
            body, sw1, sw2 = r[:-2], r[-2], r[-1]
            data += body
            if sw1 == 0x61:
                apdu = bytes([apdu[0] & 0x03, 0xC0, 0x00, 0x00, sw2])
            elif sw1 == 0x6C:
                apdu = apdu[:4] + bytes([sw2]) if len(apdu) <= 5 else apdu[:-1] + bytes([sw2])
            else:
                return data, (sw1 << 8) | sw2
        raise HarnessError("more than %d GET RESPONSE rounds" % max_rounds)

    def disconnect(self, disposition=scard.SCARD_LEAVE_CARD):
        rv = scard.SCardDisconnect(self.handle, disposition)
        if rv != scard.SCARD_S_SUCCESS:
            raise HarnessError("SCardDisconnect: %s" % scard_err(rv))


# --------------------------------------------------------------------------
# The simulator's built-in card (tests/sim/README.md): echo command.

ECHO_CLA, ECHO_INS = 0x80, 0x01  # 80 01 ECHO (tests/sim/card_builtin.c)


def echo_apdu(data, extended=False):
    """An APDU the built-in card answers with `data` + 90 00 (case 4; case 2
    asking for 0 bytes when data is empty)."""
    data = bytes(data)
    n = len(data)
    head = bytes([ECHO_CLA, ECHO_INS, 0x00, 0x00])
    if not extended:
        if n > 255:
            raise ValueError("short APDU carries at most 255 bytes")
        if n == 0:
            return head  # case 1: no data, no response data
        return head + bytes([n]) + data + b"\x00"
    if n == 0:
        return head
    return head + b"\x00" + n.to_bytes(2, "big") + data + b"\x00\x00"
