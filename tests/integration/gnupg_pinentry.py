#!/usr/bin/python3
"""A pinentry for tests: answers gpg-agent without a person.

gpg-agent runs it as its pinentry-program and talks the Assuan pinentry
protocol over stdin/stdout. Answers come from the JSON file named by
OPENCCID_PINENTRY_CONF (read at every GETPIN, so a test can change the
PINs between operations):

  {"pin": "123456", "admin": "12345678", "hold": "/path/of/a/file",
   "pinpad_control": "/path/of/sim.ctl"}

"admin" answers prompts that mention the Admin PIN (or the Reset Code:
"reset"), "pin" all others. With "hold", GETPIN first creates HOLD.asked
and then waits (at most 30 s) until HOLD exists: the test can act (pull
the card) while an operation waits for its PIN. Every prompt is appended
to the file named by OPENCCID_PINENTRY_LOG.

PIN pad readers: when scdaemon verifies on the reader's pinpad, gpg-agent
shows a message instead of asking for the PIN (SETDESC "... Use the
reader's pinpad for input.", then CONFIRM --one-button, dismissed by the
agent when the reader is done). With "pinpad_control" (the simulator's
control socket) this pinentry then plays the user at the keypad: at that
SETDESC, before the agent lets scdaemon send PC_to_RDR_Secure, it types
the PIN of that kind into the simulated pinpad (`pinpad-digits PIN`, or
`pinpad-cancel` when the kind has no PIN). It never sends a PIN back to
the agent on that path; the log says "PINPAD kind=...".
"""

import json
import os
import socket
import sys
import time


def log(msg):
    path = os.environ.get("OPENCCID_PINENTRY_LOG")
    if path:
        with open(path, "a") as f:
            f.write(msg + "\n")


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "%" and i + 3 <= len(s):
            try:
                out.append(chr(int(s[i + 1:i + 3], 16)))
                i += 3
                continue
            except ValueError:
                pass
        out.append(s[i])
        i += 1
    return "".join(out)


def escape(s):
    return "".join("%%%02X" % ord(c) if c in "%\r\n" else c for c in s)


def conf():
    path = os.environ.get("OPENCCID_PINENTRY_CONF")
    if not path:
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        log("cannot read %s: %s" % (path, e))
        return {}


def kind_of(text):
    text = text.lower()
    if "admin" in text:
        return "admin"
    if "reset code" in text:
        return "reset"
    return "pin"


def hold(c, kind):
    """With "hold": wait (at most 30 s) until the test creates that file."""
    path = c.get("hold")
    if not path:
        return
    with open(path + ".asked", "w") as f:
        f.write(kind + "\n")
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def type_on_pinpad(c, desc):
    """The user reads the pinpad prompt and types on the simulated keypad."""
    kind = kind_of(desc)
    value = c.get(kind)
    log("PINPAD kind=%s desc=%r" % (kind, desc))
    hold(c, kind)
    cmd = "pinpad-digits %s" % value if value else "pinpad-cancel"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(c["pinpad_control"])
        s.sendall((cmd + "\n").encode())
        reply = s.makefile().readline().strip()
    finally:
        s.close()
    if not reply.startswith("ok"):
        log("simulator refused %s: %r" % (cmd.split()[0], reply))


def main():
    out = sys.stdout
    desc = prompt = ""

    def send(line):
        out.write(line + "\n")
        out.flush()

    send("OK openccid test pinentry")
    for raw in sys.stdin:
        line = raw.rstrip("\n")
        cmd, _, arg = line.partition(" ")
        cmd = cmd.upper()
        if cmd == "SETDESC":
            desc = unescape(arg)
            c = conf()
            if c.get("pinpad_control") and "pinpad" in desc.lower():
                try:
                    type_on_pinpad(c, desc)
                except OSError as e:
                    log("cannot reach the simulated pinpad: %s" % e)
            send("OK")
        elif cmd == "SETPROMPT":
            prompt = unescape(arg)
            send("OK")
        elif cmd == "GETINFO":
            if arg == "pid":
                send("D %d" % os.getpid())
            elif arg == "version":
                send("D 1.0.0")
            elif arg == "flavor":
                send("D openccid-test")
            send("OK")
        elif cmd == "GETPIN":
            c = conf()
            kind = kind_of(prompt + " " + desc)
            log("GETPIN kind=%s prompt=%r desc=%r" % (kind, prompt, desc))
            hold(c, kind)
            value = c.get(kind)
            if value is None:
                send("ERR 83886179 Operation cancelled <Pinentry>")
            else:
                send("D " + escape(value))
                send("OK")
        elif cmd in ("CONFIRM", "MESSAGE"):
            log("%s desc=%r" % (cmd, desc))
            send("OK")
        elif cmd == "BYE":
            send("OK closing connection")
            return
        else:
            # OPTION, SETTITLE, SETKEYINFO, SETREPEAT, SETQUALITYBAR, ...
            send("OK")


if __name__ == "__main__":
    main()
