"""libcacard's CAC card through OpenSC's PKCS#11 module: list the token and
its certificates, sign, and verify the signature with openssl against the
certificate read from the card."""

import os
import re
import subprocess

import pytest


MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
PIN = os.environ.get("OPENCCID_CACARD_PIN", "77777777")


@pytest.fixture
def nssdb(cfg, tmp_path):
    script = os.path.join(cfg.top, "tests", "sim", "mk-cacard-db.sh")
    if not os.path.isfile(script):
        pytest.fail("%s is missing (the simulator's CAC database generator)" % script,
                    pytrace=False)
    db = tmp_path / "nssdb"
    r = subprocess.run(["sh", script, str(db)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0 and db.is_dir(), "mk-cacard-db.sh failed:\n" + r.stdout
    return str(db)


def pkcs11(lb, *args, timeout=60):
    for p in (MODULE, "/usr/bin/pkcs11-tool"):
        if not os.path.exists(p):
            pytest.fail("%s not found (Debian package opensc)" % p, pytrace=False)
    return lb.run_client(["pkcs11-tool", "--module", MODULE] + list(args), timeout=timeout)


def test_cacard_pkcs11_list_sign_verify(lab, nssdb, tmp_path):
    lb = lab.start(profile="default", cards=["cacard:" + nssdb])

    r = pkcs11(lb, "-L")
    # "Slot 0 (0x0): <reader name>" then "  token label ..." for a CAC token
    m = re.search(r"^Slot \d+ \(0x[0-9a-f]+\): (.+)$", r.out, re.M)
    assert m, str(r)
    assert m.group(1).strip().startswith(lb.reader.rsplit(" ", 2)[0]), (m.group(1), lb.reader)
    assert re.search(r"token (label|model)\s*:", r.out), "no token in the slot:\n" + str(r)

    assert "token label        : openccid test cert1" in r.out, str(r)

    r = pkcs11(lb, "-O")
    # One certificate object per NSS certificate (mk-cacard-db.sh: CN
    # "openccid test certN", O=openccid), each with its ID.
    certs = re.findall(r"Certificate Object; type = X\.509 cert\s*\n"
                       r"(?:\s+.*\n)*?\s+subject:\s+DN: CN=(openccid test cert\d), O=openccid\s*\n"
                       r"(?:\s+.*\n)*?\s+ID:\s+([0-9a-f]+)", r.out)
    assert sorted(cn for cn, _id in certs) == ["openccid test cert%d" % i for i in (1, 2, 3)], str(r)

    cert_id = dict(certs)["openccid test cert1"]
    der = tmp_path / "cert.der"
    r = pkcs11(lb, "--read-object", "--type", "cert", "--id", cert_id, "-o", str(der))
    assert der.exists() and der.stat().st_size > 100, str(r)
    pub = tmp_path / "pub.pem"
    o = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(der), "-noout",
                        "-pubkey", "-out", str(pub)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert o.returncode == 0, o.stdout
    o = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(der), "-noout",
                        "-subject"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert "CN = openccid test cert1" in o.stdout, o.stdout

    msg = tmp_path / "msg.bin"
    msg.write_bytes(b"openccid integration test\n" * 10)
    sig = tmp_path / "sig.bin"
    r = pkcs11(lb, "--sign", "--login", "--pin", PIN, "--id", cert_id, "-m", "SHA256-RSA-PKCS",
               "-i", str(msg), "-o", str(sig))
    assert sig.exists() and sig.stat().st_size >= 128, str(r)
    o = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(pub), "-signature",
                        str(sig), str(msg)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    assert o.returncode == 0 and "Verified OK" in o.stdout, o.stdout
