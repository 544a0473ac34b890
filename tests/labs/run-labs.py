#!/usr/bin/env python3
"""Runs every lab's commands as written and checks their expected output (make test).

A lab block is a fenced code block whose info string is `lab`:

    ```lab
    $ build/tcplab script tests/scenarios/passive-open.pkt
    ok - passive-open
    $ sudo tools/lab --name lab01 run -- build/tcplab serve --trace &
    tcplab: up on tcplab0, stack 192.0.2.2, host 192.0.2.1/24
    ...
    ```

Lines starting with `$ ` are commands, run from the repository root in one bash session per
block, in order (a leading `sudo ` is dropped: the tests already run as root); each must exit 0. The lines after
a command are what its output must contain: each one must match a whole output line, in that
order, with lines in between allowed. Inside an expected line `...` matches any text (times,
ports, random numbers): timing-dependent lines are written loosely, exact ones exactly.

A command ending in ` &` runs in the background (a server in a second terminal): the runner
waits until its output has a line starting `tcplab: up on` (at most 10 s: a server that never
comes up fails the block), checks its expected
lines when the block ends, then stops it by PID. Every `tools/lab --name NAME` namespace a
block used is removed at the end of the block, pass or fail.

Prints one `ok - FILE: block N` or `not ok - ...` line per block.

A directory with a README.md that tables its labs (`| [01-handshake](01-handshake.md) | topic |
needs root? | time |`) also has that table checked against the labs' own blocks, before any
command runs (`--claims` checks only that): "yes" means the first block needs root (a `sudo`
command), "no" that it does not, and "root for the live part" that a later block does; the
README's "every lab's first part works with `build/tcplab script`" must hold for every lab.
"""
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def blocks(path):
    """Yields (first line number, [lines]) for each ```lab block in a markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```lab":
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            yield start + 1, lines[start:j]
            i = j
        i += 1


def steps(block):
    """[(command, [expected lines])]"""
    out = []
    for line in block:
        if line.startswith("$ "):
            out.append([line[2:], []])
        elif out and line.strip():
            out[-1][1].append(line.rstrip())
    return out


def pattern(expected):
    parts = [re.escape(p) for p in expected.split("...")]
    return re.compile("^" + ".*".join(parts) + r"\s*$")


def missing(expected, output):
    """The first expected line not found (in order) in output, or None."""
    lines = output.split("\n")
    at = 0
    for e in expected:
        rx = pattern(e)
        while at < len(lines) and not rx.match(lines[at].rstrip()):
            at += 1
        if at == len(lines):
            return e
        at += 1
    return None


def strip_sudo(command):
    return command[5:] if command.startswith("sudo ") else command


def needs_root(block):
    return any(command.startswith("sudo ") for command, _ in steps(block))


def claim_problems(directory):
    """What the README's labs table (and its no-root sentence) says that the labs contradict;
    None if the directory has no such table."""
    readme = os.path.join(directory, "README.md")
    if not os.path.exists(readme):
        return None
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r"^\| \[[^]]+\]\(([^)]+\.md)\) \|[^|]*\|([^|]*)\|", text, re.M)
    if not rows:
        return None
    problems = []
    every_first_part = re.search(r"every lab's first part works with\s+`build/tcplab script`", text)
    for lab, column in rows:
        column = column.strip()
        found = [b for _, b in blocks(os.path.join(directory, lab))]
        if not found:
            problems.append("%s: the table lists it, but it has no lab blocks" % lab)
            continue
        first_root = needs_root(found[0])
        later_root = any(needs_root(b) for b in found[1:])
        if column.startswith("yes") != first_root or column.startswith("no") == first_root:
            problems.append("%s: the table says %r, but its first part %s root" %
                            (lab, column, "needs" if first_root else "does not need"))
        elif not first_root and ("root for" in column) != later_root:
            problems.append("%s: the table says %r, but %s later part needs root" %
                            (lab, column, "a" if later_root else "no"))
        if every_first_part and (first_root or not any(c.startswith("build/tcplab script")
                                                       for c, _ in steps(found[0]))):
            problems.append("%s: README.md says every lab's first part works with `build/tcplab script`,"
                            " but this one's does not" % lab)
    return problems


def run_block(path, lineno, block, env):
    background = []  # (Popen, log path, expected, command)
    names = set()
    problems = []
    try:
        for command, expected in steps(block):
            names.update(re.findall(r"tools/lab --name (\S+)", command))
            cmd = strip_sudo(command)
            if cmd.endswith(" &"):
                log = tempfile.NamedTemporaryFile(delete=False, prefix="lab-bg-")
                proc = subprocess.Popen(["bash", "-c", "exec " + cmd[:-2]], cwd=ROOT, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                background.append((proc, log.name, expected, command))
                deadline = time.time() + 10
                up = False
                while not up and time.time() < deadline and proc.poll() is None:
                    with open(log.name, errors="replace") as f:
                        up = any(l.startswith("tcplab: up on") for l in f)
                    if not up:
                        time.sleep(0.05)
                if not up:
                    problems.append("`%s` (background) did not print 'tcplab: up on' within 10 s" % command)
                    break
                continue
            try:
                done = subprocess.run(["bash", "-c", cmd], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=180)
                output = done.stdout.decode(errors="replace")
            except subprocess.TimeoutExpired:
                problems.append("`%s` did not finish within 180 s" % command)
                break
            if done.returncode != 0:
                problems.append("`%s` exited %d; it printed:\n%s" % (command, done.returncode, indent(output)))
                break
            gone = missing(expected, output)
            if gone is not None:
                problems.append("`%s`: expected a line like %r; it printed:\n%s" % (command, gone, indent(output)))
                break
    finally:
        for proc, log, expected, command in background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            with open(log, errors="replace") as f:
                output = f.read()
            os.unlink(log)
            gone = missing(expected, output)
            if gone is not None and not problems:
                problems.append("`%s` (background): expected a line like %r; it printed:\n%s"
                                % (command, gone, indent(output)))
        for name in names:
            subprocess.run([os.path.join(ROOT, "tools", "lab"), "--name", name, "down"], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return problems


def indent(text, limit=40):
    lines = text.rstrip("\n").split("\n")
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more lines)" % (len(lines) - limit)]
    return "\n".join("#   " + l for l in lines)


def main():
    args = sys.argv[1:]
    # --expect-fail: every block must fail (the runner's own self-test: a check that cannot
    # fail is no check).
    expect_fail = "--expect-fail" in args
    claims_only = "--claims" in args
    args = [a for a in args if a not in ("--expect-fail", "--claims")]
    files = []
    failures = 0
    count = 0
    for a in args or [os.path.join(ROOT, "docs", "labs")]:
        if not os.path.isdir(a):
            files.append(a)
            continue
        files += sorted(glob.glob(os.path.join(a, "*.md")))
        problems = claim_problems(a)
        if problems is None:
            continue
        count += 1
        rel = os.path.relpath(os.path.join(a, "README.md"), ROOT)
        if problems:
            failures += 1
            print("not ok - %s: the labs table agrees with the labs" % rel)
            for p in problems:
                print("# " + p)
        else:
            print("ok - %s: the labs table agrees with the labs" % rel)
    if claims_only:
        files = []
    env = dict(os.environ, NO_COLOR="1")
    for path in files:
        rel = os.path.relpath(path, ROOT)
        for n, (lineno, block) in enumerate(blocks(path), 1):
            count += 1
            problems = run_block(path, lineno, block, env)
            if expect_fail:
                if problems:
                    print("ok - %s:%d: lab block %d fails as it must" % (rel, lineno, n))
                else:
                    failures += 1
                    print("not ok - %s:%d: lab block %d passed but must fail" % (rel, lineno, n))
                continue
            if problems:
                failures += 1
                print("not ok - %s:%d: lab block %d" % (rel, lineno, n))
                for p in problems:
                    print("# " + p)
            else:
                print("ok - %s:%d: lab block %d" % (rel, lineno, n))
    if count == 0:
        print("not ok - no lab blocks found")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
