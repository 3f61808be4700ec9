#!/usr/bin/env python3
"""Generate pcscd's Info.plist for the openccid bundle from reader lists.

pcscd matches a hot-plugged USB device to a driver by the ifdVendorID /
ifdProductID arrays of each bundle's Info.plist, and names the reader from
ifdFriendlyName at the same index. Those three arrays come from the reader
list (bundle/readers.list); everything else is fixed driver metadata.

Usage: gen-info-plist.py --version V [--log-level 0x0003]
                         [--driver-options 0x0000] -o OUT LIST [LIST...]
Later lists may add readers; a VID:PID listed twice is an error, so a local
list cannot silently rename a reader of the shipped list.

Also a module: openccid-readers (tools/openccid-readers.in) imports the
installed copy ($(pkgdatadir)/gen-info-plist.py) for the same rules.
"""
import argparse
import re
import sys
from xml.sax.saxutils import escape

LINE_RE = re.compile(r'^([0-9a-f]{4}):([0-9a-f]{4})\t(supported|shouldwork|unsupported|local)'
                     r'\t([^\t]+)(?:\t([^\t]+))?$')
HEX_RE = re.compile(r'^0x[0-9a-fA-F]{1,8}$')


class ListError(Exception):
    pass


def parse_entries(lines, path, seen):
    """Readers of one list given as lines, as (vid, pid, status, name, note)
    with note None unless status is "unsupported"; path names it in errors.
    seen maps (vid, pid) to the path:line that listed it first."""
    readers = []
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip('\n')
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        m = LINE_RE.match(line)
        if not m:
            raise ListError(f'{path}:{lineno}: expected "vvvv:pppp<TAB>status<TAB>name[<TAB>note]", got {line!r}')
        vid, pid, status, name, note = m.groups()
        if any(ord(c) < 0x20 or ord(c) == 0x7f for c in name + (note or '')):
            raise ListError(f'{path}:{lineno}: control character in reader name or note')
        # The note is the reason shown for a reader known not to work
        # fully: every "unsupported" reader has one, no other has.
        if (status == 'unsupported') != (note is not None):
            raise ListError(f'{path}:{lineno}: a note (fourth column) goes with status '
                            f'"unsupported" and only with it')
        key = (vid, pid)
        if key in seen:
            raise ListError(f'{path}:{lineno}: {vid}:{pid} already listed at {seen[key]}')
        seen[key] = f'{path}:{lineno}'
        readers.append((vid, pid, status, name, note))
    return readers


def parse_lines(lines, path, seen):
    """As parse_entries, as (vid, pid, name): what Info.plist needs."""
    return [(v, p, n) for v, p, _s, n, _note in parse_entries(lines, path, seen)]


def read_list(path, seen):
    with open(path, encoding='utf-8') as f:
        return parse_lines(f, path, seen)


def write_atomic(path, text, mode=0o644):
    """Replace path with text so that a reader (pcscd) sees the old file or
    the whole new one, never a part: a temporary file in the same directory,
    flushed to disk, renamed over it."""
    import os
    import tempfile
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=d)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def render(readers, version, log_level, driver_options):
    def arr(key, values):
        items = ''.join(f'\t\t<string>{escape(v)}</string>\n' for v in values)
        return f'\t<key>{key}</key>\n\t<array>\n{items}\t</array>\n'

    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
           '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n',
           '<plist version="1.0">\n<dict>\n']
    fixed = [
        ('CFBundleDevelopmentRegion', 'English'),
        ('CFBundleExecutable', 'libopenccid.so'),
        ('CFBundleIdentifier', 'org.openccid.driver'),
        ('CFBundleInfoDictionaryVersion', '6.0'),
        ('CFBundleName', 'openccid'),
        ('CFBundlePackageType', 'BNDL'),
        ('CFBundleShortVersionString', version),
        ('CFBundleSignature', '????'),
        ('CFBundleVersion', version),
        ('ifdCapabilities', '0x00000000'),
        ('ifdProtocolSupport', '0x00000001'),
        ('ifdVersionNumber', '0x00000001'),
        # Bitmask: 1 critical, 2 info, 4 comm (every CCID message, secrets
        # redacted), 8 periodic. OPENCCID_LOG_LEVEL in pcscd's environment
        # overrides it.
        ('ifdLogLevel', log_level),
        # Bitmask; see README "Driver options".
        ('ifdDriverOptions', driver_options),
        ('ifdManufacturerString', 'openccid project'),
        ('ifdProductString', 'openccid generic USB CCID driver'),
    ]
    for key, value in fixed:
        out.append(f'\t<key>{key}</key>\n\t<string>{escape(value)}</string>\n')
    out.append(arr('ifdVendorID', ['0x' + r[0].upper() for r in readers]))
    out.append(arr('ifdProductID', ['0x' + r[1].upper() for r in readers]))
    out.append(arr('ifdFriendlyName', [r[2] for r in readers]))
    out.append('\t<key>Copyright</key>\n\t<string>openccid is free software; '
               'see the LICENSE file that comes with it.</string>\n')
    out.append('</dict>\n</plist>\n')
    return ''.join(out)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--version', required=True)
    ap.add_argument('--log-level', default='0x0003')
    ap.add_argument('--driver-options', default='0x0000')
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('lists', nargs='+')
    args = ap.parse_args(argv)
    for opt in ('log_level', 'driver_options'):
        if not HEX_RE.match(getattr(args, opt)):
            ap.error(f'--{opt.replace("_", "-")} must be a hex number like 0x0003')
    seen = {}
    readers = []
    try:
        for path in args.lists:
            readers.extend(read_list(path, seen))
    except (ListError, OSError, UnicodeDecodeError) as e:
        print(f'gen-info-plist: {e}', file=sys.stderr)
        return 1
    if not readers:
        print('gen-info-plist: no readers listed', file=sys.stderr)
        return 1
    text = render(readers, args.version, args.log_level, args.driver_options)
    try:
        write_atomic(args.output, text)
    except OSError as e:
        print(f'gen-info-plist: {args.output}: {e.strerror}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
