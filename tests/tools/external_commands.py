#!/usr/bin/env python3
"""Checks that every external command the project's scripts run is installed by its install scripts.

Scans the bash scripts (*.sh, *.bash), Python files and C++ tests' std::system/popen/sh("...") calls under tests/, scripts/, bench/ and .ci/ for the
commands they run, maps each command to the Debian package that provides it (COMMAND_PACKAGES below) and
compares with the PACKAGES lists of scripts/install-deps.sh and bench/install-bench-deps.sh. Fails (exit 1)
naming the file, line and command when
  - a command's package is in neither list (e.g. `jq` used by a test, not installed: issue 15), or
  - a command is not known at all: neither a shell builtin, an Essential/minbase tool, a function or
    project program, nor in COMMAND_PACKAGES (add it there with its package, and to an install script).
Python: `import X` of a module outside the standard library, and subprocess calls with a literal program.

Usage: external_commands.py [ROOT]            check the tree at ROOT (default: this file's ../..)
       external_commands.py --self-test ROOT  prove the check catches planted undeclared commands
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Commands from packages outside Debian 12's minbase: each must be in an install script's PACKAGES.
COMMAND_PACKAGES = {
    "cmake": "cmake", "ctest": "cmake", "ninja": "ninja-build", "pkg-config": "pkg-config",
    "ccache": "ccache", "gcc": "build-essential", "g++": "build-essential", "make": "build-essential",
    "c++": "build-essential", "cc": "build-essential", "nm": "build-essential", "ar": "build-essential",
    "clang": "clang", "clang++": "clang", "llvm-symbolizer": "llvm-14",
    "jq": "jq", "kcat": "kcat", "xxd": "xxd", "openssl": "openssl",
    "python3": "python3", "git": "git",
    "hyperfine": "hyperfine", "time": "time", "perf": "linux-perf",
    "redis-server": "redis-server", "redis-cli": "redis-tools", "redis-benchmark": "redis-tools",
    "nats-server": "nats-server",
    "ps": "procps", "pgrep": "procps", "pkill": "procps", "nc": "netcat-openbsd", "ss": "iproute2",
    "curl": "curl", "wget": "wget", "strace": "strace", "gdb": "gdb", "valgrind": "valgrind",
    "bc": "bc", "file": "file", "hexdump": "bsdextrautils", "column": "bsdextrautils",
    "sudo": "sudo", "debootstrap": "debootstrap", "lsof": "lsof", "fuser": "psmisc",
}
# Python modules from Debian packages (anything else must be in the standard library).
PYTHON_MODULES = {"kafka": "python3-kafka", "confluent_kafka": "python3-confluent-kafka"}

# Shell keywords and builtins, and tools every Debian 12 minbase system has (Essential or Priority:
# required packages: coreutils, util-linux, findutils, grep, sed, mawk, gzip, tar, diffutils, dpkg, apt,
# libc-bin, debianutils, hostname, perl-base, bash). These need no PACKAGES entry.
SHELL_BUILTINS = set("""
if then else elif fi for while until do done case esac in function select time coproc
echo printf read cd pwd set unset export local declare typeset readonly return exit trap wait kill shift
source . eval exec test [ [[ ]] true false type command builtin hash ulimit umask jobs disown let
getopts mapfile readarray pushd popd dirs shopt enable caller alias unalias bg fg suspend logout break
continue : !
""".split())
BASE_TOOLS = set("""
cat cp mv rm mkdir rmdir ls ln stat touch head tail sort uniq wc cut tr tee seq date sleep mktemp realpath
readlink dirname basename nproc timeout sync env nice nohup chmod chown df du dd od truncate fold paste
join comm split csplit expr factor yes id whoami uname tty stty sha256sum sha1sum md5sum b2sum cksum
base64 numfmt shuf tac nl fmt pr printenv install mkfifo mknod shred sum tsort unlink stdbuf chroot
grep egrep fgrep sed awk mawk find xargs gzip gunzip zcat tar cmp diff diff3 sdiff
dpkg dpkg-query apt-get apt-cache apt getconf ldd which hostname perl
setsid flock taskset kill mount umount logger more script renice ionice nsenter unshare
bash sh dash
""".split())

SCAN_DIRS = ("tests", "scripts", "bench", ".ci")
SEPARATORS = re.compile(r"\|\||&&|;;|\$\(|[|;&(){}`\n]|\bthen\b|\bdo\b|\belse\b|!\s")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
FUNCTION_DEF = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][\w:-]*)\s*\(\)")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")
ABSOLUTE_TOOL = re.compile(r"(?<![\w./-])/(?:usr/)?s?bin/([A-Za-z0-9_.+-]+)")
DEFAULT_VALUE = re.compile(r"\$\{[A-Za-z_]\w*:-([A-Za-z][\w.+-]*)\}")
PY_IMPORT = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)")
# C++ tests that shell out: std::system("cmd ..."), popen("cmd ...") or a helper sh(dir, "cmd ...").
CXX_SHELL = re.compile(r"\b(?:std::system|popen|sh)\((?:[^;\"]*?,)?\s*\"([A-Za-z][\w.+-]*)[ \"]")
PY_SUBPROCESS = re.compile(r"subprocess\.\w+\(\s*\[\s*['\"]([^'\"$/ ]+)['\"]")
# Words that precede the real command: `timeout 5 jq`, `env X=1 jq`, `nice -n 10 jq`, `command -v jq`.
PREFIX_COMMANDS = {"timeout", "env", "nice", "nohup", "command", "exec", "setsid", "stdbuf", "time",
                   "sudo", "ionice", "taskset", "!"}


def package_lists(root):
    """The packages named in the PACKAGES=( ... ) arrays of the install scripts."""
    packages = set()
    for rel in ("scripts/install-deps.sh", "bench/install-bench-deps.sh"):
        path = os.path.join(root, rel)
        if not os.path.exists(path):
            continue
        text = open(path, encoding="utf-8").read()
        for block in re.findall(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M):
            for line in block.splitlines():
                packages.update(line.split("#", 1)[0].split())
    return packages


def scan_files(root):
    for d in SCAN_DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith((".sh", ".bash", ".py", ".cc")) or (d == ".ci" and "." not in f):
                    yield os.path.join(dirpath, f)


def clean_bash(text):
    """Returns (code, heredocs): TEXT with comments, heredoc bodies and quoted literal text blanked
    (newlines kept, so line numbers hold), but the $(...) and `...` inside double quotes kept, as they
    run commands; and the heredoc bodies (line number, text) for the embedded-Python import scan."""
    out, heredocs, i, n = [], [], 0, len(text)
    pending_heredoc = None
    # Context stack: ["dq"] inside a double-quoted string, [sub, depth] inside code (the outermost, or a
    # $( ) whose closing parenthesis is the one at depth 0).
    stack = [["code", 0]]
    while i < n:
        c = text[i]
        top = stack[-1]
        if c == "\n" and top[0] != "dq":
            out.append(c)
            i += 1
            if pending_heredoc:
                end = pending_heredoc
                pending_heredoc = None
                line_no = text.count("\n", 0, i) + 1
                while i < n:
                    j = text.find("\n", i)
                    j = n if j < 0 else j
                    line = text[i:j]
                    i = min(j + 1, n)
                    out.append("\n")
                    if line.strip() == end:
                        break
                    heredocs.append((line_no, line))
                    line_no += 1
            continue
        if top[0] == "dq":
            # Literal text of a double-quoted string: only $( opens code.
            if c == "\\":
                out.append("  " if text[i + 1:i + 2] != "\n" else " \n")
                i += 2
            elif c == '"':
                stack.pop()
                out.append(" ")
                i += 1
            elif text.startswith("$(", i) and not text.startswith("$((", i):
                out.append("$(")
                stack.append(["sub", 0])
                i += 2
            else:
                out.append("\n" if c == "\n" else " ")
                i += 1
            continue
        if c == "\\":
            nxt = text[i + 1:i + 2]
            out.append("  " if nxt and nxt != "\n" else " ")
            i += 2 if nxt and nxt != "\n" else 1
            continue
        if c == "'":
            j = text.find("'", i + 1)
            j = n - 1 if j < 0 else j
            out.append("$" + re.sub(r"[^\n]", " ", text[i + 1:j + 1]))  # a quoted word is not a command
            i = j + 1
            continue
        if c == '"':
            stack.append(["dq"])
            out.append("$")
            i += 1
            continue
        if c == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
            out.append("$(")
            stack.append(["sub", 0])
            i += 2
            continue
        if c == "(":
            top[1] += 1
        elif c == ")":
            if top[0] == "sub" and top[1] == 0:
                stack.pop()
            else:
                top[1] -= 1
        m = HEREDOC.match(text, i) if c == "<" else None
        if m:
            pending_heredoc = m.group(2)
            out.append(" " * (m.end() - i))
            i = m.end()
            continue
        out.append(c)
        i += 1
    code = "".join(out)
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
    code = re.sub(r"\$\(\((?:[^()]|\([^()]*\))*\)\)|\(\((?:[^()]|\([^()]*\))*\)\)", blank, code)  # arithmetic
    code = re.sub(r"\[\[.*?\]\]", blank, code)  # conditional expressions
    code = re.sub(r"\$\{[^}]*\}", blank, code)  # parameter expansions
    code = re.sub(r"[A-Za-z_]\w*\+?=\([^)]*\)", blank, code)  # array assignments
    return code, heredocs


def bash_commands(text, functions):
    """Yields (line number, command, kind) for one bash script: kind 'cmd' (a word in command position),
    'abs' (a /usr/bin/... path), 'hint' (a ${VAR:-default} value; only checked when the word is a known
    packaged command) or 'py' (a Python module imported by embedded Python)."""
    code, heredocs = clean_bash(text)
    for n, line in heredocs:
        m = PY_IMPORT.match(line)
        if m:
            yield n, m.group(1), "py"
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith("#"):
            continue
        for m in ABSOLUTE_TOOL.finditer(raw):
            yield n, m.group(1), "abs"
        for m in DEFAULT_VALUE.finditer(raw):
            yield n, m.group(1), "hint"
        for m in re.finditer(r"-c\s+(['\"])(.*?)\1", raw):  # python3 -c '...'
            for statement in m.group(2).split(";"):
                im = PY_IMPORT.match(statement)
                if im:
                    yield n, im.group(1), "py"
    parts = SEPARATORS.split(code)
    seps = SEPARATORS.findall(code)
    offset = 0
    for k, segment in enumerate(parts):
        line_no = code.count("\n", 0, offset) + 1
        offset += len(segment) + (len(seps[k]) if k < len(seps) else 0)
        before = seps[k - 1] if k > 0 else "\n"
        after = seps[k] if k < len(seps) else "\n"
        if after == ")" and before not in ("(", "$("):
            continue  # a case pattern
        if before in (")", "}"):
            continue  # arguments after a $(...) or redirections after a group, not a command
        words = segment.split()
        prefixed = False
        while words and (ASSIGNMENT.match(words[0]) or words[0] in PREFIX_COMMANDS
                         or (prefixed and len(words) > 1 and (words[0].startswith("-") or words[0].isdigit()))):
            prefixed = prefixed or words[0] in PREFIX_COMMANDS
            words = words[1:]
        if not words:
            continue
        line_no += len(segment) - len(segment.lstrip()) and segment[:len(segment) - len(segment.lstrip())].count("\n")
        word = words[0]
        if word in functions or not re.match(r"^[A-Za-z][\w.+-]*$", word):
            continue  # functions, variables, paths (project programs), redirections, globs
        yield line_no, word, "cmd"


def python_commands(text):
    for n, line in enumerate(text.splitlines(), 1):
        m = PY_IMPORT.match(line)
        if m:
            yield n, m.group(1), "py"
        for m in PY_SUBPROCESS.finditer(line):
            yield n, m.group(1), "cmd"


def cxx_commands(text):
    for n, line in enumerate(text.splitlines(), 1):
        for m in CXX_SHELL.finditer(line):
            yield n, m.group(1), "cmd"


def check(root):
    """Returns a list of problems: 'file:line: message'."""
    packages = package_lists(root)
    if not packages:
        return ["no PACKAGES list found in scripts/install-deps.sh"]
    files = list(scan_files(root))
    texts = {p: open(p, encoding="utf-8", errors="replace").read() for p in files}
    # Functions defined in any script (helpers are sourced) and the project's own Python modules.
    functions = {m.group(1) for p, t in texts.items() if not p.endswith((".py", ".cc"))
                 for m in map(FUNCTION_DEF.match, t.splitlines()) if m}
    own_modules = {os.path.basename(p)[:-3] for p in files if p.endswith(".py")}
    stdlib = set(sys.stdlib_module_names)
    problems, checked = [], 0
    for path in files:
        rel = os.path.relpath(path, root)
        if path.endswith(".py"):
            found = python_commands(texts[path])
        elif path.endswith(".cc"):
            found = cxx_commands(texts[path])
        else:
            found = bash_commands(texts[path], functions)
        for n, cmd, kind in found:
            checked += 1
            if kind == "py":
                if cmd in stdlib or cmd in own_modules:
                    continue
                pkg = PYTHON_MODULES.get(cmd)
                if pkg is None:
                    problems.append(f"{rel}:{n}: python module '{cmd}' is not in the standard library nor in "
                                    "PYTHON_MODULES (add it there with its Debian package, and to an install script)")
                elif pkg not in packages:
                    problems.append(f"{rel}:{n}: python module '{cmd}' needs package {pkg}, "
                                    "which no install script installs")
                continue
            pkg = COMMAND_PACKAGES.get(cmd)
            if pkg is None:
                if kind != "hint" and cmd not in SHELL_BUILTINS and cmd not in BASE_TOOLS:
                    problems.append(f"{rel}:{n}: command '{cmd}' is unknown: add it to COMMAND_PACKAGES in "
                                    "tests/tools/external_commands.py with its Debian package (or define it)")
            elif pkg not in packages and not (kind == "cmd" and cmd in SHELL_BUILTINS):
                problems.append(f"{rel}:{n}: command '{cmd}' needs package {pkg}, which neither "
                                "scripts/install-deps.sh nor bench/install-bench-deps.sh installs")
    if checked == 0:
        problems.append("no commands found at all: the scan is broken")
    return problems


def self_test(root):
    """Runs the check over a copy of ROOT with planted undeclared commands; each must be reported."""
    plants = [
        ("tests/e2e/zz_planted.sh", "#!/usr/bin/env bash\nset -e\nout=$(foo-tool --x | sort)\n", "'foo-tool'"),
        ("scripts/zz_planted.sh", "#!/usr/bin/env bash\nif true; then curl -s x; fi\n", "'curl' needs package curl"),
        ("bench/zz_planted.sh", "#!/usr/bin/env bash\ntimeout 5 nc -z 127.0.0.1 1\n", "'nc' needs package"),
        ("tests/e2e/zz_planted.py", "import yaml\n", "python module 'yaml'"),
        ("tests/e2e/zz_planted2.sh", "#!/usr/bin/env bash\nX=1 /usr/bin/bc -l </dev/null\n", "'bc' needs"),
        ("tests/net/zz_planted_test.cc", 'int f() { return std::system("strace -o x true"); }\n', "'strace' needs"),
    ]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "tree")
        os.mkdir(copy)
        for d in SCAN_DIRS:
            if os.path.isdir(os.path.join(root, d)):
                shutil.copytree(os.path.join(root, d), os.path.join(copy, d),
                                ignore=shutil.ignore_patterns("data"))
        baseline = check(copy)
        if baseline:
            failures.append("the unmodified copy already fails: " + "; ".join(baseline[:3]))
        for rel, content, expected in plants:
            path = os.path.join(copy, rel)
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
            found = [p for p in check(copy) if p.startswith(rel + ":")]
            if not any(expected in p for p in found):
                failures.append(f"planted {rel} ({expected}) was not reported; got {found}")
            os.remove(path)
        # A package removed from the install list must be reported for a command that really uses it.
        deps = os.path.join(copy, "scripts/install-deps.sh")
        text = open(deps, encoding="utf-8").read()
        open(deps, "w", encoding="utf-8").write(re.sub(r"(?<=\s)jq(?=\s)", "", text, count=1))
        if not any("'jq' needs package jq" in p for p in check(copy)):
            failures.append("removing jq from install-deps.sh was not reported")
    return failures


def main():
    args = sys.argv[1:]
    if args and args[0] == "--self-test":
        root = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
        failures = self_test(os.path.abspath(root))
        for f in failures:
            print("FAIL:", f)
        print("self-test:", "FAILED" if failures else "ok (planted undeclared commands are reported)")
        return 1 if failures else 0
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), "..", ".."))
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} external command(s) not covered by the install scripts")
        return 1
    print("every external command used by tests/, scripts/, bench/ and .ci/ is installed by the install scripts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
