#!/usr/bin/env python3
"""Run openccid's udev rules through the real udev: `udevadm test` on USB
devices described to it by umockdev, in a private mount namespace.

For every case of cases.py a umockdev testbed holds one USB device whose
sysfs 'descriptors' attribute carries real descriptor bytes, so udev's own
usb_id builtin (Debian's 50-udev-default.rules, copied in) computes
ID_USB_INTERFACES exactly as on a real machine; then only our rules run.
The mount namespace gives udevadm rule directories holding only those
files, a private /run/udev and /dev/char (udevadm test writes there) and,
if the pcscd group does not exist on this system, an /etc/group that has
it. Nothing outside the namespace is touched.

Needs root, unshare(1), mount(8), umockdev-run and udevadm. A missing tool
is a failure, and so is running without root: the test never skips.
Environment: top_srcdir, top_builddir (set by make check).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import CASES, descriptors, usb_interfaces  # noqa: E402

RULES = '92-openccid.rules'
ACTIVATE = '93-openccid-pcscd-activate.rules'
RULE_DIRS = ['/etc/udev/rules.d', '/run/udev/rules.d', '/usr/local/lib/udev/rules.d',
             '/usr/lib/udev/rules.d', '/lib/udev/rules.d']


def die(msg):
    print(f'FAIL: {msg}', file=sys.stderr)
    sys.exit(1)


def umockdev_text(devpath, busdev, vid, pid, ifaces):
    bus, dev = busdev
    lines = [f'P: {devpath}', f'N: bus/usb/{bus:03d}/{dev:03d}',
             f'E: DEVNAME=/dev/bus/usb/{bus:03d}/{dev:03d}', 'E: DEVTYPE=usb_device',
             'E: DRIVER=usb', f'E: PRODUCT={int(vid, 16):x}/{int(pid, 16):x}/100',
             'E: TYPE=0/0/0', f'E: BUSNUM={bus:03d}', f'E: DEVNUM={dev:03d}',
             'E: MAJOR=189', f'E: MINOR={(bus - 1) * 128 + dev - 1}', 'E: SUBSYSTEM=usb',
             f'A: idVendor={vid}', f'A: idProduct={pid}', 'A: bDeviceClass=00',
             f'A: bNumInterfaces= {len(ifaces)}', 'A: bConfigurationValue=1',
             'A: manufacturer=openccid test', 'A: product=udev test device',
             'A: serial=0001', f'A: busnum={bus}', f'A: devnum={dev}',
             'A: power/control=on', 'A: power/persist=1',
             'H: descriptors=' + descriptors(vid, pid, ifaces).hex(), '']
    for n, (c, s, p) in enumerate(ifaces):
        lines += [f'P: {devpath}/{devpath.rsplit("/", 1)[1]}:1.{n}', 'E: DEVTYPE=usb_interface',
                  f'E: INTERFACE={c}/{s}/{p}', 'E: SUBSYSTEM=usb',
                  f'A: bInterfaceClass={c:02x}', f'A: bInterfaceSubClass={s:02x}',
                  f'A: bInterfaceProtocol={p:02x}', f'A: bInterfaceNumber={n:02x}', '']
    return '\n'.join(lines)


def parse_udevadm(out):
    """(assignments [(file, key, value)], attribute writes {attr: value},
    properties {key: value}) from `udevadm test` output."""
    assigns, writes, props = [], {}, {}
    in_props = False
    for line in out.splitlines():
        m = re.search(r'/([^/ ]+\.rules):\d+ (GROUP|MODE|OWNER) (\S+)$', line)
        if m:
            assigns.append(m.groups())
        m = re.search(r"ATTR '([^']+)' writing '([^']*)'", line)
        if m:
            writes[m.group(1)] = m.group(2)
        if line.startswith('DEVPATH='):
            in_props = True
        if in_props and '=' in line:
            k, _, v = line.partition('=')
            props[k] = v
    return assigns, writes, props


def check_case(case, out, gid, activation):
    errs = []
    assigns, writes, props = parse_udevadm(out)
    if case.action != 'remove':
        want_if = usb_interfaces(case.ifaces)
        if props.get('ID_USB_INTERFACES') != want_if:
            errs.append(f'usb_id gave ID_USB_INTERFACES={props.get("ID_USB_INTERFACES")!r}, '
                        f'fixture wants {want_if!r} (test device broken?)')
    ours = [(k, v) for f, k, v in assigns if f == RULES]
    final = {}
    for _f, k, v in assigns:
        final[k] = v
    if case.reader:
        if ('GROUP', str(gid)) not in ours or ('MODE', '0660') not in ours:
            errs.append(f'{RULES} did not set GROUP {gid} and MODE 0660: {ours}')
        if final.get('GROUP') != str(gid) or final.get('MODE') != '0660':
            errs.append(f'final GROUP/MODE {final} is not {gid}/0660')
        if props.get('OPENCCID_READER') != '1':
            errs.append('OPENCCID_READER=1 not set')
    else:
        if ours:
            errs.append(f'{RULES} touched a device it must leave alone: {ours}')
        if 'OPENCCID_READER' in props:
            errs.append('OPENCCID_READER set on a non-reader')
    persist = any(a.endswith('/power/persist') and v == '0' for a, v in writes.items())
    control = any(a.endswith('/power/control') and v == 'auto' for a, v in writes.items())
    if persist != case.persist:
        errs.append(f'power/persist=0 written: {persist}, expected {case.persist}')
    if control != case.autosuspend:
        errs.append(f'power/control=auto written: {control}, expected {case.autosuspend}')
    if activation:
        wants = props.get('SYSTEMD_WANTS', '').split()
        tagged = 'systemd' in props.get('TAGS', '').split(':')
        if case.reader and not ('pcscd.socket' in wants and tagged):
            errs.append(f'activation rules: TAGS={props.get("TAGS")!r} '
                        f'SYSTEMD_WANTS={props.get("SYSTEMD_WANTS")!r}')
        if not case.reader and 'pcscd.socket' in wants:
            errs.append('activation rules want pcscd.socket for a non-reader')
    return errs


def inner(work):
    """Runs inside the private mount namespace."""
    with open(os.path.join(work, 'setup.json')) as f:
        setup = json.load(f)
    rules = os.path.join(work, 'rules')
    subprocess.run(['mount', '--make-rprivate', '/'], check=True)
    if not os.path.isdir('/run/udev'):
        # No udevd on this machine (a fresh container or CI host): give the
        # namespace a /run of its own rather than create a directory in
        # the host's /run.
        subprocess.run(['mount', '-t', 'tmpfs', 'openccid-test', '/run'], check=True)
        os.makedirs('/run/udev')
    subprocess.run(['mount', '-t', 'tmpfs', 'openccid-test', '/run/udev'], check=True)
    os.makedirs('/run/udev/rules.d', exist_ok=True)
    if os.path.isdir('/dev/char'):
        subprocess.run(['mount', '-t', 'tmpfs', 'openccid-test', '/dev/char'], check=True)
    for d in RULE_DIRS:
        if os.path.isdir(d):
            subprocess.run(['mount', '--bind', rules, d], check=True)
    if setup['group_file']:
        subprocess.run(['mount', '--bind', setup['group_file'], '/etc/group'], check=True)

    failures = 0
    n = 0
    for activation in (False, True):
        act_path = os.path.join(rules, ACTIVATE)
        if activation:
            shutil.copy(setup['activate'], act_path)
        elif os.path.exists(act_path):
            os.unlink(act_path)
        for i, case in enumerate(CASES):
            n += 1
            devpath = f'/devices/pci0000:00/0000:00:14.0/usb1/1-{i + 1}'
            dev = os.path.join(work, f'dev{i}.umockdev')
            with open(dev, 'w') as f:
                f.write(umockdev_text(devpath, (1, i + 2), case.vid, case.pid, case.ifaces))
            r = subprocess.run(['umockdev-run', '-d', dev, '--', 'udevadm', 'test',
                                '-a', case.action, '/sys' + devpath],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=120)
            label = f'{case.name}{" (+activation rules)" if activation else ""}'
            errs = [f'udevadm exited {r.returncode}'] if r.returncode else []
            errs += check_case(case, r.stdout, setup['gid'], activation)
            if errs:
                failures += 1
                print(f'not ok {n} - {label}')
                for e in errs:
                    print(f'#   {e}')
                print('#   --- udevadm output ---')
                for line in r.stdout.splitlines():
                    print(f'#   {line}')
            else:
                print(f'ok {n} - {label}')
    print(f'1..{n}')
    return 1 if failures else 0


def find_tool(name):
    path = shutil.which(name, path=os.environ.get('PATH', '') + ':/usr/sbin:/sbin:/bin')
    if not path:
        die(f'{name} not found; install it (scripts/install-deps: udev, umockdev, util-linux, mount)')
    return path


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--inner':
        return inner(sys.argv[2])
    for tool in ('udevadm', 'umockdev-run', 'unshare', 'mount'):
        find_tool(tool)
    if os.geteuid() != 0:
        die('needs root (a private mount namespace for udevadm)')
    srcdir = os.environ.get('top_srcdir', os.path.join(HERE, '..', '..'))
    builddir = os.environ.get('top_builddir', srcdir)
    rules_file = os.path.join(builddir, 'udev', RULES)
    activate = os.path.join(srcdir, 'udev', ACTIVATE)
    default_rules = next((os.path.join(d, '50-udev-default.rules') for d in RULE_DIRS[3:]
                          if os.path.exists(os.path.join(d, '50-udev-default.rules'))), None)
    for path, what in ((rules_file, 'run make first'), (activate, 'source tree incomplete'),
                       (default_rules, "udev's 50-udev-default.rules (package udev)")):
        if not path or not os.path.exists(path):
            die(f'missing {path or "50-udev-default.rules"} ({what})')
    with open(rules_file) as f:
        groups = set(re.findall(r'GROUP="([^"]+)"', f.read()))
    if len(groups) != 1:
        die(f'{rules_file}: expected one GROUP="..." value, found {sorted(groups)}')
    group = groups.pop()

    work = tempfile.mkdtemp(prefix='openccid-udev-')
    try:
        os.mkdir(os.path.join(work, 'rules'))
        shutil.copy(default_rules, os.path.join(work, 'rules'))
        shutil.copy(rules_file, os.path.join(work, 'rules'))
        group_file, gid = None, None
        with open('/etc/group') as f:
            etc_group = f.read()
        for line in etc_group.splitlines():
            fields = line.split(':')
            if len(fields) >= 3 and fields[0] == group:
                gid = int(fields[2])
        if gid is None:
            used = {int(ln.split(':')[2]) for ln in etc_group.splitlines()
                    if ln.count(':') >= 3 and ln.split(':')[2].isdigit()}
            gid = next(g for g in range(64900, 65500) if g not in used)
            group_file = os.path.join(work, 'group')
            with open(group_file, 'w') as f:
                f.write(etc_group.rstrip('\n') + f'\n{group}:x:{gid}:\n')
        with open(os.path.join(work, 'setup.json'), 'w') as f:
            json.dump({'gid': gid, 'group_file': group_file, 'activate': activate}, f)
        print(f'# group {group} = gid {gid}{" (namespace only)" if group_file else ""}; '
              f'udev {subprocess.run(["udevadm", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()}')
        r = subprocess.run(['unshare', '--mount', '--propagation', 'private', '--',
                            sys.executable, os.path.abspath(__file__), '--inner', work])
        return r.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
