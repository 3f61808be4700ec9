#!/usr/bin/python3
"""Self cost (first event, Ir) per object in a callgrind.out file: the
instructions executed inside each shared object's own code, with callees in
other objects (libusb, libc, the simulator's preload) excluded.

    callgrind_obj.py callgrind.out.N [OBJECT_BASENAME]
"""
import os
import re
import sys

_NAMED = re.compile(r"^(c?ob)=\((\d+)\)(?: (.*))?$")


def self_cost_by_object(path):
    names = {}      # compressed id -> object name (shared by ob= and cob=)
    cur = "?"
    skip_next = False
    costs = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                if skip_next:          # the inclusive cost of a call
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    costs[cur] = costs.get(cur, 0) + int(parts[1])
                continue
            if line.startswith("calls="):
                skip_next = True
                continue
            m = _NAMED.match(line)
            if m:
                kind, num, name = m.groups()
                if name is not None:
                    names[num] = name
                if kind == "ob":
                    cur = names.get(num, "?")
                continue
            if line.startswith("ob="):   # uncompressed names
                cur = line[3:]
    return costs


def object_cost(path, basename):
    return sum(v for k, v in self_cost_by_object(path).items()
               if os.path.basename(k) == basename)


if __name__ == "__main__":
    costs = self_cost_by_object(sys.argv[1])
    if len(sys.argv) > 2:
        print(object_cost(sys.argv[1], sys.argv[2]))
    else:
        for k, v in sorted(costs.items(), key=lambda kv: -kv[1]):
            print("%14d %s" % (v, k))
