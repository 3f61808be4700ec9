"""OpenSC on a PIN pad reader through pcscd (GemPC Pinpad profile).

OpenSC 0.23 (Debian 12): reader-pcsc.c reads the part 10 feature list
and, with enable_pinpad (default true in the pcsc reader driver block),
marks a reader offering FEATURE_VERIFY_PIN_DIRECT or MODIFY_PIN_DIRECT
with SC_READER_CAP_PIN_PAD. A verification with no PIN then goes to the
keypad: pkcs15-tool --verify-pin --use-pinpad (sc_pkcs15_verify_pin sets
SC_PIN_CMD_USE_PINPAD), and the PKCS#11 module announces
CKF_PROTECTED_AUTHENTICATION_PATH so that pkcs11-tool --login without
--pin logs in on the keypad. The card: libcacard's CAC (OpenSC's cac
driver verifies through iso7816_pin_cmd, which builds the
PIN_VERIFY_STRUCTURE (reader-pcsc.c part10_build_verify_pin_block): ASCII
PIN padded with FF to 8 bytes, bNumberMessage FF (the reader has a
display; 00 without), which the GemPC firmware refuses without quirk
pinpad_msg_count_verify=1. The NSS database gets a password so that
libcacard checks the PIN (a wrong one typed on the keypad is refused).
The simulator's stats show a PC_to_RDR_Secure and no VERIFY with data in
any XfrBlock.
"""

import os
import subprocess

import pytest

import harness

PROFILE = "GemPCPinpadv2"
PIN = os.environ.get("OPENCCID_CACARD_PIN", "77777777")
MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


@pytest.fixture
def nssdb(cfg, tmp_path):
    script = os.path.join(cfg.top, "tests", "sim", "mk-cacard-db.sh")
    if not os.path.isfile(script):
        pytest.fail("%s is missing" % script, pytrace=False)
    db = tmp_path / "nssdb"
    r = subprocess.run(["sh", script, str(db)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0 and db.is_dir(), "mk-cacard-db.sh failed:\n" + r.stdout
    # A database password makes libcacard's VERIFY a real NSS login
    # (PK11_Authenticate): a wrong PIN is refused, not waved through.
    old, new = tmp_path / "pw.old", tmp_path / "pw.new"
    old.write_text("\n")
    new.write_text(PIN + "\n")
    r = subprocess.run(["certutil", "-W", "-d", "sql:%s" % db, "-f", str(old), "-@", str(new)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0, "certutil -W failed:\n" + r.stdout
    return str(db)


def _tools():
    for p in ("/usr/bin/pkcs15-tool", "/usr/bin/pkcs11-tool", MODULE):
        if not os.path.exists(p):
            pytest.fail("%s not found (Debian package opensc)" % p, pytrace=False)


def _no_pin_anywhere(lb):
    st = lb.sim.stats()["pinpad"]
    assert not st["pin_in_usb_data"], st
    log = harness.strip_ansi(open(lb.pcscd_log_path, errors="replace").read())
    hexpin = PIN.encode().hex().upper()
    for needle in (PIN, hexpin, " ".join(hexpin[i:i + 2] for i in range(0, len(hexpin), 2))):
        assert needle not in log.upper(), "PIN in the pcscd log"


def test_opensc_pinpad_cac(lab, nssdb, tmp_path):
    _tools()
    lb = lab.start(profile=PROFILE, cards=["cacard:" + nssdb],
                   pcscd_env={"OPENCCID_LOG_LEVEL": "0xff"})

    r = lb.run_client(["opensc-tool", "-l"])
    assert "PIN pad" in r.out, str(r)  # OpenSC saw the keypad

    # pkcs15-tool: verification on the keypad.
    lb.sim.control("stats-reset")
    lb.sim.control("pinpad-digits " + PIN)
    r = lb.run_client(["pkcs15-tool", "--verify-pin", "--use-pinpad"], timeout=120)
    st = lb.sim.stats()
    assert r.rc == 0, str(r)
    assert st["ccid"].get("Secure") == 1, st["ccid"]
    assert st["pinpad"]["verify"] == 1 and st["pinpad"]["pin_ok"] == 1, st["pinpad"]
    # OpenSC's structure as the reader got it: ASCII (bmFormatString
    # 0x82), 8-byte block; bNumberMessage made 01 by the quirk.
    last = bytes.fromhex(st["pinpad"]["last_secure"])
    assert last[0] == 0x00 and last[2] == 0x82 and last[8] == 0x01, last.hex()

    # A wrong PIN on the keypad: the card says no.
    lb.sim.control("pinpad-digits 12345678")
    r = lb.run_client(["pkcs15-tool", "--verify-pin", "--use-pinpad"], timeout=120)
    st = lb.sim.stats()["pinpad"]
    assert r.rc != 0 and "Operation failed" in r.err, str(r)
    assert st["verify"] == 2 and st["pin_wrong"] == 1 and st["pin_ok"] == 1, st

    # Nothing typed: the keypad times out, OpenSC reports it, no VERIFY.
    lb.sim.control("stats-reset")
    lb.sim.control("pinpad-timeout")
    r = lb.run_client(["pkcs15-tool", "--verify-pin", "--use-pinpad"], timeout=120)
    st = lb.sim.stats()["pinpad"]
    # 64 00 -> SC_ERROR_KEYPAD_TIMEOUT
    assert r.rc != 0 and "timed out while waiting for user input" in (r.out + r.err).lower(), str(r)
    assert st["timeout"] == 1 and st["pin_ok"] + st["pin_wrong"] == 0, st
    lb.sim.control("pinpad-cancel")
    r = lb.run_client(["pkcs15-tool", "--verify-pin", "--use-pinpad"], timeout=120)
    # 64 01 -> SC_ERROR_KEYPAD_CANCELLED
    assert r.rc != 0 and "cancel" in (r.out + r.err).lower(), str(r)
    assert lb.sim.stats()["pinpad"]["cancelled"] == 1

    # PKCS#11: the token has a protected authentication path; a login
    # without --pin goes to the keypad and the signature works.
    r = lb.run_client(["pkcs11-tool", "--module", MODULE, "-T"])
    assert "PIN pad present" in r.out or "protected auth path" in r.out.lower(), str(r)
    msg = tmp_path / "msg.bin"
    msg.write_bytes(b"signed after a keypad login\n")
    sig = tmp_path / "sig.bin"
    lb.sim.control("stats-reset")
    lb.sim.control("pinpad-digits " + PIN)
    r = lb.run_client(["pkcs11-tool", "--module", MODULE, "--login", "--sign",
                       "-m", "SHA256-RSA-PKCS", "-i", str(msg), "-o", str(sig)], timeout=120)
    st = lb.sim.stats()
    assert r.rc == 0 and sig.exists() and sig.stat().st_size >= 256, str(r)
    assert st["ccid"].get("Secure") == 1, st["ccid"]
    assert st["pinpad"]["pin_ok"] == 1, st["pinpad"]
    _no_pin_anywhere(lb)
