#!/usr/bin/env python3
"""openccid-readers as installed: make install into a temporary DESTDIR,
then the installed tool (--root DESTDIR) lists, adds, removes, refuses
shipped and duplicate readers and malformed lines without writing, and
replaces Info.plist atomically."""
import glob
import os
import plistlib
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ.get('top_builddir') or os.getcwd()
STAGE = None
TOOL = None


def setUpModule():
    global STAGE, TOOL
    STAGE = tempfile.mkdtemp(prefix='openccid-readers-test.')
    make = os.environ.get('MAKE', 'make')
    p = subprocess.run([make, '-C', BUILD, 'install', 'DESTDIR=' + STAGE],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise RuntimeError('make install DESTDIR=%s failed:\n%s' % (STAGE, p.stdout[-3000:]))
    tools = [t for t in glob.glob(os.path.join(STAGE, '**', 'openccid-readers'), recursive=True)
             if os.path.isfile(t)]
    if len(tools) != 1:
        raise RuntimeError('expected one installed openccid-readers, found %s' % tools)
    TOOL = tools[0]


def tearDownModule():
    if STAGE:
        shutil.rmtree(STAGE, ignore_errors=True)


def read(path, mode='r'):
    with open(path, mode) as f:
        return f.read()


def find_one(pattern):
    found = glob.glob(os.path.join(STAGE, '**', pattern), recursive=True)
    assert len(found) == 1, '%s: %s' % (pattern, found)
    return found[0]


class InstalledTool(unittest.TestCase):
    def setUp(self):
        self.plist = find_one('ifd-openccid.bundle/Contents/Info.plist')
        with open(self.plist, 'rb') as f:
            self.shipped_plist = f.read()

    def tearDown(self):
        # Every test starts from the shipped state.
        for d in glob.glob(os.path.join(STAGE, '**', 'readers.d'), recursive=True):
            shutil.rmtree(d)
        with open(self.plist, 'wb') as f:
            f.write(self.shipped_plist)

    def run_tool(self, *args, stdin=None, fsize=None):
        def limit():
            # Python ignores SIGXFSZ: a write past the limit fails with EFBIG.
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        return subprocess.run([TOOL, '--root', STAGE, *args], input=stdin,
                              capture_output=True, text=True,
                              preexec_fn=limit if fsize else None)

    def ok(self, *args, stdin=None):
        p = self.run_tool(*args, stdin=stdin)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def fails(self, *args, stdin=None, msg=''):
        before = self.snapshot()
        p = self.run_tool(*args, stdin=stdin)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(msg, p.stderr)
        self.assertEqual(self.snapshot(), before, 'a refused change wrote something')
        return p.stderr

    def snapshot(self):
        """Bytes of Info.plist and of every file in the local lists dir."""
        files = {self.plist: read(self.plist, 'rb')}
        for d in glob.glob(os.path.join(STAGE, '**', 'readers.d'), recursive=True):
            for n in os.listdir(d):
                with open(os.path.join(d, n), 'rb') as f:
                    files[os.path.join(d, n)] = f.read()
        return files

    def plist_readers(self):
        with open(self.plist, 'rb') as f:
            pl = plistlib.load(f)
        return pl, list(zip(pl['ifdVendorID'], pl['ifdProductID'], pl['ifdFriendlyName']))

    def local_dir(self):
        (d,) = glob.glob(os.path.join(STAGE, '**', 'openccid', 'readers.d'), recursive=True)
        return d

    def test_installed_layout(self):
        self.assertTrue(os.access(TOOL, os.X_OK))
        text = read(TOOL)
        first = text.splitlines()[0]
        self.assertTrue(first.startswith('#!/') and 'python3' in first, first)
        self.assertEqual(re.findall(r'@[A-Za-z0-9_]+@', text), [], 'unsubstituted')
        self.assertIn("READERSDIR = '/", text)
        find_one('openccid/gen-info-plist.py')

    def test_list_shipped(self):
        out = self.ok('list').splitlines()
        self.assertEqual(len(out), 642)
        self.assertIn('08e6:3438\tsupported\tGemalto USB Shell Token V2', out)
        # an unsupported reader is claimed and shown with its reason
        self.assertIn('0a5c:5800\tunsupported\tBroadcom Corp 5880\tthe reference list marks '
                      'it unsupported; laptop chip whose vendor does not support its '
                      'contactless part on Linux', out)
        self.assertEqual(self.ok('list', '--local'), '')

    def test_add_list_remove(self):
        self.ok('add', '1234:ABCD', 'Example', 'Reader 1')
        local = os.path.join(self.local_dir(), 'local.list')
        self.assertEqual(read(local), '1234:abcd\tlocal\tExample Reader 1\n')
        pl, readers = self.plist_readers()
        self.assertEqual(len(readers), 643)
        self.assertIn(('0x1234', '0xABCD', 'Example Reader 1'), readers)
        self.assertEqual(self.ok('list', '--local'), '1234:abcd\tlocal\tExample Reader 1\n')
        self.assertIn('1234:abcd\tlocal\tExample Reader 1', self.ok('list').splitlines())
        # the line openccid-probe prints, from stdin, into a list of its own
        self.ok('add', '--list', 'lab.list', '--from', '-',
                stdin='# from openccid-probe show\n4321:0001\tlocal\tLab Reader\n')
        self.assertEqual(len(self.plist_readers()[1]), 644)
        self.ok('remove', '1234:abcd')
        self.assertEqual(read(local), '')
        _pl, readers = self.plist_readers()
        self.assertEqual(len(readers), 643)
        self.assertNotIn('1234:abcd', self.ok('list'))
        self.assertEqual(self.ok('list', '--local'), '4321:0001\tlocal\tLab Reader\n')
        self.fails('remove', '1234:abcd', msg='1234:abcd: in no local list')
        self.fails('remove', '08e6:3438', msg='a shipped reader')

    def test_settings_survive(self):
        with open(self.plist, 'rb') as f:
            pl = plistlib.load(f)
        pl['ifdLogLevel'] = '0x000F'
        pl['ifdDriverOptions'] = '0x0001'
        with open(self.plist, 'wb') as f:
            plistlib.dump(pl, f)
        self.ok('add', '1234:abcd', 'Example')
        pl, _r = self.plist_readers()
        self.assertEqual((pl['ifdLogLevel'], pl['ifdDriverOptions']), ('0x000F', '0x0001'))

    def test_regenerate_after_upgrade(self):
        self.ok('add', '1234:abcd', 'Example')
        # an upgrade puts the shipped Info.plist back
        with open(self.plist, 'wb') as f:
            f.write(self.shipped_plist)
        self.ok('regenerate', '--if-local')
        self.assertIn(('0x1234', '0xABCD', 'Example'), self.plist_readers()[1])

    def test_regenerate_if_local_without_lists_keeps_file(self):
        ino = os.stat(self.plist).st_ino
        self.ok('regenerate', '--if-local')
        self.assertEqual(os.stat(self.plist).st_ino, ino)

    def test_refuses_shipped_and_duplicates(self):
        self.fails('add', '08e6:3438', 'My name', msg='08e6:3438 already listed at')
        self.ok('add', '1234:abcd', 'Example')
        self.fails('add', '1234:ABCD', 'Again', msg='1234:abcd already listed at')
        self.fails('add', '--list', 'other.list', '1234:abcd', 'Again', msg='local.list:1')

    def test_refuses_malformed(self):
        self.fails('add', '123:abcd', 'Short', msg="expected VID:PID")
        self.fails('add', '1234:abcd', msg='give VID:PID NAME')
        self.fails('add', '1234:abcd', 'Tab\there', msg='control character')
        self.fails('add', '--list', '../escape.list', '1234:abcd', 'X', msg='plain file name')
        self.fails('add', '--from', '-', stdin='1234:abcd local Spaces not tabs\n',
                   msg='<stdin>:1: expected')
        self.fails('remove', 'zzzz:0001', msg='expected VID:PID')

    def test_bad_local_list_named_and_nothing_written(self):
        self.ok('add', '1234:abcd', 'Example')
        d = self.local_dir()
        with open(os.path.join(d, 'broken.list'), 'w') as f:
            f.write('# comment\n5555:0001\tlocal\tFine\n5555:0002 local Bad\n')
        err = self.fails('regenerate', msg='broken.list:3: expected')
        self.fails('add', '7777:0001', 'New', msg='broken.list:3')
        self.assertNotIn('7777', read(os.path.join(d, 'local.list')))
        self.fails('remove', '1234:abcd', msg='broken.list:3')
        with open(os.path.join(d, 'broken.list'), 'w') as f:
            f.write('5555:0001\tsupported\tNot local\n')
        self.fails('regenerate', msg='broken.list:1: status must be "local"')
        with open(os.path.join(d, 'broken.list'), 'wb') as f:
            f.write(b'5555:0001\tlocal\t\xff\n')
        self.fails('regenerate', msg='broken.list: not UTF-8')
        self.assertTrue(err)

    def test_atomic_write(self):
        os.chmod(self.plist, 0o600)
        ino = os.stat(self.plist).st_ino
        self.ok('add', '1234:abcd', 'Example')
        st = os.stat(self.plist)
        # a new file renamed over the old one (pcscd reading it sees the old
        # or the new file whole), readable by pcscd, no temporary left
        self.assertNotEqual(st.st_ino, ino)
        self.assertEqual(st.st_mode & 0o777, 0o644)
        contents = os.path.dirname(self.plist)
        self.assertEqual(sorted(os.listdir(contents)), ['Info.plist', 'Linux'])
        self.assertEqual(os.listdir(self.local_dir()), ['local.list'])
        # a write that fails half-way (file size limit) leaves the old
        # Info.plist whole and no temporary file
        with open(self.plist, 'wb') as f:
            f.write(self.shipped_plist)
        p = self.run_tool('regenerate', fsize=4096)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn('Info.plist: File too large', p.stderr)
        self.assertEqual(read(self.plist, 'rb'), self.shipped_plist)
        self.assertEqual(sorted(os.listdir(contents)), ['Info.plist', 'Linux'])
        # no bundle installed: a clear error, nothing created
        shutil.rmtree(os.path.dirname(contents) + '.moved', ignore_errors=True)
        os.rename(os.path.dirname(contents), os.path.dirname(contents) + '.moved')
        try:
            p = self.run_tool('regenerate')
            self.assertEqual(p.returncode, 1)
            self.assertIn('no openccid bundle installed there', p.stderr)
            self.assertFalse(os.path.exists(contents))
        finally:
            os.rename(os.path.dirname(contents) + '.moved', os.path.dirname(contents))


if __name__ == '__main__':
    unittest.main(verbosity=2)
