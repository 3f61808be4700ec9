#!/usr/bin/env python3
"""test-layers.py fails on what it is meant to catch.

On a scratch copy of src/, tools/ and HACKING.md, test-layers.py must
pass as the tree is, then fail (with the expected message) after each
single alteration: an include going up, a header named without its
folder, <libusb.h>, <debuglog.h> and <ifdhandler.h> in the wrong place,
a new include cycle between two files, a grab-bag header, a folder
missing from HACKING.md's table, and a listed known cycle that is gone.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
TEST = os.path.join(HERE, "test-layers.py")


def copy_tree(dst):
    for d in ("src", "tools"):
        shutil.copytree(os.path.join(TOP, d), os.path.join(dst, d),
                        ignore=shutil.ignore_patterns("*.o", "*.lo",
                                                      ".deps", ".libs"))
    shutil.copy(os.path.join(TOP, "HACKING.md"), dst)
    os.makedirs(os.path.join(dst, "tests", "unit"))
    shutil.copy(TEST, os.path.join(dst, "tests", "unit"))


def run(top):
    p = subprocess.run([sys.executable,
                        os.path.join(top, "tests", "unit", "test-layers.py"),
                        top], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def append(top, rel, text):
    with open(os.path.join(top, rel), "a", encoding="utf-8") as f:
        f.write(text)


def write(top, rel, text):
    with open(os.path.join(top, rel), "w", encoding="utf-8") as f:
        f.write(text)


def replace(top, rel, old, new):
    path = os.path.join(top, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if old not in text:
        raise SystemExit("FAIL: selftest: %r not in %s" % (old, rel))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new, 1))


def upward(top):
    append(top, "src/base/err.c", '#include "reader/slot.h"\n')


def no_folder(top):
    append(top, "src/reader/slot.c", '#include "slot.h"\n')


def libusb(top):
    append(top, "src/transport/trace_rec.c", "#include <libusb.h>\n")


def debuglog(top):
    append(top, "src/reader/reader.c", "#include <debuglog.h>\n")


def ifdhandler(top):
    append(top, "src/reader/slot.c", "#include <ifdhandler.h>\n")


def cycle(top):
    # Two new files whose headers each declare a function of the file
    # and which include each other's header: the smallest cycle.
    for me, other in (("cyc_a", "cyc_b"), ("cyc_b", "cyc_a")):
        write(top, "src/base/%s.h" % me, "int %s_f(void);\n" % me)
        write(top, "src/base/%s.c" % me,
              '#include "base/%s.h"\n#include "base/%s.h"\n\n'
              "int\n%s_f(void)\n{\n\treturn %s_f();\n}\n"
              % (me, other, me, other))


def grab_bag(top):
    # A header that declares functions of two files, both including it.
    write(top, "src/base/bag.h", "int bag_x(void);\nint bag_y(void);\n")
    for n in ("x", "y"):
        write(top, "src/base/bag_%s.c" % n,
              '#include "base/bag.h"\n\nint\nbag_%s(void)\n{\n'
              "\treturn 0;\n}\n" % n)


def table(top):
    os.makedirs(os.path.join(top, "src", "iccd"))
    write(top, "src/iccd/iccd.c", "int iccd_x;\n")


def opened(top):
    # KNOWN_CYCLES lists a cycle the tree does not have (as after one is
    # opened and the list not updated).
    replace(top, "tests/unit/test-layers.py", "KNOWN_CYCLES = [\n",
            'KNOWN_CYCLES = [\n    "base/gone_a.c base/gone_b.c",\n')


CASES = [
    (upward, '"reader/slot.h" goes up'),
    (no_folder, '"slot.h" does not name its folder'),
    (libusb, "<libusb.h> outside the libusb transport"),
    (debuglog, "<debuglog.h> outside the log"),
    (ifdhandler, "<ifdhandler.h> outside the IFDH folder"),
    (cycle, "include cycle: base/cyc_a.c base/cyc_b.c"),
    (grab_bag, "include cycle: base/bag_x.c base/bag_y.c"),
    (table, "is not the folder list of src/"),
    (opened, "which is no longer a cycle"),
]


def main():
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        copy_tree(base)
        rc, out = run(base)
        if rc != 0:
            print("FAIL: the unaltered tree does not pass:\n" + out)
            return 1
        print("ok: unaltered tree passes")
        for alter, expect in CASES:
            top = os.path.join(tmp, alter.__name__)
            shutil.copytree(base, top)
            alter(top)
            rc, out = run(top)
            if rc == 0 or expect not in out:
                print("FAIL: %s: rc %d, expected %r in:\n%s"
                      % (alter.__name__, rc, expect, out))
                failed += 1
            else:
                print("ok: %s fails (%s)" % (alter.__name__, expect))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
