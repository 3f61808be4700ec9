"""pcscd loads our bundle and adds the simulated reader."""

import os
import re

import harness


def test_pcscd_loads_bundle(lab, cfg):
    lb = lab.start(profile="default")
    lib = lb.assert_driver_loaded()
    # The library pcscd started the reader with comes from the drop dir we
    # mounted (so Debian's libccid, if installed, was not used).
    libs = [l for _b, l, _pl in harness.bundle_plists(cfg.dropdir)]
    assert lib in libs
    text = lb.log.text()
    assert re.search(r"Adding USB device", text), "no hotplug add in pcscd log"
    # The reader pcscd added carries the name the bundle gives this VID:PID
    # and is the one clients list.
    prefix = lb.expected_reader_prefix()
    assert prefix, "cannot tell the expected reader name (profile has no VID:PID/product)"
    assert lb.reader.startswith(prefix), (lb.reader, prefix)
    assert re.search(r" \d\d \d\d$", lb.reader), lb.reader
    assert lb.readers() == [lb.reader]


def test_no_host_driver_leaks_in(lab, cfg):
    """Only the chosen bundles are visible to pcscd."""
    lb = lab.start(profile="default")

    assert sorted(os.listdir(harness.PCSCD_DROPDIR)) == sorted(os.listdir(cfg.dropdir))
    starts = re.findall(r"Attempting startup of .* using (\S+)", lb.log.text())
    assert starts and all(s.startswith(harness.PCSCD_DROPDIR + "/") for s in starts)
    names = [b for b, _l, _p in harness.bundle_plists(cfg.dropdir)]
    assert all(any("/%s/" % n in s for n in names) for s in starts), starts
