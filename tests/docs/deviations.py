#!/usr/bin/env python3
"""Every deliberate departure in the code is in the map, and the other way round.

In the code (every file under stack/, http/, tools/), a departure is a comment that starts
with the word Deviation followed by a short id in parentheses:

    // Deviation (fin-beyond-hole): a FIN that arrives beyond a hole is not remembered ...

In docs/rfc-map.md, the section whose heading starts "## Deliberate departures" lists each id
once, with the files that carry it:

    - `fin-beyond-hole` (`stack/tcp/connection_input.cpp`): A FIN that arrives beyond ...

Checked: every comment that names Deviation has an id; every id in the code is listed; every
listed id is in the code; every listed file exists and carries that id, and every file that
carries an id is listed with it; no id is listed twice. Only comments count (`//` or `#` before
the word on its line), so a trace message quoting "Deviation: ..." is not a marker.

Prints "ok - ..." or one "not ok - ..." line per problem; exits 1 if any.
Usage: deviations.py [--root DIR]   (DIR defaults to the repository)
"""
import argparse
import os
import re
import sys

CODE_DIRS = ("stack", "http", "tools")
MAP = "docs/rfc-map.md"
ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
# A comment opener, then anything, then the capitalised word.
COMMENT_WORD = re.compile(r"(//|#|/\*).*?\bDeviation\b")
MARKER = re.compile(r"\bDeviation \((%s)\)" % ID)
SECTION = re.compile(r"^## Deliberate departures")
ENTRY = re.compile(r"^- `(%s)` \(([^)]*)\):" % ID)


def code_markers(root):
    """({id: {file: [line, ...]}}, [problem, ...]) from the comments under CODE_DIRS."""
    found, problems = {}, []
    for top in CODE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                try:
                    with open(path, encoding="utf-8") as f:
                        lines = f.read().splitlines()
                except (UnicodeDecodeError, OSError):
                    continue  # binaries
                for number, line in enumerate(lines, 1):
                    if not COMMENT_WORD.search(line):
                        continue
                    words = line.count("Deviation")
                    ids = MARKER.findall(line)
                    if len(ids) < words:
                        problems.append("%s:%d: a Deviation comment without an id: write "
                                        "`Deviation (some-id): ...` and list some-id in %s"
                                        % (rel, number, MAP))
                    for i in ids:
                        found.setdefault(i, {}).setdefault(rel, []).append(number)
    return found, problems


def map_entries(root):
    """({id: [file, ...]}, [problem, ...]) from the deviations section of the map."""
    entries, problems = {}, []
    path = os.path.join(root, MAP)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return entries, ["%s: cannot read: %s" % (MAP, e)]
    in_section = False
    seen_section = False
    for number, line in enumerate(lines, 1):
        if line.startswith("## "):
            in_section = bool(SECTION.match(line))
            seen_section = seen_section or in_section
            continue
        if not in_section or not line.startswith("- "):
            continue
        m = ENTRY.match(line)
        if not m:
            problems.append("%s:%d: a deviation entry must read - `some-id` (`file`, ...): text"
                            % (MAP, number))
            continue
        ident, files = m.group(1), re.findall(r"`([^`]+)`", m.group(2))
        if ident in entries:
            problems.append("%s:%d: `%s` is listed twice" % (MAP, number, ident))
            continue
        if not files:
            problems.append("%s:%d: `%s` names no file" % (MAP, number, ident))
        entries[ident] = files
    if not seen_section:
        problems.append("%s: no section starting \"## Deliberate departures\"" % MAP)
    return entries, problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    root = os.path.normpath(parser.parse_args().root)
    code, problems = code_markers(root)
    listed, map_problems = map_entries(root)
    problems += map_problems
    for ident in sorted(code):
        where = ", ".join("%s:%d" % (f, ls[0]) for f, ls in sorted(code[ident].items()))
        if ident not in listed:
            problems.append("Deviation (%s) at %s is not listed in %s" % (ident, where, MAP))
            continue
        for f in sorted(set(code[ident]) - set(listed[ident])):
            problems.append("Deviation (%s) at %s:%d: %s does not name that file"
                            % (ident, f, code[ident][f][0], MAP))
    for ident in sorted(listed):
        if ident not in code:
            problems.append("%s lists `%s`, but no comment in %s says Deviation (%s)"
                            % (MAP, ident, "/, ".join(CODE_DIRS) + "/", ident))
            continue
        for f in listed[ident]:
            if f not in code[ident]:
                problems.append("%s lists `%s` in %s, which has no Deviation (%s) comment"
                                % (MAP, ident, f, ident))
    for p in problems:
        print("not ok - " + p)
    if problems:
        return 1
    comments = sum(len(ls) for files in code.values() for ls in files.values())
    print("ok - every Deviation comment in %s/ has an id listed in %s, and every listed id is "
          "in the code (%d ids, %d comments)" % ("/, ".join(CODE_DIRS), MAP, len(code), comments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
