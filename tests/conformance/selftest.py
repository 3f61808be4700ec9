#!/usr/bin/env python3
"""Self-test of the reader-corpus runner: it must fail on a regression.

Runs tests/conformance/run-corpus.py on a few dumps with expectations
altered on purpose and checks its exit status (make check-conformance runs
this before the corpus; any check that does not hold fails the stage):

1. unaltered expectations of the chosen dumps: exit 0 (so that the
   failures below come from the alteration, not from the set-up);
2. the first 'works' row of expected.tsv altered to a refusal: exit 1,
   the row listed as unexpected;
3. the first 'refused:...' row altered to 'works': exit 1, listed;
   and run-corpus.py --break (the same in one process) reports its row;
4. the quirk table is tested by the corpus: the Identiv uTrust 3720 with
   its msg_len_fix quirk switched off by a run-time quirks file
   (OPENCCID_QUIRKS_DIR): the 260-byte APDU its real 270-byte buffer takes
   is refused ("does not fit dwMaxCCIDMessageLength 263", libccid fact
   R9), so its limit drops from the expected max-apdu=260 to 253: exit 1;
5. the MySMART PAD's desc_protocols quirk set to T=1 only by a run-time
   file: its T=0 row no longer works: exit 1, only that row listed with a
   changed outcome;
6. the quirks column: the Kobil EMV CAP's reader-specific rows
   (force_level=short_apdu) altered to none in a copy of expected.tsv:
   exit 1, both rows listed as "expected quirk rows -".

    selftest.py --builddir DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run-corpus.py")
EXPECTED = os.path.join(HERE, "expected.tsv")
QUIRK_DUMP = "Identiv_uTrust_3720_Contactless_Reader.txt"
QUIRK_OFF = ("# self-test: the SCM message-length quirk switched off\n"
             "match vid=04e6 pid=5612\nset msg_len_fix_to=263\n")
QUIRK_OFF_LINE = "APDU of 260 bytes does not fit dwMaxCCIDMessageLength 263"
PROTO_DUMP = "MySmartPad.txt"
QUIRKS_DUMP = "Kobil_EMV_CAP.txt"
PROTO_T1_ONLY = ("# self-test: the MySMART PAD's dwProtocols fix cut to T=1\n"
                 "match vid=09be pid=0002\nset desc_protocols=0x2\n")


def rows(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip() or line.startswith("dump_file\t"):
                out.append((None, line))
            else:
                out.append((line.rstrip("\n").split("\t"), line))
    return out


def write_altered(path, pick, edit):
    """A copy of expected.tsv at path with edit(cols) for the rows pick(cols)."""
    with open(path, "w") as f:
        for cols, line in rows(EXPECTED):
            f.write("\t".join(edit(cols)) + "\n" if cols and pick(cols) else line)


def run(builddir, dump, expected, workdir, env=None, json_path=None):
    argv = [sys.executable, RUNNER, "--builddir", builddir, "--expected", expected,
            "--only", "^%s$" % re.escape(dump), "--workdir", workdir, "-j", "2"]
    if json_path:
        argv += ["--json", json_path]
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    return r.returncode, r.stdout


def run_with_quirks(builddir, dump, quirks_text, workdir):
    """run() with a run-time quirks file (OPENCCID_QUIRKS_DIR) holding
    quirks_text: how a user overrides a built-in row."""
    qdir = workdir + ".quirks.d"
    os.makedirs(qdir)
    with open(os.path.join(qdir, "selftest.quirks"), "w") as f:
        f.write(quirks_text)
    return run(builddir, dump, EXPECTED, workdir, env={"OPENCCID_QUIRKS_DIR": qdir})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", required=True)
    a = ap.parse_args()
    b = os.path.abspath(a.builddir)
    tmp = tempfile.mkdtemp(prefix="openccid-conf-selftest-")
    failures = []

    def check(what, cond, out):
        print("%s: %s" % ("ok" if cond else "FAILED", what), flush=True)
        if not cond:
            failures.append(what)
            print("    " + "\n    ".join(out.splitlines()[-30:]))

    table = [c for c, _l in rows(EXPECTED) if c]
    works = next(c for c in table if c[4] == "works")
    refused = next(c for c in table if c[4].startswith("refused:"))
    try:
        for n, (cols, new) in enumerate(((works, "refused:self-test-altered-expectation"),
                                         (refused, "works"))):
            key = tuple(cols[:4])
            label = "%s if %s slot %s T=%s" % key
            rc, out = run(b, key[0], EXPECTED, os.path.join(tmp, "w%da" % n))
            check("%s as expected (%s): runner exits 0" % (label, cols[4]), rc == 0, out)
            alt = os.path.join(tmp, "expected-%d.tsv" % n)
            write_altered(alt, lambda c, key=key: tuple(c[:4]) == key,
                          lambda c, new=new: c[:4] + [new] + c[5:])
            rc, out = run(b, key[0], alt, os.path.join(tmp, "w%db" % n))
            listed = re.search(r"^  %s if %s slot %s T=%s: expected %s, got %s$"
                               % (re.escape(key[0]), key[1], key[2], re.escape(key[3]),
                                  re.escape(new), re.escape(cols[4])), out, re.M)
            check("%s altered to %s: runner exits 1 and lists the row"
                  % (label, new), rc == 1 and listed is not None, out)

        # The one-process variant: --break exits 0 only when it saw its
        # altered row reported (and says so).
        r = subprocess.run([sys.executable, RUNNER, "--builddir", b, "--break", "-j", "2",
                            "--workdir", os.path.join(tmp, "wbreak")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300)
        check("run-corpus.py --break: the altered expectation is reported (exit 0)",
              r.returncode == 0 and "self-test PASSED" in r.stdout, r.stdout)

        rc, out = run_with_quirks(b, QUIRK_DUMP, QUIRK_OFF, os.path.join(tmp, "wq1"))
        bad = [l for l in out.splitlines() if re.match(r"^  %s if 0 slot 0 T=[01]: "
                                                       r"expected works:max-apdu=260, "
                                                       r"got works:max-apdu=253$"
                                                       % re.escape(QUIRK_DUMP), l)]
        check("%s without its msg_len_fix quirk: runner exits 1, both protocols "
              "limited to 253 bytes, 260 refused (%r)" % (QUIRK_DUMP, QUIRK_OFF_LINE),
              rc == 1 and len(bad) == 2 and QUIRK_OFF_LINE in out, out)
        rc, out = run(b, QUIRK_DUMP, EXPECTED, os.path.join(tmp, "wq2"),
                      env={"OPENCCID_QUIRKS_DIR": os.path.join(tmp, "empty.d")})
        check("%s with its quirk: runner exits 0" % QUIRK_DUMP, rc == 0, out)

        rc, out = run_with_quirks(b, PROTO_DUMP, PROTO_T1_ONLY, os.path.join(tmp, "wp"))
        listed = re.findall(r"^  %s if 1 slot 0 T=([01]): expected works, got "
                            % re.escape(PROTO_DUMP), out, re.M)
        check("%s with desc_protocols=0x2: runner exits 1, only its T=0 row listed "
              "with a changed outcome" % PROTO_DUMP, rc == 1 and listed == ["0"], out)

        alt = os.path.join(tmp, "expected-quirks.tsv")
        write_altered(alt, lambda c: c[0] == QUIRKS_DUMP, lambda c: c[:5] + ["-"])
        rc, out = run(b, QUIRKS_DUMP, alt, os.path.join(tmp, "wk"))
        listed = re.findall(r"^  %s if 0 slot 0 T=([01]): expected quirk rows -, got quirk "
                            r"rows force_level=short_apdu$" % re.escape(QUIRKS_DUMP), out, re.M)
        check("%s with its quirks column altered to '-': runner exits 1, both rows listed"
              % QUIRKS_DUMP, rc == 1 and sorted(listed) == ["0", "1"], out)
    finally:
        if not failures:
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("conformance self-test FAILED (%d); logs in %s" % (len(failures), tmp))
        return 1
    print("conformance self-test passed: the runner fails on a regression")
    return 0


if __name__ == "__main__":
    sys.exit(main())
