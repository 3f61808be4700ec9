#!/usr/bin/env python3
"""The layer rule of HACKING.md, checked on the sources.

src/ has one folder per layer; HACKING.md's table "Layers" ranks them
(rank 0 lowest). This test fails when:
  - the table's folders are not exactly the folders of src/, in rank
    order 0, 1, 2...;
  - a file of src/ includes a header of a higher-ranked folder, or names
    a header without its folder ("slot.h" instead of "reader/slot.h"),
    or one that does not exist under src/;
  - <libusb.h> is included outside the libusb transport, <debuglog.h>
    outside the log, <ifdhandler.h> outside the IFDH folder;
  - the include graph between files has a cycle (see units() below);
  - a cycle listed in KNOWN_CYCLES is gone (the list stays true).

usage: test-layers.py [TOP]        (default: the tree this file is in)
"""
import glob
import os
import re
import sys

# Who may include which system header (paths relative to the top).
ONLY = {
    "libusb.h": ("the libusb transport", lambda p: p == "src/transport/usb.c"),
    "debuglog.h": ("the log", lambda p: p == "src/base/log.c"),
    "ifdhandler.h": ("the IFDH folder", lambda p: p.startswith("src/ifd/")),
}

# Cycles that exist and are to be opened by their owner; listing one that
# no longer exists fails. Issue 18 opened the last ones.
KNOWN_CYCLES = [
]

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def table_folders(top):
    """[(rank, folder)] from HACKING.md's table under "## Layers"."""
    text = read(os.path.join(top, "HACKING.md"))
    m = re.search(r"^## Layers.*?\n(.*?)(?=^## )", text, re.M | re.S)
    if m is None:
        return None
    rows = re.findall(r"^\| *(\d+) *\| *`src/([a-z_]+)` *\|", m.group(1),
                      re.M)
    return [(int(r), f) for r, f in rows]


def src_folders(top):
    return sorted(os.path.basename(d) for d in
                  glob.glob(os.path.join(top, "src", "*"))
                  if os.path.isdir(d))


def strip_c(text):
    """Text without comments, string literals or preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"^[ \t]*#(\\\n|[^\n])*", " ", text, flags=re.M)
    return text


def declared_functions(header_text):
    """Functions a header declares (not static inline ones it defines)."""
    names = set()
    depth = 0
    stmt = []
    for ch in strip_c(header_text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                stmt = []  # a struct/enum body or an inline definition
            continue
        if depth != 0:
            continue
        if ch == ";":
            s = " ".join("".join(stmt).split())
            stmt = []
            if s.startswith(("typedef", "static")) or "(" not in s:
                continue
            m = re.match(r"[A-Za-z_][\w \*]*?\b([a-z_][a-z0-9_]*)\s*\(", s)
            if m:
                names.add(m.group(1))
        else:
            stmt.append(ch)
    return names


def defined_functions(c_text):
    """Functions a .c file defines (KNF: the name starts its line)."""
    return set(re.findall(r"^([a-z_][a-z0-9_]*)\(", strip_c(c_text), re.M))


def includes(path):
    return INCLUDE.findall(read(path))


def check_rules(top, ranks, problems):
    for path in sorted(glob.glob(os.path.join(top, "src", "*", "*.[ch]"))):
        rel = os.path.relpath(path, top)
        folder = rel.split("/")[1]
        for kind, name in includes(path):
            if kind == "<":
                who = ONLY.get(name)
                if who and not who[1](rel):
                    problems.append("%s: <%s> outside %s" %
                                    (rel, name, who[0]))
                continue
            if name == "config.h":
                continue
            parts = name.split("/")
            if len(parts) != 2 or parts[0] not in ranks:
                problems.append('%s: "%s" does not name its folder '
                                '("layer/file.h")' % (rel, name))
                continue
            if not os.path.isfile(os.path.join(top, "src", name)):
                problems.append('%s: "%s" is not a file of src/' %
                                (rel, name))
                continue
            if ranks[parts[0]] > ranks[folder]:
                problems.append('%s: "%s" goes up (%s is rank %d, %s '
                                'rank %d)' % (rel, name, folder,
                                              ranks[folder], parts[0],
                                              ranks[parts[0]]))


def resolve(top, rel, name):
    """The file an #include "name" in rel means, relative to top."""
    local = os.path.normpath(os.path.join(os.path.dirname(rel), name))
    if os.path.isfile(os.path.join(top, local)):
        return local
    if os.path.isfile(os.path.join(top, "src", name)):
        return "src/" + name
    return None


def units(top, files):
    """The file-level dependency graph: {unit: set(unit)}.

    A .c file is a unit. A header belongs to the .c files that define
    the functions it declares (a header of types only is its own unit),
    so that a file including a header depends on the files behind it,
    and what a header includes is a dependency of its owners. A header
    declaring the functions of several files (a grab-bag) makes each of
    them depend on the others: a cycle, unless each gets its own header.
    """
    defs = {}
    for rel in files:
        if rel.endswith(".c"):
            for fn in defined_functions(read(os.path.join(top, rel))):
                defs.setdefault(fn, set()).add(rel)
    owner = {}
    for rel in files:
        if rel.endswith(".h"):
            found = set()
            for fn in declared_functions(read(os.path.join(top, rel))):
                found |= defs.get(fn, set())
            # A header of src/ is implemented in src/ (a tool or test may
            # define a stand-in of the same name).
            tree = rel.split("/")[0]
            found = {c for c in found if c.split("/")[0] == tree}
            owner[rel] = found or {rel}
    graph = {}
    for rel in files:
        mine = owner.get(rel, {rel})
        for u in mine:
            graph.setdefault(u, set())
        for kind, name in includes(os.path.join(top, rel)):
            if kind != '"':
                continue
            target = resolve(top, rel, name)
            if target is None or target not in owner:
                continue
            for u in mine:
                graph[u] |= owner[target] - {u}
    return graph


def cycles(graph):
    """Strongly connected components of more than one unit (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(argv):
    top = os.path.abspath(argv[1] if len(argv) > 1 else
                          os.path.join(os.path.dirname(__file__), "..", ".."))
    sys.setrecursionlimit(10000)
    problems = []
    table = table_folders(top)
    if not table:
        print("FAIL: no layer table under \"## Layers\" in HACKING.md")
        return 1
    if [r for r, _ in table] != list(range(len(table))):
        problems.append("HACKING.md: ranks are not 0, 1, 2... in order: %s"
                        % [r for r, _ in table])
    ranks = {f: r for r, f in table}
    if sorted(ranks) != src_folders(top):
        problems.append("HACKING.md's layer table %s is not the folder "
                        "list of src/ %s" % (sorted(ranks),
                                             src_folders(top)))
    check_rules(top, ranks, problems)

    files = sorted(os.path.relpath(p, top) for pat in
                   ("src/*/*.[ch]", "tools/*.[ch]")
                   for p in glob.glob(os.path.join(top, pat)))
    found = []
    for comp in cycles(units(top, files)):
        found.append(" ".join(c[4:] if c.startswith("src/") else c
                              for c in comp))
    for c in found:
        if c not in KNOWN_CYCLES:
            problems.append("include cycle: %s" % c)
    for c in KNOWN_CYCLES:
        if c not in found:
            problems.append("KNOWN_CYCLES lists %s, which is no longer a "
                            "cycle: remove it" % c)
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    print("ok: %d folders ranked, %d files, no include going up, %d known "
          "cycle(s)" % (len(ranks), len(files), len(KNOWN_CYCLES)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
