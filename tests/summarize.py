#!/usr/bin/python3
"""Count results in meson's testlog.json and print 'N passed, N failed'.
node:test files count their leaf tests (the '# pass N' / '# fail N' totals of the
TAP reporter), GLib TAP tests count each 'ok'/'not ok' line, other tests count once.
A test that crashed or timed out after its last TAP line counts one more failure."""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")
NODE_TOTAL = re.compile(r"^# (pass|fail) (\d+)$", re.M)


def count(entry):
    out = entry.get("stdout") or ""
    passed = failed = 0
    totals = dict((k, int(v)) for k, v in NODE_TOTAL.findall(out))
    if totals:
        passed, failed = totals.get("pass", 0), totals.get("fail", 0)
    elif "TAP version" in out or re.search(r"^1\.\.\d+$", out, re.M):
        for line in out.splitlines():
            m = TAP.match(line)
            if not m:
                continue
            if "# SKIP" in m.group(2) or "# skip" in m.group(2):
                continue
            if m.group(1) == "ok":
                passed += 1
            else:
                failed += 1
    ok = entry.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    if passed + failed == 0:
        return (1, 0) if ok else (0, 1)
    if not ok and failed == 0:
        failed = 1  # crashed or timed out after its last TAP line
    return passed, failed


def main(path):
    passed = failed = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                p, q = count(json.loads(line))
                passed += p
                failed += q
    print(f"{passed} passed, {failed} failed")


if __name__ == "__main__":
    main(sys.argv[1])
