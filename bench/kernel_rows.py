#!/usr/bin/env python3
"""make bench-kernel: turn the cac-bench guest run (tests/kernel/run.py --out)
into benchmark rows in the table format of bench/bench.py.

usage: kernel_rows.py RUN.json OUT.json
Exit 1 if the run failed or a figure is missing (no row is made up)."""

import json
import platform
import re
import sys


def fmt(v):
    return "n/a" if v is None else ("%.2f" % v if isinstance(v, float) else str(v))


def print_table(rows, out):
    """The row layout of bench/bench.py's table (not imported: bench.py
    needs pyscard, this needs nothing)."""
    w = max(len(r["metric"]) for r in rows)
    hdr = "| %-*s | %10s | %10s | %6s | %-6s | %-3s |" % (
        w, "metric", "openccid", "libccid", "ratio", "target", "met")
    out.write(hdr + "\n|" + "|".join("-" * len(c) for c in hdr.split("|")[1:-1]) + "|\n")
    for r in rows:
        out.write("| %-*s | %10s | %10s | %6s | %-6s | %-3s |\n" % (
            w, r["metric"], fmt(r["openccid"]), fmt(r["libccid"]), fmt(r["ratio"]),
            r["target"], "-"))
    for r in rows:
        if r["note"]:
            out.write("- %s: %s\n" % (r["metric"], r["note"]))


def main():
    run_path, out_path = sys.argv[1], sys.argv[2]
    with open(run_path) as f:
        run = json.load(f)
    figs = {}
    hc = "?"
    for r in run["runs"]:
        hc = r["hc"]
        for line in r["results"]:
            # "<step> <driver> key=value ..."
            parts = line.split()
            if len(parts) < 3:
                continue
            for kv in parts[2:]:
                m = re.match(r"(\w+)=([0-9.]+)$", kv)
                if m:
                    figs[(parts[1], m.group(1))] = float(m.group(2))
    rows = []
    for key, name in (("ms_per_apdu", "guest (%s): ms per APDU, CAC SELECT, 200 on one connection"),
                      ("plug_ms", "guest (%s): plug -> first APDU, ms"),
                      ("listed_ms", "guest (%s): plug -> reader listed by pcscd, ms")):
        ov, lv = figs.get(("openccid", key)), figs.get(("libccid", key))
        rows.append({"metric": name % hc, "openccid": ov, "libccid": lv,
                     "ratio": round(ov / lv, 2) if ov and lv else None,
                     "target": "-", "met": None, "note": ""})
    rows[0]["note"] = ("QEMU usb-ccid + libcacard CAC in a TCG guest (Debian kernel, 1 vCPU): "
                       "the emulation dominates; compare the two drivers, not with the simulator")
    print_table(rows, sys.stdout)
    with open(out_path, "w") as f:
        json.dump({"rows": rows, "machine": platform.platform(), "run_failed": run["failed"]}, f,
                  indent=1)
    missing = [r["metric"] for r in rows if r["openccid"] is None or r["libccid"] is None]
    if run["failed"] or missing:
        print("bench-kernel: %d failed steps; missing: %s" % (run["failed"], ", ".join(missing)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
