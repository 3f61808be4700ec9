#!/usr/bin/env python3
"""Generate openccid's udev rules from the rules template and the quirks.

Usage: gen-udev-rules.py --group NAME --readers bundle/readers.list
                         -o OUT TEMPLATE QUIRKS_FILE...

The template (udev/92-openccid.rules.in) has four placeholders:
  @pcscd_group@           the group of the unprivileged pcscd
  @VENDOR_CLASS_RULES@    one line per reader whose CCID interface has the
                          vendor class 0xFF (quirk key vendor_class_ccid)
  @PERSIST_RULES@         power/persist=0 for every reader ("match any" with
                          usb_persist_off) or for the listed ones
  @NO_AUTOSUSPEND_RULES@  one line per reader that must keep autosuspend off
                          (quirk key no_autosuspend)

Quirks files are the format of quirks/README.md: "match vid=VVVV pid=PPPP
[conditions]" opens an entry, "set key[=value] ..." lines add keys to it,
later entries override earlier ones. Match conditions udev cannot see
(bcdDevice ranges, interface) are dropped: the rule covers every version of
the device, a superset. Class-0xFF readers that are not in
bundle/readers.list get no rule (pcscd never hands them to openccid); the
generated file names them in a comment. Any line this script cannot
understand is an error with file:line; the driver's own parser
(src/quirks/quirks_parse.c) is the strict validator of everything else.
"""
import argparse
import os
import re
import sys

HEX4 = re.compile(r'^[0-9a-fA-F]{4}$')
GROUP_RE = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')
# bundle/readers.list lines (bundle/gen-info-plist.py has the full rules)
READER_RE = re.compile(r'^([0-9a-f]{4}):([0-9a-f]{4})\t(supported|shouldwork|unsupported|local)'
                       r'\t([^\t]+)(?:\t[^\t]+)?$')
VENDOR_CLASS = 'vendor_class_ccid'
NO_AUTOSUSPEND = 'no_autosuspend'
PERSIST_OFF = 'usb_persist_off'
KEYS = (VENDOR_CLASS, NO_AUTOSUSPEND, PERSIST_OFF)
ANY = ('*', '*')


class DataError(Exception):
    pass


def data_lines(path):
    with open(path, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].strip()
            if line:
                yield lineno, line


def read_readers(path):
    readers = {}
    with open(path, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            m = READER_RE.match(line)
            if not m:
                raise DataError(f'{path}:{lineno}: not a reader line: {line!r}')
            readers[(m.group(1), m.group(2))] = m.group(4)
    return readers


def read_quirks(paths):
    """{key: {(vid, pid) or ANY: "file:line"}} for the keys udev needs,
    after later entries have overridden earlier ones."""
    found = {k: {} for k in KEYS}
    for path in paths:
        cur = None
        for lineno, line in data_lines(path):
            toks = line.split()
            where = f'{os.path.basename(path)}:{lineno}'
            if toks[0] == 'match':
                vid = pid = None
                for t in toks[1:]:
                    if t == 'any':
                        vid = pid = '*'
                    elif t.startswith('vid='):
                        vid = t[4:].lower()
                    elif t.startswith('pid='):
                        pid = t[4:].lower()
                for v in (vid, pid):
                    if v is None or not (v == '*' or HEX4.match(v)):
                        raise DataError(f'{where}: match needs vid=VVVV pid=PPPP or any')
                cur = (vid, pid)
            elif toks[0] == 'set':
                if cur is None:
                    raise DataError(f'{where}: set before any match')
                for t in toks[1:]:
                    key, eq, value = t.partition('=')
                    if key not in KEYS:
                        continue
                    if eq and value not in ('true', 'false'):
                        raise DataError(f'{where}: {key} is a flag, not {value!r}')
                    if cur != ANY and '*' in cur:
                        raise DataError(f'{where}: {key} on {cur[0]}:{cur[1]}: '
                                        'udev needs one VID:PID or any')
                    if cur == ANY and key != PERSIST_OFF:
                        raise DataError(f'{where}: {key} on "match any" cannot '
                                        'be a udev VID:PID rule')
                    if value == 'false':
                        found[key].pop(cur, None)
                    else:
                        found[key][cur] = where
            else:
                raise DataError(f'{where}: expected "match" or "set", not {toks[0]!r}')
    return found


def rule_lines(ids, action, names):
    lines = []
    for key, where in sorted(ids.items()):
        vid, pid = key
        lines.append(f'# {names.get(key, "(not in readers.list)")} ({where})')
        lines.append(f'ATTR{{idVendor}}=="{vid}", ATTR{{idProduct}}=="{pid}", {action}')
    return '\n'.join(lines) if lines else '# (none)'


def generate(args):
    if not GROUP_RE.match(args.group):
        raise DataError(f'--group: {args.group!r} is not a valid group name')
    readers = read_readers(args.readers)
    q = read_quirks(args.quirks)
    if not q[VENDOR_CLASS]:
        # The class-0xFF readers exist (SPR532, ST-2xxx...): none found
        # means the data or its key changed, not that there are none.
        raise DataError(f'no quirks entry sets {VENDOR_CLASS}; '
                        'was the key renamed in quirks/README.md?')
    unlisted = {k: w for k, w in q[VENDOR_CLASS].items() if k not in readers}
    vendor_class = {k: w for k, w in q[VENDOR_CLASS].items() if k in readers}

    persist = q[PERSIST_OFF]
    if ANY in persist:
        persist_text = (f'# every reader ({persist[ANY]})\n'
                        'TEST=="power/persist", ATTR{power/persist}="0"')
    elif persist:
        persist_text = rule_lines(persist, 'TEST=="power/persist", ATTR{power/persist}="0"',
                                  readers)
    else:
        persist_text = '# (none)'

    with open(args.template, encoding='utf-8') as f:
        text = f.read()
    subst = {
        '@pcscd_group@': args.group,
        '@VENDOR_CLASS_RULES@': rule_lines(vendor_class, 'ENV{OPENCCID_READER}="1"', readers)
        + ''.join(f'\n# no rule, not in readers.list: {v}:{p} ({w})'
                  for (v, p), w in sorted(unlisted.items())),
        '@PERSIST_RULES@': persist_text,
        '@NO_AUTOSUSPEND_RULES@': rule_lines(q[NO_AUTOSUSPEND], 'GOTO="openccid_end"', readers),
    }
    for marker, value in subst.items():
        if marker not in text:
            raise DataError(f'{args.template}: placeholder {marker} missing')
        text = text.replace(marker, value)
    leftover = re.search(r'@[A-Za-z_]+@', text)
    if leftover:
        raise DataError(f'{args.template}: unknown placeholder {leftover.group(0)}')
    sources = ', '.join(os.path.basename(p) for p in args.quirks)
    return (f'# Generated by udev/gen-udev-rules.py from {os.path.basename(args.template)}'
            f' and {sources}; do not edit.\n' + text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--group', required=True)
    ap.add_argument('--readers', required=True)
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('template')
    ap.add_argument('quirks', nargs='+')
    args = ap.parse_args()
    try:
        text = generate(args)
    except (DataError, OSError, UnicodeDecodeError) as e:
        print(f'gen-udev-rules: {e}', file=sys.stderr)
        return 1
    tmp = args.output + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
