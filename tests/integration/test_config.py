"""A wrong setting is a clear log line and a safe default, never a dead
reader or a dead pcscd.

Info.plist values the driver reads itself (ifdLogLevel, ifdDriverOptions:
README "Use") and the OPENCCID_* variables in pcscd's environment, each
set to garbage: pcscd must start, the driver must log which setting it
ignored, and the reader must answer an echo APDU byte-exact.
"""

import os
import re
import shutil

import pytest

import harness

# (Info.plist key, bad value)
PLIST_CASES = [
    ("ifdLogLevel", "banana"),
    ("ifdLogLevel", "0x1ff"),          # a level is at most 0xff
    ("ifdLogLevel", ""),
    ("ifdDriverOptions", "0xZZ"),
    ("ifdDriverOptions", "99999999999999999999"),
]
PLIST_MSG = "malformed ifdLogLevel or ifdDriverOptions"

# (variable, bad value, the driver's line)
ENV_CASES = [
    ("OPENCCID_LOG_LEVEL", "banana", "OPENCCID_LOG_LEVEL is not a level"),
    ("OPENCCID_LOG_LEVEL", "0x100", "OPENCCID_LOG_LEVEL is not a level"),
    ("OPENCCID_TIME_EXT_MAX_MS", "0", "OPENCCID_TIME_EXT_MAX_MS is not 1.."),
    ("OPENCCID_TIME_EXT_MAX_MS", "-5", "OPENCCID_TIME_EXT_MAX_MS is not 1.."),
    ("OPENCCID_TIME_EXT_MAX_MS", "99999999999999999999999",
     "OPENCCID_TIME_EXT_MAX_MS is not 1.."),
    ("OPENCCID_TRACE_DIR", "/" + "x" * 5000, "OPENCCID_TRACE_DIR is too long"),
]


def echo_works(lb):
    card = lb.connect()
    data = bytes(range(40))
    resp, sw = card.exchange(harness.echo_apdu(data))
    assert (sw, resp) == (0x9000, data)
    card.disconnect()


def log_text(lb):
    return harness.strip_ansi(open(lb.pcscd_log_path, errors="replace").read())


def bad_plist_dropdir(cfg, tmp_path, key, value):
    drop = tmp_path / "drop"
    shutil.copytree(cfg.dropdir, drop, symlinks=True)
    (bundle,) = [b for b in os.listdir(drop) if b.startswith("ifd-")]
    plist = drop / bundle / "Contents" / "Info.plist"
    text = plist.read_text()
    pat = r"(<key>%s</key>\s*<string>)[^<]*(</string>)" % key
    assert re.search(pat, text), "%s not in the shipped Info.plist" % key
    plist.write_text(re.sub(pat, lambda m: m.group(1) + value + m.group(2), text))
    return str(drop)


@pytest.mark.parametrize("key,value", PLIST_CASES,
                         ids=["%s=%s" % (k, v[:12] or "empty") for k, v in PLIST_CASES])
def test_bad_info_plist_value(lab, cfg, tmp_path, monkeypatch, key, value):
    monkeypatch.setattr(cfg, "dropdir", bad_plist_dropdir(cfg, tmp_path, key, value))
    lb = lab.start(profile="default")
    echo_works(lb)
    log = log_text(lb)
    assert PLIST_MSG in log and "default configuration" in log, \
        "no line naming the malformed Info.plist value"
    assert lb.pcscd.alive()


@pytest.mark.parametrize("var,value,msg", ENV_CASES,
                         ids=["%s=%s" % (v, x[:12]) for v, x, _m in ENV_CASES])
def test_bad_environment_value(lab, var, value, msg):
    lb = lab.start(profile="default", pcscd_env={var: value})
    echo_works(lb)
    assert msg in log_text(lb), "no line naming %s" % var
    assert lb.pcscd.alive()


def test_good_values_are_taken(lab):
    """The counterpart: valid values are read and reported (so the checks
    above fail for the right reason)."""
    lb = lab.start(profile="default", pcscd_env={"OPENCCID_TIME_EXT_MAX_MS": "1234",
                                                 "OPENCCID_LOG_LEVEL": "0x07"})
    echo_works(lb)
    log = log_text(lb)
    assert "time extensions capped at 1234 ms" in log
    assert "OPENCCID_LOG_LEVEL is not a level" not in log
    assert PLIST_MSG not in log
    assert "ccid() ->:" in log, "log level 0x07 (COMM) not in force"
