#!/usr/bin/env python3
"""Docs match the code: every `tcplab` subcommand and flag that README.md or docs/**/*.md
mentions exists (asked from `build/tcplab --help` and `build/tcplab CMD --help`), and every
repository path they name exists. Prints "ok - ..." / "not ok - FILE:LINE: ..." lines.

What counts as a mention:
- a tcplab command line: in code (a fenced block, except ```text blocks of program output,
  or an inline code span), `tcplab WORD`
  (also `build/tcplab`, after `sudo`, `--`, `|`, ...) names a subcommand, and the `--flags`
  that follow it up to the end of that shell command belong to it; `make run ARGS="..."`
  passes its flags to `tcplab serve`;
- a flag named alone in an inline code span (`--msl 5`) must be a flag of some tcplab
  command or of the repository's other tools (tools/lab, build/scenario-tests), unless the
  line names another program (curl, ab, ip, ...), whose flags are not checked;
- a path starting with a top-level directory of the repository (stack/, http/, tools/,
  tests/, docs/) or a Markdown link target must exist (globs must match something; a module
  named without its extension, like stack/loop/event_loop, must have a source file); build/
  outputs are not checked; a relative path that climbs with ../ must lead to something in
  the repository: the repository stands alone, so nothing may point outside it;
- a fault's pcapng comment quoted in an inline code span (`fault injector: dropped (...)`)
  must be in the words the writer uses: "fault injector: " and the start of a report made
  in stack/link/fault_injector.cpp.

Usage: check-docs.py [--root DIR] [--tcplab BIN] [FILE.md...]   (default: README.md docs/**/*.md)
"""
import argparse
import glob
import os
import re
import subprocess
import sys

OTHER_PROGRAMS = re.compile(
    r"\b(curl|ab|ip|wrk|nc|ncat|ss|ping|python3?|tcpdump|tshark|wireshark|chromium|gdb|"
    r"strace|clang-format|git|iperf3?)\b"
)
ROOT_DIRS = ("stack", "http", "tools", "tests", "docs")
PATH_RE = re.compile(r"(?<![\w./:@-])((?:%s)/[\w.*/+-]*)" % "|".join(ROOT_DIRS))
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A relative path that climbs (../x, ../../docs/y.md) outside a Markdown link target.
CLIMB_RE = re.compile(r"(?<![\w./-])((?:\.\./)+[\w.*/+-]*)")
FLAG_RE = re.compile(r"(?<![\w-])(--[a-z][\w.-]*)")
# Where a shell command ends: pipes, lists, comments, a "then" in a prose-like code line.
SEGMENT_END = re.compile(r"\s\|\s|\|\||&&|;|\s#\s|\s{2,}then\s|\)")
# What may come right before `tcplab` for it to be the start of a command.
COMMAND_START = re.compile(
    r"(^|\bsudo|--|\$|\||;|&&|\bexec|\brun|\btime|\btimeout\s+\S+|\benv(\s+\w+=\S*)*|\bthen|\()\s*$"
)
TCPLAB_RE = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*tcplab)(?=\s)\s+(\S+)")


def run_help(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return out.stdout + out.stderr, None


def tcplab_interface(binary):
    """{command: set(flags)} from the binary's own help, plus the global flags under ''."""
    text, err = run_help([binary, "--help"])
    if text is None:
        sys.exit("not ok - cannot run %s --help: %s" % (binary, err))
    commands = {"": {"--help", "--version", "-h", "-V"}}
    in_commands = False
    for line in text.splitlines():
        if line.strip() == "commands:":
            in_commands = True
            continue
        if in_commands:
            m = re.match(r"^  ([a-z][\w-]*)\s", line)
            if not m:
                break
            commands[m.group(1)] = set()
    if len(commands) == 1:
        sys.exit("not ok - %s --help lists no commands" % binary)
    for cmd in list(commands):
        if not cmd:
            continue
        text, err = run_help([binary, cmd, "--help"])
        if text is None:
            sys.exit("not ok - cannot run %s %s --help: %s" % (binary, cmd, err))
        flags = {"--help", "-h"}
        for line in text.splitlines():
            m = re.match(r"^  (-{1,2}[\w.-]+)", line)
            if m:
                flags.add(m.group(1))
        commands[cmd] = flags
    # `tcplab help COMMAND` shows COMMAND's help, when the top-level help says it does.
    top, _ = run_help([binary, "--help"])
    if "tcplab help COMMAND" in top:
        commands["help"] = set()
    return commands


def other_tool_flags(root):
    flags = set()
    for argv in ([os.path.join(root, "tools/lab"), "--help"], [os.path.join(root, "build/scenario-tests"), "--help"]):
        if os.path.exists(argv[0]):
            text, _ = run_help(argv)
            if text:
                flags.update(FLAG_RE.findall(text))
    return flags


# A code span that quotes a fault's pcapng comment, however it is worded.
FAULT_COMMENT_RE = re.compile(r"^(fault injector|injected fault)\b")


def fault_reports(root):
    """The words each fault report of the injector starts with: "dropped", "duplicated", ..."""
    with open(os.path.join(root, "stack/link/fault_injector.cpp"), encoding="utf-8") as f:
        return set(re.findall(r'report\(now, d,\s*"([a-z]+)', f.read()))


class Checker:
    def __init__(self, root, commands, other_flags):
        self.root = root
        self.fault_reports = fault_reports(root)
        self.commands = commands
        self.all_tcplab_flags = set().union(*commands.values())
        self.other_flags = other_flags
        self.problems = []
        self.checked = 0

    def problem(self, where, text):
        self.problems.append("%s: %s" % (where, text))

    # --- tcplab command lines -------------------------------------------------------
    def check_command_lines(self, where, code):
        """`code` is the text of one code line or one inline span (continuations joined)."""
        for m in TCPLAB_RE.finditer(code):
            before = code[: m.start()]
            if not COMMAND_START.search(before):
                continue
            word = m.group(2).strip("`'\",")
            rest = code[m.end(2):]
            end = SEGMENT_END.search(rest)
            segment = rest[: end.start()] if end else rest
            if word.startswith("-"):
                cmd, segment = "", word + " " + segment
            elif re.fullmatch(r"[a-z][\w-]*", word):
                cmd = word
                self.checked += 1
                if cmd not in self.commands:
                    self.problem(where, "unknown tcplab subcommand '%s' (tcplab --help lists: %s)"
                                 % (cmd, ", ".join(sorted(c for c in self.commands if c))))
                    continue
            else:
                continue  # a placeholder like COMMAND or CMD
            for flag in FLAG_RE.findall(segment):
                self.check_flag(where, cmd, flag)

    def check_flag(self, where, cmd, flag):
        self.checked += 1
        if flag not in self.commands[cmd]:
            name = "tcplab " + cmd if cmd else "tcplab"
            self.problem(where, "unknown flag '%s' for %s (not in `%s --help`)" % (flag, name, name))

    def check_make_run(self, where, code):
        m = re.search(r"\bmake\s+run\s+ARGS=(\"[^\"]*\"|'[^']*'|\S+)", code)
        if m:
            for flag in FLAG_RE.findall(m.group(1)):
                self.check_flag(where, "serve", flag)

    # --- flags named alone ----------------------------------------------------------
    def check_lone_flag(self, where, span, line):
        m = re.fullmatch(r"(--[a-z][\w.-]*)(?:[ =].*)?", span.strip())
        if not m:
            return
        flag = m.group(1)
        if OTHER_PROGRAMS.search(line.replace(span, "")):
            return  # the line is about another program's flags
        self.checked += 1
        if flag not in self.all_tcplab_flags and flag not in self.other_flags:
            self.problem(where, "flag '%s' is not a flag of any tcplab command (nor of tools/lab or "
                                "scenario-tests)" % flag)

    # --- paths --------------------------------------------------------------------
    def check_paths(self, where, doc, line):
        for m in CLIMB_RE.finditer(LINK_RE.sub("", line)):
            token = m.group(1).rstrip(".,:;")
            path = os.path.normpath(os.path.join(os.path.dirname(doc), token))
            self.checked += 1
            if path.startswith("..") or not os.path.exists(os.path.join(self.root, path)):
                self.problem(where, "'%s' leads outside the repository or to nothing; the repository must "
                                    "stand alone" % token)
        for target in LINK_RE.findall(line):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(doc), target.split("#")[0]))
            self.checked += 1
            if not os.path.exists(os.path.join(self.root, path)):
                self.problem(where, "link target '%s' does not exist (%s)" % (target, path))
        for m in PATH_RE.finditer(line):
            path = m.group(1).rstrip(".,:;")
            self.checked += 1
            full = os.path.join(self.root, path)
            if "*" in path:
                if not glob.glob(full, recursive=True):
                    self.problem(where, "no file matches '%s'" % path)
            elif not os.path.exists(full) and not glob.glob(glob.escape(full) + ".*"):
                # A module or program named without its extension (stack/loop/event_loop,
                # tests/clients/raw_inject) is fine when its source exists.
                self.problem(where, "path '%s' does not exist" % path)

    # --- one document ---------------------------------------------------------------
    def check_doc(self, doc):
        with open(os.path.join(self.root, doc), encoding="utf-8") as f:
            lines = f.read().split("\n")
        in_fence = False
        output_fence = False  # ```text blocks hold a program's output, not commands to type
        pending = ""  # a code line continued with a backslash
        pending_where = ""
        for number, line in enumerate(lines, 1):
            where = "%s:%d" % (doc, number)
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                output_fence = in_fence and line.strip()[3:].strip() == "text"
                continue
            self.check_paths(where, doc, line)
            if in_fence and output_fence:
                continue
            if in_fence:
                if line.rstrip().endswith("\\"):
                    pending += line.rstrip()[:-1] + " "
                    pending_where = pending_where or where
                    continue
                code = pending + line
                code_where = pending_where or where
                pending, pending_where = "", ""
                self.check_command_lines(code_where, code)
                self.check_make_run(code_where, code)
                continue
            for span in re.findall(r"``?([^`]+)``?", line):
                self.check_command_lines(where, span)
                self.check_make_run(where, span)
                if not TCPLAB_RE.search(span):
                    self.check_lone_flag(where, span, line)
                self.check_fault_comment(where, span)

    def check_fault_comment(self, where, span):
        if not FAULT_COMMENT_RE.match(span):
            return
        self.checked += 1
        words = re.match(r"fault injector: ([a-z]+)", span)
        if not words or words.group(1) not in self.fault_reports:
            self.problem(where, "`%s` is not a comment tcplab writes (it writes \"fault injector: \" "
                         "and one of: %s)" % (span, ", ".join(sorted(self.fault_reports))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "../..")))
    parser.add_argument("--tcplab", default=None)
    parser.add_argument("docs", nargs="*")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    binary = args.tcplab or os.path.join(root, "build/tcplab")
    if not os.access(binary, os.X_OK):
        print("not ok - docs check: %s not built (run make)" % binary)
        return 1
    docs = args.docs or (["README.md"] + sorted(
        os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs/**/*.md"), recursive=True)))
    checker = Checker(root, tcplab_interface(binary), other_tool_flags(root))
    failed = False
    for doc in docs:
        before_problems, before_checked = len(checker.problems), checker.checked
        checker.check_doc(doc)
        new = checker.problems[before_problems:]
        for p in new:
            print("not ok - %s" % p)
        if not new:
            print("ok - %s: every tcplab command, flag and path it names exists (%d checked)"
                  % (doc, checker.checked - before_checked))
        failed = failed or bool(new)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
