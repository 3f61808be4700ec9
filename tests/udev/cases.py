"""Devices and expectations shared by the udev rule tests.

Each case is one USB device (VID:PID and its interfaces as class, subclass,
protocol) seen in one uevent action, and what openccid's rules must do:
  reader      GROUP=<pcscd group>, MODE=0660 applied by 92-openccid.rules
  persist     power/persist written 0
  autosuspend power/control written auto
  activate    with 93-openccid-pcscd-activate.rules: TAG systemd and
              SYSTEMD_WANTS=pcscd.socket
"""
from collections import namedtuple

Case = namedtuple('Case', 'name vid pid ifaces action reader persist autosuspend')

CCID = (0x0b, 0x00, 0x00)
ICCD_B = (0x0b, 0x00, 0x02)
VENDOR = (0xff, 0x00, 0x00)
HID_KBD = (0x03, 0x01, 0x01)
HID_MOUSE = (0x03, 0x01, 0x02)
MASS_STORAGE = (0x08, 0x06, 0x50)
APP_SPECIFIC = (0xfe, 0x01, 0x01)

CASES = [
    # Gemalto PC Twin: one CCID interface.
    Case('plain CCID reader, add', '08e6', '3437', [CCID], 'add', True, True, True),
    # The node must keep its group on change and bind events (not add only).
    Case('plain CCID reader, change', '08e6', '3437', [CCID], 'change', True, False, False),
    Case('plain CCID reader, bind', '08e6', '3437', [CCID], 'bind', True, False, False),
    Case('plain CCID reader, remove', '08e6', '3437', [CCID], 'remove', False, False, False),
    # Keyboard with a reader: CCID is the second interface.
    Case('composite keyboard + CCID, add', '413c', '2101', [HID_KBD, CCID], 'add',
         True, True, True),
    # Laptop security hub: CCID between two other interfaces.
    Case('composite hub, CCID in the middle, change', '0a5c', '5800',
         [APP_SPECIFIC, CCID, VENDOR], 'change', True, False, False),
    # A reader/device not in readers.list still gets the group: any class
    # 0x0B interface is a smart-card reader.
    Case('unlisted CCID device, add', '1234', '5678', [CCID], 'add', True, True, True),
    Case('ICCD token, add', '1234', '5679', [ICCD_B], 'add', True, True, True),
    # Not a smart-card reader at all.
    Case('USB stick, add', '0781', '5567', [MASS_STORAGE], 'add', False, False, False),
    Case('keyboard, change', '046d', 'c31c', [HID_KBD, HID_MOUSE], 'change', False, False, False),
    # Class 0xFF readers listed by VID:PID (quirk vendor_class_ccid).
    Case('class 0xFF SPR532, add', '04e6', 'e003', [VENDOR], 'add', True, True, True),
    Case('class 0xFF Cherry ST-2xxx, change', '046a', '003e', [VENDOR], 'change',
         True, False, False),
    # ... but not every vendor-class device, nor one not in readers.list.
    Case('class 0xFF unknown device, add', '1234', '9999', [VENDOR], 'add', False, False, False),
    Case('class 0xFF reader not in readers.list, add', '1db2', '0600', [VENDOR], 'add',
         False, False, False),
    # Autosuspend exceptions (quirk no_autosuspend): group yes, autosuspend no.
    Case('Alcor AU9520 (no autosuspend), add', '058f', '9520', [CCID], 'add', True, True, False),
    Case('C3PO LTC31 v1 (no autosuspend), add', '0783', '0003', [CCID], 'add', True, True, False),
]


def usb_interfaces(ifaces):
    """ID_USB_INTERFACES as udev's usb_id builtin formats it."""
    return ':' + ''.join('%02x%02x%02x:' % i for i in ifaces)


def descriptors(vid, pid, ifaces):
    """The sysfs 'descriptors' attribute: device descriptor followed by one
    configuration descriptor, each interface descriptor followed by its
    endpoints (bulk OUT, bulk IN, interrupt IN) as on a real reader
    (USB 2.0 §9.6). usb_id stops before a descriptor that ends the buffer,
    so a test device without endpoints would lose its last interface."""
    v, p = int(vid, 16), int(pid, 16)
    dev = bytes([18, 1, 0x00, 0x02, 0, 0, 0, 64, v & 0xff, v >> 8, p & 0xff, p >> 8,
                 0x00, 0x01, 1, 2, 3, 1])
    intf = b''
    for n, (c, s, pr) in enumerate(ifaces):
        intf += bytes([9, 4, n, 0, 3, c, s, pr, 0])
        intf += bytes([7, 5, 0x01 + 2 * n, 2, 64, 0, 0])
        intf += bytes([7, 5, 0x82 + 2 * n, 2, 64, 0, 0])
        intf += bytes([7, 5, 0x83 + 2 * n, 3, 8, 0, 16])
    total = 9 + len(intf)
    cfg = bytes([9, 2, total & 0xff, total >> 8, len(ifaces), 1, 0, 0x80, 50])
    return dev + cfg + intf
