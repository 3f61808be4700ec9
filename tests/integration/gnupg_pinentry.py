#!/usr/bin/python3
"""A pinentry for tests: answers gpg-agent without a person.

gpg-agent runs it as its pinentry-program and talks the Assuan pinentry
protocol over stdin/stdout. Answers come from the JSON file named by
OPENCCID_PINENTRY_CONF (read at every GETPIN, so a test can change the
PINs between operations):

  {"pin": "123456", "admin": "12345678", "hold": "/path/of/a/file"}

"admin" answers prompts that mention the Admin PIN (or the Reset Code:
"reset"), "pin" all others. With "hold", GETPIN first creates HOLD.asked
and then waits (at most 30 s) until HOLD exists: the test can act (pull
the card) while an operation waits for its PIN. Every prompt is appended
to the file named by OPENCCID_PINENTRY_LOG.
"""

import json
import os
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
            text = (prompt + " " + desc).lower()
            if "admin" in text:
                kind = "admin"
            elif "reset code" in text:
                kind = "reset"
            else:
                kind = "pin"
            log("GETPIN kind=%s prompt=%r desc=%r" % (kind, prompt, desc))
            hold = c.get("hold")
            if hold:
                with open(hold + ".asked", "w") as f:
                    f.write(kind + "\n")
                deadline = time.monotonic() + 30
                while not os.path.exists(hold) and time.monotonic() < deadline:
                    time.sleep(0.05)
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
