"""The real pcscd as an unprivileged user in the pcscd group (issue 9).

pcsc-lite 2.4 under systemd, and several distributions before it, run
pcscd without root; it opens a reader only if the usbfs node carries the
group and mode udev/92-openccid.rules gives it (root:<group> 0660). Here
pcscd runs with the uid of a pcscd user, the gid of the configured group
(OPENCCID_PCSCD_GROUP, from configure --with-pcscd-group; default pcscd)
and no capabilities, against the simulated reader whose device node (a
FIFO the umockdev preload opens with the kernel's own permission check)
gets either the rules' owner and mode or root:root 0600.

The group and user are created only for this module if the system lacks
them: private copies of /etc/group and /etc/passwd are bind-mounted in the
test's mount namespace (tests/integration/run.sh), the host is untouched.
"""

import glob
import grp
import os
import pwd
import re
import stat
import subprocess
import time

import pytest

import harness

GROUP = os.environ.get("OPENCCID_PCSCD_GROUP", "pcscd")
USER = "pcscd"
# proto=0: the built-in card's T=0 ATR, 3B 0A "OPENCCID00" (tests/sim).
CARD = "builtin:proto=0"
ATR = bytes([0x3B, 0x0A]) + b"OPENCCID00"
# What src/transport/usb.c logs when libusb_open() fails with
# LIBUSB_ERROR_ACCESS.
DENIED = ("cannot open {node}: permission denied; the pcscd user needs "
          "read-write access (udev rules: group {group})")


def _free_id(used):
    return next(i for i in range(64900, 65500) if i not in used)


def _private_copy(path, line, tmp):
    """Bind-mount a copy of path with `line` appended over path."""
    with open(path) as f:
        text = f.read()
    copy = os.path.join(tmp, os.path.basename(path))
    with open(copy, "w") as f:
        f.write(text.rstrip("\n") + "\n" + line + "\n")
    os.chmod(copy, 0o644)
    subprocess.run(["mount", "--bind", copy, path], check=True)
    return path


@pytest.fixture(scope="module")
def account(cfg, tmp_path_factory):
    """(uid, gid) of the pcscd user and group, created in this namespace
    only when missing."""
    tmp = str(tmp_path_factory.mktemp("accounts"))
    mounted = []
    try:
        try:
            gid = grp.getgrnam(GROUP).gr_gid
        except KeyError:
            gid = _free_id({g.gr_gid for g in grp.getgrall()})
            mounted.append(_private_copy("/etc/group", "%s:x:%d:" % (GROUP, gid), tmp))
        try:
            uid = pwd.getpwnam(USER).pw_uid
        except KeyError:
            uid = _free_id({p.pw_uid for p in pwd.getpwall()})
            mounted.append(_private_copy(
                "/etc/passwd", "%s:x:%d:%d:pcscd (openccid test):/nonexistent:"
                "/usr/sbin/nologin" % (USER, uid, gid), tmp))
        assert grp.getgrnam(GROUP).gr_gid == gid and pwd.getpwnam(USER).pw_uid == uid
        assert uid != 0 and gid != 0
        yield uid, gid
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", m], check=False)


def _set_node(owner, group, mode):
    def hook(lb):
        nodes = [p for p in glob.glob(os.path.join(lb.sim.umockdev_dir, "dev/bus/usb/*/*"))
                 if stat.S_ISFIFO(os.stat(p).st_mode) or stat.S_ISCHR(os.stat(p).st_mode)]
        assert len(nodes) == 1, "expected one simulated device node, found %s" % nodes
        os.chown(nodes[0], owner, group)
        os.chmod(nodes[0], mode)
        lb.node_path = nodes[0]
        lb.node = "/" + os.path.relpath(nodes[0], lb.sim.umockdev_dir)
    return hook


def _proc_ids(pid):
    """{'Uid': [...], 'Gid': [...], 'Groups': [...], 'CapEff': int}."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
            elif k == "CapEff":
                out[k] = int(v, 16)
    return out


def _assert_unprivileged(lb, uid, gid):
    ids = _proc_ids(lb.pcscd.pid)
    assert ids["Uid"] == [uid] * 4 and ids["Gid"] == [gid] * 4, ids
    assert ids["Groups"] == [] and ids["CapEff"] == 0, ids
    # The pcscd we started is the one serving: it created the socket.
    assert os.stat(os.path.join(lb.rundir, "pcscd.comm")).st_uid == uid


def test_unprivileged_pcscd_reader_with_rules_mode(lab, account):
    uid, gid = account
    lb = lab.start(profile="default", cards=[CARD], pcscd_user=account,
                   before_pcscd=_set_node(0, gid, 0o660))
    _assert_unprivileged(lb, uid, gid)
    st = os.stat(lb.node_path)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, gid, 0o660)
    prefix = lb.expected_reader_prefix()
    assert prefix and lb.reader.startswith(prefix), (lb.reader, prefix)
    card = lb.connect()
    _name, _state, _proto, atr = card.status()
    assert atr == ATR, harness.hexs(atr)
    resp, sw = card.exchange(harness.echo_apdu(b"unprivileged"))
    assert (resp, sw) == (b"unprivileged", 0x9000)
    card.disconnect()
    assert not [t for t in lb.log.text().splitlines() if "permission denied" in t]


def test_unprivileged_pcscd_node_without_group(lab, account):
    uid, gid = account
    lb = lab.start(profile="default", cards=[CARD], pcscd_user=account,
                   before_pcscd=_set_node(0, 0, 0o600), wait_reader=False)
    _assert_unprivileged(lb, uid, gid)
    want = DENIED.format(node=lb.node, group=GROUP)
    # The driver's own line (log.c: "function() message"), at error level:
    # pcscd shows it at its default log level (and in syslog).
    pattern = re.compile(r"^[a-z_]+\(\) " + re.escape(want) + "$")
    deadline = time.monotonic() + harness.READER_TIMEOUT
    hits = []
    while time.monotonic() < deadline and not hits:
        hits = [(lvl, t) for lvl, t in lb.log.lines() if pattern.match(t)]
        time.sleep(0.1)
    assert hits, "no driver line %r in pcscd's log\n%s" % (want, lb.log_tails())
    assert hits[0][0] == "ERROR", hits
    # pcscd gave up on the reader; the daemon itself keeps serving.
    time.sleep(0.5)
    assert lb.pcscd.alive()
    assert lb.readers() == []
