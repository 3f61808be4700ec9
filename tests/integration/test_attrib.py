"""SCardGetAttrib through pcscd (IFDHGetCapabilities): every attribute the
driver answers, checked against the simulated reader's profile (GemPC
Pinpad, a serial number added) and the card in it; an attribute it does
not know is refused, not invented."""

import os
import re
import struct
import time

from smartcard import scard

import harness


def _profile(lab, tmp_path):
    text = open(harness.Config().profile("GemPCPinpadv2")).read()
    text = re.sub(r"(?m)^serial = .*$", "serial = SN-0815", text)
    path = os.path.join(str(tmp_path), "gempc-serial.txt")
    with open(path, "w") as fh:
        fh.write(text)
    return path


def _devnum(lb):
    # os.walk does not follow the sysfs symlinks (they loop).
    nums = [int(open(os.path.join(d, "devnum")).read())
            for d, _sub, files in os.walk(os.path.join(lb.sim.umockdev_dir, "sys"))
            if "devnum" in files]
    assert len(nums) == 1, nums
    return nums[0]


def _attr(card, attr):
    rv, val = scard.SCardGetAttrib(card.handle, attr)
    assert rv == scard.SCARD_S_SUCCESS, "0x%08X: %s" % (attr, harness.scard_err(rv))
    return bytes(val)


def _u32(card, attr):
    b = _attr(card, attr)
    assert len(b) == 4, (hex(attr), b.hex())
    return struct.unpack("<I", b)[0]


def test_getattrib_every_attribute(lab, tmp_path):
    lb = lab.start(profile=_profile(lab, tmp_path))
    p = lb.sim.profile
    card = lb.connect()
    rv, _r, _st, _proto, atr = scard.SCardStatus(card.handle)
    assert rv == scard.SCARD_S_SUCCESS, harness.scard_err(rv)

    assert _attr(card, scard.SCARD_ATTR_ATR_STRING) == bytes(atr)
    assert _attr(card, scard.SCARD_ATTR_ICC_PRESENCE) == b"\x02"
    assert _attr(card, scard.SCARD_ATTR_ICC_INTERFACE_STATUS) == b"\x01"
    assert _attr(card, scard.SCARD_ATTR_VENDOR_NAME) == b"Gemplus\x00"
    assert _attr(card, scard.SCARD_ATTR_VENDOR_IFD_TYPE) == \
        p["product"].encode() + b"\x00"
    assert _attr(card, scard.SCARD_ATTR_VENDOR_IFD_SERIAL_NO) == b"SN-0815\x00"
    # bcdDevice 0x0211 as 0xMMmmbbbb
    assert _u32(card, scard.SCARD_ATTR_VENDOR_IFD_VERSION) == 0x02110000
    # dwMaxCCIDMessageLength 271 less the 10-byte CCID header
    assert _u32(card, scard.SCARD_ATTR_MAXINPUT) == 261
    assert _u32(card, scard.SCARD_ATTR_DEFAULT_CLK) == 4000
    assert _u32(card, scard.SCARD_ATTR_MAX_CLK) == 4000
    assert _u32(card, scard.SCARD_ATTR_DEFAULT_DATA_RATE) == 10752
    assert _u32(card, scard.SCARD_ATTR_MAX_DATA_RATE) == 500000
    assert _u32(card, scard.SCARD_ATTR_MAX_IFSD) == 254
    # 0xDDDDCCCC: DDDD 0x0020 (USB), CCCC bus << 8 | address
    assert _u32(card, scard.SCARD_ATTR_CHANNEL_ID) == (0x0020 << 16 | 1 << 8 | _devnum(lb))

    # Not answered by the driver: refused.
    rv, val = scard.SCardGetAttrib(card.handle, scard.SCARD_ATTR_ASYNC_PROTOCOL_TYPES)
    assert rv != scard.SCARD_S_SUCCESS, bytes(val).hex()

    card.disconnect(scard.SCARD_LEAVE_CARD)

    # No card: a direct connection still reads the reader's attributes;
    # presence and interface status say so, the ATR is empty.
    lb.sim.control("card-remove")
    deadline = time.monotonic() + 10
    while True:
        ctx = lb.context()
        rv, st = scard.SCardGetStatusChange(
            ctx, 2000, [(lb.reader, scard.SCARD_STATE_UNAWARE)])
        if rv == scard.SCARD_S_SUCCESS and st[0][1] & scard.SCARD_STATE_EMPTY:
            break
        assert time.monotonic() < deadline, "card removal not seen"
        time.sleep(0.1)
    card = lb.connect(share=scard.SCARD_SHARE_DIRECT, protocols=0)
    assert _attr(card, scard.SCARD_ATTR_ICC_PRESENCE) == b"\x00"
    assert _attr(card, scard.SCARD_ATTR_ICC_INTERFACE_STATUS) == b"\x00"
    assert _attr(card, scard.SCARD_ATTR_VENDOR_NAME) == b"Gemplus\x00"
    rv, val = scard.SCardGetAttrib(card.handle, scard.SCARD_ATTR_ATR_STRING)
    assert rv != scard.SCARD_S_SUCCESS or bytes(val) == b"", bytes(val).hex()
    card.disconnect(scard.SCARD_LEAVE_CARD)
