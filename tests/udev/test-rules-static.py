#!/usr/bin/env python3
"""Check openccid's generated udev rules without udev and without root.

1. Syntax: every rule line is comma-separated KEY[{attr}] OP "value" tokens
   with keys and operators udev knows; every GOTO has its LABEL.
2. Policy: one GROUP, the configured pcscd group; MODE 0660 only (never any
   access for others); no "ACTION==add"-only guard before the GROUP
   assignment (change/bind events must keep it).
3. Data: every reader of bundle/readers.list whose descriptor dump
   (tests/data/descriptors.jsonl) has a class-0xFF interface with a CCID
   descriptor is matched by VID:PID.
4. Semantics: a small evaluator of the rule subset used here runs every
   device of cases.py (plain, composite, non-CCID, class 0xFF, change and
   bind events, autosuspend exceptions). test-udevadm.py checks the same
   cases with the real udevadm; this one also runs in a package build.
Environment: top_srcdir, top_builddir (set by make check).
"""
import fnmatch
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import CASES, usb_interfaces  # noqa: E402

TOKEN_RE = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')
MATCH_KEYS = {'ACTION', 'SUBSYSTEM', 'ENV', 'ATTR', 'TEST', 'KERNEL', 'DRIVER'}
ASSIGN_KEYS = {'ENV', 'GROUP', 'MODE', 'ATTR', 'TAG', 'GOTO', 'LABEL', 'OWNER'}


def parse(path):
    rules = []
    with open(path, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            toks, pos = [], 0
            while pos < len(line):
                m = TOKEN_RE.match(line, pos)
                if not m:
                    raise SystemExit(f'FAIL: {path}:{lineno}: cannot parse at {line[pos:]!r}')
                key, attr, op, value, _ = m.groups()
                known = MATCH_KEYS if op in ('==', '!=') else ASSIGN_KEYS
                if key not in known:
                    raise SystemExit(f'FAIL: {path}:{lineno}: {key}{op} not expected here')
                toks.append((key, attr, op, value))
                pos = m.end()
            rules.append((lineno, toks))
    return rules


def glob_match(value, pattern):
    return any(fnmatch.fnmatchcase(value, p) for p in pattern.split('|'))


def evaluate(rules, dev, action):
    """Apply the rules to a device {'ENV': {...}, 'ATTR': {...}} the way udev
    does for this subset; returns (env, group, mode, attr_writes, tags)."""
    env = dict(dev['ENV'], ACTION=action)
    group = mode = None
    writes, tags = {}, set()
    labels = {toks[0][3]: i for i, (_, toks) in enumerate(rules) if toks[0][0] == 'LABEL'}
    i = 0
    while i < len(rules):
        _, toks = rules[i]
        i += 1
        ok = True
        for key, attr, op, value in toks:
            if op not in ('==', '!='):
                continue
            if key == 'TEST':
                have = attr is None and value in dev['ATTR']
            else:
                cur = {'ACTION': action, 'SUBSYSTEM': env.get('SUBSYSTEM', ''),
                       'ENV': env.get(attr, ''), 'ATTR': dev['ATTR'].get(attr, '')}[key]
                have = glob_match(cur, value)
            if have != (op == '=='):
                ok = False
                break
        if not ok:
            continue
        for key, attr, op, value in toks:
            if op in ('==', '!='):
                continue
            if key == 'ENV':
                env[attr] = (env.get(attr, '') + ' ' + value).strip() if op == '+=' else value
            elif key == 'GROUP':
                group = value
            elif key == 'MODE':
                mode = value
            elif key == 'ATTR':
                writes[attr] = value
            elif key == 'TAG':
                tags.add(value)
            elif key == 'GOTO':
                i = labels[value]
    return env, group, mode, writes, tags


def main():
    srcdir = os.environ.get('top_srcdir', os.path.join(HERE, '..', '..'))
    builddir = os.environ.get('top_builddir', srcdir)
    path = os.path.join(builddir, 'udev', '92-openccid.rules')
    act_path = os.path.join(srcdir, 'udev', '93-openccid-pcscd-activate.rules')
    errs = []
    rules = parse(path)
    act_rules = parse(act_path)

    # 1. GOTO targets
    for rs, p in ((rules, path), (act_rules, act_path)):
        labels = {t[3] for _, toks in rs for t in toks if t[0] == 'LABEL'}
        for lineno, toks in rs:
            for t in toks:
                if t[0] == 'GOTO' and t[3] not in labels:
                    errs.append(f'{p}:{lineno}: GOTO {t[3]} has no LABEL')

    # 2. policy
    groups = [(n, t[3]) for n, toks in rules for t in toks if t[0] == 'GROUP']
    modes = [(n, t[3]) for n, toks in rules for t in toks if t[0] == 'MODE']
    if len(groups) != 1 or not re.match(r'^[a-z_][a-z0-9_-]*$', groups[0][1]):
        errs.append(f'expected one GROUP with a group name, got {groups}')
    if not modes or any(m != '0660' for _, m in modes):
        errs.append(f'MODE must be 0660 everywhere (no access for others), got {modes}')
    group_line = groups[0][0] if groups else 0
    for lineno, toks in rules:
        if lineno < group_line and any(t[0] == 'ACTION' and t[3] != 'remove' for t in toks):
            errs.append(f'{path}:{lineno}: ACTION test other than "remove" before GROUP '
                        '(change/bind events would lose the group)')
    group = groups[0][1] if groups else None

    # 3. data: class-0xFF readers of the list
    listed = set()
    with open(os.path.join(srcdir, 'bundle', 'readers.list'), encoding='utf-8') as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                listed.add(line.split('\t')[0])
    matched = set()
    for _, toks in rules:
        d = {(t[0], t[1]): t[3] for t in toks if t[2] == '=='}
        if ('ATTR', 'idVendor') in d and ('ENV', 'OPENCCID_READER') in {(t[0], t[1]) for t in toks
                                                                        if t[2] == '='}:
            matched.add(f"{d[('ATTR', 'idVendor')]}:{d[('ATTR', 'idProduct')]}")
    need = set()
    with open(os.path.join(srcdir, 'tests', 'data', 'descriptors.jsonl'), encoding='utf-8') as f:
        for line in f:
            dump = json.loads(line)
            key = f"{dump['vid']}:{dump['pid']}"
            if key in listed and any(i['bInterfaceClass'] == 0xff and i.get('ccid')
                                     for i in dump['interfaces']):
                need.add(key)
    for key in sorted(need - matched):
        errs.append(f'class-0xFF reader {key} (readers.list, descriptor dump) has no rule')
    for key in sorted(matched - listed):
        errs.append(f'VID:PID rule for {key}, which is not in readers.list')
    if len(need) < 10:
        errs.append(f'only {len(need)} class-0xFF readers found in the data; data changed?')

    # 4. semantics
    n = 0
    for with_act in (False, True):
        for case in CASES:
            n += 1
            dev = {'ENV': {'SUBSYSTEM': 'usb', 'DEVTYPE': 'usb_device',
                           'ID_USB_INTERFACES': usb_interfaces(case.ifaces)},
                   'ATTR': {'idVendor': case.vid, 'idProduct': case.pid,
                            'power/control': 'on', 'power/persist': '1'}}
            env, g, mode, writes, tags = evaluate(rules + (act_rules if with_act else []),
                                                  dev, case.action)
            got = (g == group and mode == '0660', writes.get('power/persist') == '0',
                   writes.get('power/control') == 'auto')
            want = (case.reader, case.persist, case.autosuspend)
            label = case.name + (' (+activation rules)' if with_act else '')
            bad = got != want
            if with_act:
                act = 'systemd' in tags and 'pcscd.socket' in env.get('SYSTEMD_WANTS', '').split()
                bad = bad or act != case.reader
            if bad:
                errs.append(f'{label}: group/mode, persist, autosuspend = {got}, want {want}; '
                            f'tags {sorted(tags)}, env {env}')
            print(f'{"not ok" if bad else "ok"} {n} - {label}')
    print(f'1..{n}')
    for e in errs:
        print(f'FAIL: {e}', file=sys.stderr)
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
