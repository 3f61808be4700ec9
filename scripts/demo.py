#!/usr/bin/python3
"""The demo's client side: runs inside the private mount namespace that
scripts/demo made, starts the virtual reader and pcscd through the
integration harness, and shows what a PC/SC client sees."""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

# libpcsclite reads the socket path once: set it before the first context.
_tmp = tempfile.mkdtemp(prefix="openccid-demo-")
_sockdir = os.path.join(_tmp, "pcscd-socket")
os.mkdir(_sockdir)
os.environ["PCSCLITE_CSOCK_NAME"] = os.path.join(_sockdir, "pcscd.comm")

import harness  # noqa: E402


def show(label, value):
    print("  %-18s %s" % (label + ":", value))


def run_apdu(card, name, apdu):
    resp = card.transmit(apdu)
    print("  > %-26s %s" % (name, harness.hexs(apdu)))
    print("  < %-26s %s" % ("", harness.hexs(resp)))
    return resp


def main():
    ap = argparse.ArgumentParser(description="openccid demo")
    ap.add_argument("--keep", action="store_true",
                    help="keep pcscd and the virtual reader running until Ctrl-C")
    ap.add_argument("--profile", default="default",
                    help="simulator profile (tests/sim/profiles/NAME.profile)")
    args = ap.parse_args()

    cfg = harness.Config()
    lab = harness.Lab(cfg, "demo", _sockdir, base_tmp=_tmp)
    print("openccid demo: real pcscd + openccid + a virtual USB CCID reader\n")
    try:
        lab.start(profile=args.profile, cards=["builtin"])
        lab.assert_driver_loaded()
        print("pcscd loaded the openccid bundle from %s" % cfg.dropdir)
        show("reader", lab.reader)
        card = lab.connect()
        _name, _state, proto, atr = card.status()
        show("protocol", "T=1" if proto == harness.scard.SCARD_PROTOCOL_T1 else "T=0")
        show("ATR", harness.hexs(atr))
        probe = os.environ.get("OPENCCID_PROBE")
        if probe:
            out = subprocess.run([probe, "atr", atr.hex()], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True).stdout
            print("  ATR decoded by openccid's parser:")
            for line in out.splitlines():
                print("    " + line)
        print("\nAPDUs through pcscd -> openccid -> USB -> virtual reader -> card:")
        run_apdu(card, "GET CHALLENGE (8 bytes)", bytes.fromhex("0084000008"))
        run_apdu(card, "echo 'hello, card'", harness.echo_apdu(b"hello, card"))
        card.disconnect()
        if args.keep:
            print("\nRunning. From another shell on this machine, point any PC/SC client here:")
            print("  export PCSCLITE_CSOCK_NAME=%s" % os.path.join(lab.rundir, "pcscd.comm"))
            print("  pcsc_scan     # or opensc-tool -l, pkcs11-tool, python3 + pyscard")
            print("pcscd log: %s\nPress Ctrl-C to stop." % lab.pcscd_log_path)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(3600)
        print("\nDone. 'scripts/demo --keep' keeps the reader running for other clients.")
        return 0
    except KeyboardInterrupt:
        return 0
    except harness.HarnessError as e:
        print("demo failed: %s" % e, file=sys.stderr)
        return 1
    finally:
        problems = lab.stop()
        for p in problems or []:
            print("demo: %s" % p, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
