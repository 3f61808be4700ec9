"""pcscd runs privately: our socket, our (empty) config, no host readers."""

import os

from smartcard import scard

import harness


def test_private_socket_and_context(lab):
    lb = lab.start(profile=None)
    # pcscd created its socket and pid file in the per-test directory that
    # is mounted over its compiled-in /run/pcscd, and nowhere else.
    assert os.path.exists(os.path.join(lb.rundir, "pcscd.comm"))
    with open(os.path.join(lb.rundir, "pcscd.pid")) as f:
        assert int(f.read().strip("\0\n ")) == lb.pcscd.pid
    assert os.environ["PCSCLITE_CSOCK_NAME"] == lb.socket
    ctx = lb.context()
    rv, readers = scard.SCardListReaders(ctx, [])
    assert rv == scard.SCARD_E_NO_READERS_AVAILABLE, (harness.scard_err(rv), readers)
    text = lb.log.text()
    assert "Parsing conf directory: %s" % lb.confdir in text
    assert "daemon ready" in text
    # The client's connection reached this pcscd.
    assert "ESTABLISH_CONTEXT for client" in text
    assert not lb.log.errors(), lb.log.errors()
