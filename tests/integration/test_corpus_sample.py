"""The reader corpus through the REAL pcscd: a deterministic sample.

tests/conformance drives all 691 reader dumps through the driver's IFDH
entry points (ifdh-drive); this test takes one reader profile per category
of tests/data/descriptors.jsonl (each exchange level with T=0 and T=1,
multi-slot, composite, class 0xFF, PIN pad, quirked readers, an
unsupported one (claimed by the shipped list, as the reference driver
claims it) and a disabled one (left out: added with openccid-readers) from
the reader list) and runs it through real pcscd and
pyscard: the reader(s) listed, power up, the ATR of the simulator's card,
an echo sweep byte-exact, or the documented refusal. What each reader
should do is read at run time from tests/conformance/expected.tsv (the
same data the corpus runner compares with), so the sample follows the
corpus expectations as features land. The choice is deterministic: the
first dump, by file name, that fits the category.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import time

import struct

import pytest
from smartcard import scard

import harness

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_spec = importlib.util.spec_from_file_location(
    "run_corpus", os.path.join(TOP, "tests", "conformance", "run-corpus.py"))
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

DATA = os.path.join(TOP, "tests", "data", "descriptors.jsonl")
EXPECTED = os.path.join(TOP, "tests", "conformance", "expected.tsv")
READERS_LIST = os.path.join(TOP, "bundle", "readers.list")

SHORT_SIZES = [0, 1, 16, 128, 254, 255]
EXT_SIZES = [256, 1024, 4096]
# Refusals at open (the reader never appears), at power-up (SCardConnect
# fails), in the echo sweep (SCardTransmit fails at one size).
OPEN_REFUSALS = {"firmware-blacklisted", "descriptor-rejected", "reader-not-answering"}
POWER_REFUSALS = {"character-level-not-supported", "tpdu-level-not-supported",
                  "protocol-not-offered"}
ECHO_REFUSALS = {"apdu-exceeds-max-message-length", "apdu-261-exceeds-270-byte-messages",
                 "extended-apdu-not-supported"}
CM_IOCTL_GET_FEATURE_REQUEST = scard.SCARD_CTL_CODE(3400)
FEATURE_GET_TLV_PROPERTIES = 0x12
PROPERTY_DWMAXAPDUDATASIZE = 0x0A


def _load():
    import json
    with open(DATA) as f:
        rows = sorted((json.loads(l) for l in f if l.strip()), key=lambda r: r["dump_file"])
    return rows, corpus.load_expected(EXPECTED)


ROWS, EXPECT = _load()


def _level(iface):
    return corpus.level_of(iface["ccid"]["dwFeatures"])


def _expectations(unit):
    """{(interface label, slot): expected} of the unit (its protocol)."""
    return {(k[1], k[2]): v for k, v in EXPECT.items()
            if k[0] == unit.dump and k[3] == str(unit.proto)}


def _units():
    for r in ROWS:
        for u in corpus.units_of(r):
            if u.dev_index == 0:
                yield r, u


def _pick(pred, want=None):
    """First (row, unit) that fits pred and whose expectations are all
    `want` (a prefix), or uniform when want is None."""
    for r, u in _units():
        exp = _expectations(u)
        vals = set(exp.values())
        if not exp or len(vals) != 1:
            continue
        if want is not None and not next(iter(vals)).startswith(want):
            continue
        if pred(r, u):
            return r, u
    return None


def _single(u):
    return len(u.ifaces) == 1 and u.ifaces[0]["ccid"]["bMaxSlotIndex"] == 0


def _listed(r):
    return r.get("list_status") in ("supported", "shouldwork")


with open(READERS_LIST) as _f:
    _LINES = [l.rstrip("\n").split("\t") for l in _f
              if re.match(r"^[0-9a-f]{4}:[0-9a-f]{4}\t", l)]
SHIPPED = {tuple(f[0].split(":")) for f in _LINES}
SHIPPED_NOTES = {tuple(f[0].split(":")): f[3] for f in _LINES if len(f) > 3}


def _left_out(r, status):
    """A reader of that list status whose VID:PID the shipped list lacks."""
    return r.get("list_status") == status and (r["vid"], r["pid"]) not in SHIPPED


def _claimed(r, status):
    """A reader of that list status whose VID:PID the shipped list claims."""
    return r.get("list_status") == status and (r["vid"], r["pid"]) in SHIPPED


def _ccid_class(u):
    return all(i["bInterfaceClass"] == 0x0B for i in u.ifaces)


CATEGORIES = {
    "tpdu-t0": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and _level(u.ifaces[0]) == "tpdu" and u.proto == 0,
    "tpdu-t1": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and _level(u.ifaces[0]) == "tpdu" and u.proto == 1,
    "short-apdu-t0": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and _level(u.ifaces[0]) == "short_apdu" and u.proto == 0,
    "short-apdu-t1": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and _level(u.ifaces[0]) == "short_apdu" and u.proto == 1,
    "extended-apdu-t0": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and _level(u.ifaces[0]) == "extended_apdu" and u.proto == 0,
    "extended-apdu-t1": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and _level(u.ifaces[0]) == "extended_apdu" and u.proto == 1,
    "character": lambda r, u: _single(u) and _level(u.ifaces[0]) == "character",
    "multi-slot": lambda r, u: _listed(r) and len(u.ifaces) == 1
    and u.ifaces[0]["ccid"]["bMaxSlotIndex"] >= 1 and u.proto == 1,
    "composite": lambda r, u: _listed(r) and len(u.ifaces) >= 2 and u.proto == 1,
    "class-0xff": lambda r, u: _listed(r) and len(u.ifaces) == 1
    and u.ifaces[0]["bInterfaceClass"] == 0xFF and u.proto == 1,
    "pinpad": lambda r, u: _listed(r) and _single(u) and _ccid_class(u)
    and u.ifaces[0]["ccid"]["bPINSupport"] & 3 and u.proto == 1,
    # Quirk msg_len_fix (SCM firmware: reports 263, takes 270).
    "quirk-msg-len": lambda r, u: _single(u) and _level(u.ifaces[0]) == "short_apdu"
    and u.ifaces[0]["ccid"]["dwMaxCCIDMessageLength"] == 263 and u.proto == 1,
    # Quirk firmware_min_bcd: refused at open.
    "quirk-firmware": lambda r, u: _listed(r),
    # Quirks desc_protocols + clocks: a pre-standard descriptor whose
    # dwProtocols offers neither T=0 nor T=1 as read (MySMART PAD).
    "quirk-desc-protocols": lambda r, u: _listed(r) and _single(u)
    and u.ifaces[0]["ccid"]["dwProtocols"] & 3 == 0,
    # Readers that bound the sweep themselves (expected.tsv works:<limit>):
    # messages too small for the largest short APDU, at TPDU level with a
    # T=0 card and at short APDU level; a quirk forcing short APDUs.
    "reader-limit-tpdu-t0": lambda r, u: _listed(r) and _level(u.ifaces[0]) == "tpdu"
    and u.proto == 0,
    "reader-limit-short-apdu": lambda r, u: _listed(r) and _single(u)
    and _level(u.ifaces[0]) == "short_apdu"
    and u.ifaces[0]["ccid"]["dwMaxCCIDMessageLength"] != 263,
    "quirk-short-apdu-only": lambda r, u: _listed(r) and _single(u),
    "unsupported": lambda r, u: _claimed(r, "unsupported") and u.proto == 1,
    "disabled": lambda r, u: _left_out(r, "disabled") and u.proto == 1,
}
WANT = {"character": None, "quirk-msg-len": "works:max-apdu=", "quirk-firmware": "refused:firmware",
        "reader-limit-tpdu-t0": "works:max-apdu=", "reader-limit-short-apdu": "works:max-apdu=",
        "quirk-short-apdu-only": "works:short-apdu-only", "unsupported": None, "disabled": None}


def _sample():
    out = {}
    for name, pred in CATEGORIES.items():
        want = WANT.get(name, "works")
        got = _pick(pred or (lambda r, u: True), want)
        if got is None:
            raise AssertionError("no reader profile for category %s (expected.tsv %s)"
                                 % (name, want))
        out[name] = got
    return out


SAMPLE = _sample()


def _atr(proto):
    """The built-in card's ATR (tests/sim/README.md)."""
    if proto == 0:
        return bytes([0x3B, 0x0A]) + b"OPENCCID00"
    body = bytes([0x8A, 0x81, 0x31, 0xFE, 0x45]) + b"OPENCCID01"
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])


def _reason_re(token):
    for t, _stage, line in corpus.REASONS:
        if t == token:
            return line
    raise AssertionError("unknown reason %r in expected.tsv" % token)


def _wait_log(lb, regex, timeout=harness.READER_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(regex, lb.log.text()):
            return
        time.sleep(0.1)
    raise harness.HarnessError("no line matching %r in pcscd's log\n%s" % (regex, lb.log_tails()))


def _wait_readers(lb, n, timeout=harness.READER_TIMEOUT):
    deadline = time.monotonic() + timeout
    rl = None
    while time.monotonic() < deadline:
        rl = lb.readers()
        if rl is not None and len(rl) >= n:
            return sorted(rl)
        time.sleep(0.1)
    raise harness.HarnessError("%d reader(s) expected, pcscd lists %s\n%s"
                               % (n, rl, lb.log_tails()))


def _echo_sweep(card, sizes, extended):
    """Byte-exact echo of every size; (size, exception) of the first that
    fails, or None."""
    for n in sizes:
        data = bytes((i * 7 + n) & 0xFF for i in range(n))
        try:
            resp, sw = card.exchange(harness.echo_apdu(data, extended=extended))
        except harness.HarnessError as e:
            return n, e
        assert (sw, resp) == (0x9000, data), \
            "echo of %d bytes: SW %04X, %d bytes back (wrong data)" % (n, sw, len(resp))
    return None


def _limits(want):
    """{'max-apdu': N, 'short-apdu-only': True} of a works:<limits> row."""
    out = {}
    if want.startswith("works:"):
        for item in want.split(":", 1)[1].split(","):
            k, _eq, v = item.partition("=")
            out[k] = int(v) if v else True
    return out


def _max_apdu_data(card):
    """dwMaxAPDUDataSize the driver advertises (PC/SC v2 part 10), as a
    client such as OpenSC reads it before it sends extended APDUs."""
    rv, resp = scard.SCardControl(card.handle, CM_IOCTL_GET_FEATURE_REQUEST, [])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    b = bytes(resp)
    codes = {b[i]: struct.unpack(">I", b[i + 2:i + 6])[0] for i in range(0, len(b) - 5, 6)}
    rv, tlv = scard.SCardControl(card.handle, codes[FEATURE_GET_TLV_PROPERTIES], [])
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)
    tlv, i = bytes(tlv), 0
    while i + 2 <= len(tlv):
        if tlv[i] == PROPERTY_DWMAXAPDUDATASIZE:
            return struct.unpack("<I", tlv[i + 2:i + 6])[0]
        i += 2 + tlv[i + 1]
    raise AssertionError("no dwMaxAPDUDataSize in %s" % tlv.hex())


def _limited_sweep(lb, card, name, limits):
    """A reader that bounds the sweep: every short APDU up to its limit
    works byte-exact, the next size is refused with the driver's reason
    (never sent), the largest short APDU too, and the reader stays usable;
    a short-APDU-only reader says so to clients and refuses an extended
    APDU."""
    top = limits.get("max-apdu", 261) - 6
    sizes = [n for n in SHORT_SIZES if n <= top] + [top]
    failed = _echo_sweep(card, sizes, False)
    assert failed is None, "%s: echo of %d bytes failed: %s" % (name, *failed)
    if "max-apdu" in limits:
        for n in (top + 1, 255):
            assert _echo_sweep(card, [n], False) is not None, \
                "%s: echo of %d bytes worked above the reader's limit" % (name, n)
        _wait_log(lb, r"does not fit dwMaxCCIDMessageLength")
    if limits.get("short-apdu-only"):
        assert _max_apdu_data(card) == 0, "%s: advertises extended APDUs" % name
        assert _echo_sweep(card, [256], True) is not None, \
            "%s: an extended APDU worked on a short-APDU-only reader" % name
        _wait_log(lb, r"is not a short APDU")
    assert _echo_sweep(card, [16], False) is None


def _local_dropdir(cfg, tmp_path, row):
    """The documented way to use a reader the shipped list leaves out
    (README "Bring up a new reader"): the installed openccid-readers adds
    it to a local list and regenerates Info.plist, here in a private copy
    of the drop dir with a private local-lists directory."""
    vid, pid = row["vid"], row["pid"]
    with open(READERS_LIST) as f:
        assert not re.search(r"^%s:%s\t" % (vid, pid), f.read(), re.M), \
            "%s:%s (%s) is in bundle/readers.list" % (vid, pid, row.get("list_status"))
    tool = os.environ.get("OPENCCID_READERS_TOOL", "")
    assert tool and os.access(tool, os.X_OK), \
        "OPENCCID_READERS_TOOL=%r is not the installed openccid-readers (run.sh)" % tool
    root = os.environ.get("OPENCCID_READERS_ROOT", "")
    drop = tmp_path / "drop"
    shutil.copytree(cfg.dropdir, drop, symlinks=True)
    for _b, _lib, pl in harness.bundle_plists(str(drop)):
        assert "0x%s" % vid not in [v.lower() for v in pl.get("ifdVendorID", [])] or \
            "0x%s" % pid not in [p.lower() for p in pl.get("ifdProductID", [])], \
            "the shipped Info.plist claims %s:%s" % (vid, pid)
    name = row.get("list_name") or row["dump_file"]
    base = [tool] + (["--root", root] if root else []) + \
        ["--dropdir", str(drop), "--readers-dir", str(tmp_path / "readers.d")]
    r = subprocess.run(base + ["add", "%s:%s" % (vid, pid), name],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    r = subprocess.run(base + ["list", "--local"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0 and r.stdout == "%s:%s\tlocal\t%s\n" % (vid, pid, name), r.stdout
    return str(drop)


@pytest.mark.parametrize("category", list(SAMPLE))
def test_corpus_sample(lab, cfg, tmp_path, monkeypatch, category):
    row, unit = SAMPLE[category]
    exp = _expectations(unit)
    (want,) = set(exp.values())
    print("%s: %s T=%s, %d reader(s) expected %s"
          % (category, unit.dump, unit.proto, len(exp), want))
    if (row["vid"], row["pid"]) not in SHIPPED:
        monkeypatch.setattr(cfg, "dropdir", _local_dropdir(cfg, tmp_path, row))
    prof = tmp_path / "reader.profile"
    prof.write_text(unit.profile_text())
    token = want.split(":", 1)[1] if want.startswith("refused:") else None
    limits = _limits(want)

    if token in OPEN_REFUSALS:
        lb = lab.start(profile=str(prof), cards=unit.cards(), wait_reader=False)
        _wait_log(lb, _reason_re(token))
        time.sleep(0.5)
        assert lb.readers() == [], "pcscd lists a reader the driver refused at open"
        return
    assert token is None or token in POWER_REFUSALS | ECHO_REFUSALS, \
        "no pcscd check for expectation %s" % want

    lb = lab.start(profile=str(prof), cards=unit.cards())
    if row.get("list_status") == "unsupported":
        # the reason of bundle/readers.list, logged at open
        note = SHIPPED_NOTES[(row["vid"], row["pid"])]
        _wait_log(lb, re.escape("usb:%s/%s is listed as unsupported: %s"
                                % (row["vid"], row["pid"], note)))
    readers = _wait_readers(lb, len(exp))
    assert len(readers) == len(exp), "readers %s for expectations %s" % (readers, exp)
    want_proto = scard.SCARD_PROTOCOL_T1 if unit.proto == 1 else scard.SCARD_PROTOCOL_T0
    # Extended APDUs where every interface takes them (pcscd's reader
    # names do not say which interface a reader is).
    extended = all(_level(i) == "extended_apdu" or (_level(i) == "tpdu" and unit.proto == 1)
                   for i in unit.ifaces)
    for name in readers:
        if token in POWER_REFUSALS:
            ctx = lb.context()
            rv, _h, _p = scard.SCardConnect(ctx, name, scard.SCARD_SHARE_SHARED,
                                            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            assert rv != scard.SCARD_S_SUCCESS, "%s: connected, expected %s" % (name, want)
            _wait_log(lb, _reason_re(token))
            continue
        card = lb.connect(reader=name)
        assert card.protocol == want_proto, "%s: protocol %d" % (name, card.protocol)
        _n, _state, _p, atr = card.status()
        assert atr == _atr(unit.proto), "%s: ATR %s" % (name, harness.hexs(atr))
        if limits:
            _limited_sweep(lb, card, name, limits)
            card.disconnect()
            continue
        failed = _echo_sweep(card, SHORT_SIZES, False)
        if failed is None and extended:
            failed = _echo_sweep(card, EXT_SIZES, True)
        if token is None:
            assert failed is None, "%s: echo of %d bytes failed: %s" % (name, *failed)
        else:
            assert failed is not None, "%s: every echo worked, expected %s" % (name, want)
            _wait_log(lb, _reason_re(token))
            # The refusal leaves the reader usable.
            assert _echo_sweep(card, [16], False) is None
        card.disconnect()
