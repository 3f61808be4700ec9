#!/usr/bin/env python3
"""Tests of the Info.plist generator: real list, merges, malformed input."""
import importlib
import os
import plistlib
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, 'gen-info-plist.py')
LIST = os.path.join(HERE, 'readers.list')
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # nothing written into the source tree
gen = importlib.import_module('gen-info-plist')


def run(lists, *extra):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'Info.plist')
        p = subprocess.run([sys.executable, GEN, '--version', '9.9', '-o', out, *extra, *lists],
                           capture_output=True, text=True)
        data = None
        if p.returncode == 0:
            with open(out, 'rb') as f:
                data = plistlib.load(f)
        return p, data


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return path


class GenInfoPlist(unittest.TestCase):
    def test_shipped_list(self):
        p, d = run([LIST])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(d['CFBundleExecutable'], 'libopenccid.so')
        self.assertEqual(d['ifdLogLevel'], '0x0003')
        self.assertEqual(len(d['ifdVendorID']), 642)
        self.assertEqual(len(d['ifdProductID']), 642)
        self.assertEqual(len(d['ifdFriendlyName']), 642)
        i = d['ifdProductID'].index('0x3438')
        self.assertEqual(d['ifdVendorID'][i], '0x08E6')
        self.assertEqual(d['ifdFriendlyName'][i], 'Gemalto USB Shell Token V2')
        # names with XML specials survive escaping
        self.assertIn('Giesecke & Devrient GmbH StarSign CUT S', d['ifdFriendlyName'])

    def test_claims_the_reference_list_but_disabled(self):
        """Info.plist claims exactly the reference list's VID:PIDs less the
        disabled ones, each with the reference's status and name, and every
        "unsupported" one with a reason (issue 25: a user switching from
        the reference driver keeps every reader it claimed)."""
        with open(os.path.join(HERE, '..', 'tests', 'data', 'readers.tsv'), encoding='utf-8') as f:
            rows = [l.rstrip('\n').split('\t') for l in f][1:]
        ref = {(r[0], r[1]): (r[3], r[2]) for r in rows}
        self.assertEqual(len(ref), len(rows), 'a VID:PID twice in readers.tsv')
        want = {k for k, (st, _n) in ref.items() if st != 'disabled'}
        disabled = {k for k, (st, _n) in ref.items() if st == 'disabled'}
        self.assertEqual((len(want), len(disabled)), (642, 14))
        p, d = run([LIST])
        self.assertEqual(p.returncode, 0, p.stderr)
        claimed = list(zip((v[2:].lower() for v in d['ifdVendorID']),
                           (v[2:].lower() for v in d['ifdProductID'])))
        self.assertEqual(len(claimed), len(set(claimed)))
        self.assertEqual(sorted(set(claimed) - want), [], 'claimed, not in the reference list')
        self.assertEqual(sorted(want - set(claimed)), [], 'in the reference list, not claimed')
        with open(LIST, encoding='utf-8') as f:
            entries = gen.parse_entries(f, LIST, {})
        for vid, pid, status, name, note in entries:
            self.assertEqual((status, name), ref[(vid, pid)], f'{vid}:{pid}')
            self.assertEqual(note is not None, status == 'unsupported', f'{vid}:{pid}')
            if note:
                self.assertTrue(note.startswith('the reference list marks it unsupported'), note)
        self.assertEqual(sum(1 for e in entries if e[2] == 'unsupported'), 29)

    def test_local_list_merges(self):
        with tempfile.TemporaryDirectory() as t:
            local = write(t, 'local.list', '# mine\n1234:abcd\tlocal\tMy New Reader\n')
            p, d = run([LIST, local])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(d['ifdFriendlyName'][-1], 'My New Reader')
            self.assertEqual(d['ifdVendorID'][-1], '0x1234')
            self.assertEqual(d['ifdProductID'][-1], '0xABCD')

    def test_malformed_lines_rejected(self):
        bad = ['08E6:3438\tsupported\tupper case hex\n',
               '8e6:3438\tsupported\tshort vid\n',
               '08e6:3438 supported spaces not tabs\n',
               '08e6:3438\tgreat\tunknown status\n',
               '08e6:3438\tunsupported\tno reason given\n',
               '08e6:3438\tsupported\tname\ta note without unsupported\n',
               '08e6:3438\tunsupported\tname\t\n',
               '08e6:3438\tunsupported\tname\tnote\textra column\n',
               '08e6:3438\tunsupported\tname\tctl\x01in note\n',
               '08e6:3438\tsupported\t\n',
               '08e6:3438\tsupported\tctl\x01char\n',
               'garbage\n']
        with tempfile.TemporaryDirectory() as t:
            for i, text in enumerate(bad):
                path = write(t, f'bad{i}.list', text)
                p, d = run([path])
                self.assertNotEqual(p.returncode, 0, text)
                self.assertIn(f'bad{i}.list:1:', p.stderr)
                self.assertIsNone(d)

    def test_duplicate_rejected(self):
        with tempfile.TemporaryDirectory() as t:
            dup = write(t, 'dup.list', '08e6:3438\tlocal\tRenamed\n')
            p, _ = run([LIST, dup])
            self.assertNotEqual(p.returncode, 0)
            self.assertIn('already listed', p.stderr)

    def test_empty_and_bad_options(self):
        with tempfile.TemporaryDirectory() as t:
            empty = write(t, 'empty.list', '# nothing\n')
            p, _ = run([empty])
            self.assertNotEqual(p.returncode, 0)
            p, _ = run([LIST], '--log-level', 'seven')
            self.assertNotEqual(p.returncode, 0)
            p, _ = run([os.path.join(t, 'missing.list')])
            self.assertNotEqual(p.returncode, 0)


NOTES = os.path.join(HERE, 'gen-reader-notes.py')


class GenReaderNotes(unittest.TestCase):
    """The driver's notes table (bundle/gen-reader-notes.py)."""

    def gen(self, text):
        with tempfile.TemporaryDirectory() as d:
            src = write(d, 'r.list', text)
            out = os.path.join(d, 'notes.c')
            p = subprocess.run([sys.executable, NOTES, '-o', out, src],
                               capture_output=True, text=True)
            body = open(out, encoding='utf-8').read() if p.returncode == 0 else None
            return p, body

    def test_shipped_list(self):
        with open(LIST, encoding='utf-8') as f:
            p, body = self.gen(f.read())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('const size_t reader_notes_count = 29;', body)
        self.assertIn('{ 0x0a5c, 0x5800, "the reference list marks it unsupported', body)

    def test_sorted_and_escaped(self):
        p, body = self.gen('ffff:0001\tunsupported\tB\tq"uote b\\ack ??= tri\n'
                           '0001:0002\tunsupported\tA\tfirst\n'
                           '0001:0003\tsupported\tC\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(body.index('0x0001, 0x0002'), body.index('0xffff, 0x0001'))
        self.assertIn(r'"q\"uote b\\ack \?\?= tri"', body)
        self.assertIn('reader_notes_count = 2;', body)

    def test_non_ascii_or_long_note_refused(self):
        for note in ('caf\u00e9', 'x' * 401):
            p, body = self.gen(f'0001:0002\tunsupported\tA\t{note}\n')
            self.assertNotEqual(p.returncode, 0, note)
            self.assertIn('printable ASCII', p.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
