#!/usr/bin/python3
"""One PC/SC client process on one reader: echo APDUs, every reply checked.

Used by test_multislot.py and test_soak.py to load several readers/slots at
once from separate processes (so the clients really run in parallel, each
with its own libpcsclite connection). Talks to pcscd through
PCSCLITE_CSOCK_NAME like any client.

  slot_client.py READER --out FILE [--count N | --seconds S] [--seed K]
                 [--tolerant] [--max-len N] [--start-at T] [--latencies]

Every APDU is the simulator card's echo (80 01 00 00 Lc data Le) with a
random length 0..max-len and random data; a success reply must be exactly
data + 90 00 (anything else is recorded in "wrong" and is always a
failure). Without --tolerant the first PC/SC error ends the run (recorded in
"errors"). With --tolerant (soak: cards come and go, devices are unplugged)
an error is recorded with its time (CLOCK_MONOTONIC, comparable across
processes) and the client reconnects until the time is up.

The result is JSON in FILE: reader, ok, wrong, errors [[t, phase, rv(, seconds the failing call took)]],
first_ok, last_ok, start, end, lengths (histogram of echo lengths sent);
with --latencies also lat: [[t sent, seconds to the correct reply], ...].
"""

import argparse
import json
import os
import random
import sys
import time

from smartcard import scard

SHARE = scard.SCARD_SHARE_SHARED
PROTOS = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1


def echo_apdu(data):
    head = bytes([0x80, 0x01, 0x00, 0x00])
    if not data:
        return head
    return head + bytes([len(data)]) + data + b"\x00"


def same_reader(ctx, name):
    """After an unplug/replug pcscd may give the device another reader
    index: the listed reader with the same base name and slot, or None."""
    base, slot = name[:-6], name[-2:]
    rv, rl = scard.SCardListReaders(ctx, [])
    if rv != scard.SCARD_S_SUCCESS:
        return None
    for r in rl:
        if r[:-6] == base and r[-2:] == slot:
            return r
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reader")
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerant", action="store_true")
    ap.add_argument("--max-len", type=int, default=255)
    ap.add_argument("--start-at", type=float, default=0.0,
                    help="CLOCK_MONOTONIC time to start at (all clients together)")
    ap.add_argument("--latencies", action="store_true",
                    help="record every correct reply's time and latency")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    res = {"reader": a.reader, "ok": 0, "wrong": [], "errors": [], "first_ok": None,
           "last_ok": None, "lengths": {}, "pid": os.getpid()}

    def save():
        res["end"] = time.monotonic()
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(res, f)
        os.rename(tmp, a.out)

    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv != scard.SCARD_S_SUCCESS:
        res["errors"].append([time.monotonic(), "establish", rv & 0xFFFFFFFF])
        res["start"] = time.monotonic()
        save()
        return 1
    if a.start_at:
        time.sleep(max(0.0, a.start_at - time.monotonic()))
    res["start"] = time.monotonic()
    deadline = res["start"] + a.seconds if a.seconds else None
    handle = None
    pci = None
    n = 0
    reader = a.reader

    def more():
        if deadline is not None:
            return time.monotonic() < deadline
        return n < a.count

    while more():
        if handle is None:
            rv, h, proto = scard.SCardConnect(ctx, reader, SHARE, PROTOS)
            if rv != scard.SCARD_S_SUCCESS:
                res["errors"].append([time.monotonic(), "connect", rv & 0xFFFFFFFF])
                if not a.tolerant:
                    break
                if rv in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE):
                    reader = same_reader(ctx, a.reader) or reader
                time.sleep(0.1)
                continue
            handle = h
            pci = scard.SCARD_PCI_T1 if proto == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
        ln = rnd.randint(0, a.max_len)
        data = bytes(rnd.getrandbits(8) for _ in range(ln))
        t = time.monotonic()
        rv, resp = scard.SCardTransmit(handle, pci, list(echo_apdu(data)))
        n += 1
        if rv != scard.SCARD_S_SUCCESS:
            res["errors"].append([t, "transmit", rv & 0xFFFFFFFF, time.monotonic() - t])
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            handle = None
            if not a.tolerant:
                break
            continue
        resp = bytes(resp)
        if resp != data + b"\x90\x00":
            res["wrong"].append({"t": t, "sent_len": ln, "sent": data.hex(),
                                 "got": resp.hex()})
            continue
        res["ok"] += 1
        if a.latencies:
            res.setdefault("lat", []).append([t, time.monotonic() - t])
        res["lengths"][str(ln)] = res["lengths"].get(str(ln), 0) + 1
        if res["first_ok"] is None:
            res["first_ok"] = t
        res["last_ok"] = time.monotonic()
    if handle is not None:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)
    save()
    return 0 if not res["wrong"] and (a.tolerant or not res["errors"]) else 1


if __name__ == "__main__":
    sys.exit(main())
