#!/usr/bin/env python3
"""Every quirk key is acted on, or says that it is not.

A key the parser accepts but no code reads would be a workaround that
does nothing while the data says it is there. For each key of
src/quirks/quirks_keys.c this test looks for a reader of it: driver code
naming QUIRK_<KEY> in src/ (the quirk table's own files aside) or the udev
rule generator naming the key. A key with no reader must be listed in
quirks/README.md, section "Keys the driver does not read", with the
reason; a key listed there that has a reader fails too (the list stays
true).
"""
import glob
import os
import re
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TABLE_FILES = {"quirks_keys.c", "quirks.c", "quirks_parse.c", "quirks_describe.c"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def keys():
    text = read(os.path.join(TOP, "src", "quirks", "quirks_keys.c"))
    table = text[text.index("quirk_keys[QUIRK_KEY_COUNT]"):]
    table = table[:table.index("};")]
    return re.findall(r'(?:[A-Z]\(|\{)"([a-z0-9_]+)"', table)


def readers(key):
    found = []
    sym = re.compile(r"\bQUIRK_%s\b" % key.upper())
    for path in sorted(glob.glob(os.path.join(TOP, "src", "*", "*.c"))):
        if os.path.basename(path) not in TABLE_FILES and sym.search(read(path)):
            found.append(os.path.relpath(path, TOP))
    udev = os.path.join(TOP, "udev", "gen-udev-rules.py")
    if re.search(r"['\"]%s['\"]" % key, read(udev)):
        found.append(os.path.relpath(udev, TOP))
    return found


def listed_unread():
    text = read(os.path.join(TOP, "quirks", "README.md"))
    m = re.search(r"^## Keys the driver does not read\n(.*?)(?=^## )", text, re.M | re.S)
    if m is None:
        sys.exit("FAIL: quirks/README.md has no section 'Keys the driver does not read'")
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", m.group(1), re.M))


def main():
    all_keys = keys()
    if len(all_keys) < 40:
        sys.exit("FAIL: read only %d keys from src/quirks/quirks_keys.c"
                 % len(all_keys))
    unread = listed_unread()
    bad = 0
    for k in all_keys:
        who = readers(k)
        if not who and k not in unread:
            print("FAIL: %s: no code reads it and quirks/README.md does not say so" % k)
            bad += 1
        elif who and k in unread:
            print("FAIL: %s: listed as not read, but read by %s" % (k, ", ".join(who)))
            bad += 1
    for k in sorted(unread - set(all_keys)):
        print("FAIL: %s: listed as not read, but no such key" % k)
        bad += 1
    print("%d keys, %d read by code, %d listed as not read, %d problem(s)"
          % (len(all_keys), len(all_keys) - len(unread & set(all_keys)), len(unread), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
