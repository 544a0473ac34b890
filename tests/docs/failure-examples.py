#!/usr/bin/env python3
"""The failure diagnoses docs/scenarios.md shows are real output: every fenced block holding a
diagnosis table (a line starting "#   field     expected") must follow a line naming the
command that prints it (`build/scenario-tests --seed N FILE.pkt` prints:), and its lines
must be a run of that command's output, trailing spaces aside. A row added to the
diagnosis (peer, to, ...) then cannot leave the examples behind.

Prints "ok - ..." or one "not ok - ..." line per problem; exits 1 if any.
Usage: failure-examples.py [--root DIR] [FILE.md]
"""
import argparse
import os
import re
import subprocess
import sys

COMMAND = re.compile(r"`(build/scenario-tests --seed \d+ \S+\.pkt)` prints:")


def blocks(lines):
    """(start line number, the line before the fence, dedented lines) of each fenced block."""
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith("```"):
            indent = len(lines[i]) - len(lines[i].lstrip())
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i][indent:].rstrip())
                i += 1
            before = next((lines[j] for j in range(start - 2, -1, -1) if lines[j].strip()), "")
            yield start, before, body
        i += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "../..")))
    parser.add_argument("doc", nargs="?", default="docs/scenarios.md")
    args = parser.parse_args()
    with open(os.path.join(args.root, args.doc), encoding="utf-8") as f:
        lines = f.read().split("\n")
    problems, checked = [], 0
    for start, before, body in blocks(lines):
        if not any(line.startswith("#   field     expected") for line in body):
            continue
        m = COMMAND.search(before)
        if not m:
            problems.append("%s:%d: a failure example without the command that prints it "
                            "(`build/scenario-tests --seed N FILE.pkt` prints:)" % (args.doc, start))
            continue
        argv = m.group(1).split()
        out = subprocess.run(argv, cwd=args.root, capture_output=True, text=True).stdout
        real = [line.rstrip() for line in out.split("\n")]
        n = len(body)
        if not any(real[k:k + n] == body for k in range(len(real) - n + 1)):
            # Where it goes wrong: from the example's first line in the output, the first
            # line that differs (a row left out shows as the row after it).
            k = real.index(body[0]) if body and body[0] in real else 0
            j = next((j for j in range(n) if k + j >= len(real) or real[k + j] != body[j]), 0)
            actual = real[k + j] if k + j < len(real) else "(end of output)"
            problems.append("%s:%d: the example is not what `%s` prints: its line %r, the output's %r"
                            % (args.doc, start + j, m.group(1), body[j], actual))
        checked += 1
    for p in problems:
        print("not ok - %s" % p)
    if not problems:
        print("ok - %s: its %d failure examples are what their commands print" % (args.doc, checked))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
