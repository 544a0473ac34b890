#!/usr/bin/env python3
"""Every scenario script has its row: docs/scenarios.md's table under "## The scripts" names each
tests/scenarios/*.pkt (`| NAME | what it shows |`), and names no script that is not there. A
script added without a row is invisible to a reader choosing what to run; a row left behind
after a rename points at nothing. The runner's self-tests (selftest/) and pending/ are
described as directories, and tests/scenarios/with-faults/ has its own section, so only the
top level is checked.

Prints "ok - ..." or one "not ok - ..." line per problem; exits 1 if any.
Usage: scenario-rows.py [--root DIR]   (DIR defaults to the repository)
"""
import argparse
import glob
import os
import re
import sys

DOC = "docs/scenarios.md"
ROW = re.compile(r"^\| ([a-z0-9][a-z0-9-]*) \|")


def table_rows(path):
    """(line number, name) for each row of the table under "## The scripts"."""
    rows, inside = [], False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("## "):
                inside = line.strip() == "## The scripts"
            elif inside:
                m = ROW.match(line)
                if m and m.group(1) != "script":
                    rows.append((number, m.group(1)))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "../..")))
    root = os.path.abspath(parser.parse_args().root)
    scripts = sorted(os.path.basename(p)[:-len(".pkt")]
                     for p in glob.glob(os.path.join(root, "tests/scenarios/*.pkt")))
    rows = table_rows(os.path.join(root, DOC))
    named = [name for _, name in rows]
    problems = []
    for name in scripts:
        if name not in named:
            problems.append("%s: no row for tests/scenarios/%s.pkt in \"The scripts\"" % (DOC, name))
    seen = set()
    for number, name in rows:
        if name not in scripts:
            problems.append("%s:%d: row '%s' names no tests/scenarios/%s.pkt" % (DOC, number, name, name))
        elif name in seen:
            problems.append("%s:%d: row '%s' appears twice" % (DOC, number, name))
        seen.add(name)
    for p in problems:
        print("not ok - %s" % p)
    if not problems:
        print("ok - %s: every one of the %d scripts in tests/scenarios/ has one row in \"The scripts\""
              % (DOC, len(scripts)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
