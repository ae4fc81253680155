"""Size limits of the source tree: no source file over 600 lines, no function over 80 lines.

C++ functions are found by their braces (comments, strings and raw strings skipped): a brace
opened outside any function whose header has a parameter list starts a function, and its lines
run to the matching brace; lambdas and local classes count with the function around them.
Tables (a brace after `=`, or a header without parentheses) are not functions. Python
functions run from `def` to the next line indented no deeper.

tests/lint/size_exceptions.txt names the functions over the limit that are still to be split
(`path: function`, one a line). The list can only shrink: a function over the limit that is not
on it fails, and so does an entry whose function is no longer over the limit (remove it). Usage:
  check_sizes.py [ROOT]     prints every problem; exit 1 if any."""
import os
import re
import subprocess
import sys

MAX_FILE = 600
MAX_FUNCTION = 80
CPP = (".cpp", ".hpp", ".h", ".cc")
PY = (".py",)
SCOPES = re.compile(r"^\s*(template\s*<.*>\s*)?(namespace|class|struct|union|enum|extern)\b")


def code_only(text):
    """The C++ text with comments, string and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            k = text.find("(", i + 2)
            delim = ")" + text[i + 2:k] + '"'
            j = text.find(delim, k)
            j = n if j < 0 else j + len(delim)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def cpp_functions(text):
    """(name, first line, line count) of every function defined outside another function."""
    code = code_only(text)
    found = []
    stack = []  # one entry per open brace: "scope", "table" or ("function", name, line)
    header_start = 0
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";":
            header_start = i + 1
        elif c == "{":
            header = code[header_start:i]
            in_function = any(isinstance(s, tuple) for s in stack)
            if in_function:
                stack.append("inner")
            elif SCOPES.match(header) or "(" not in header:
                stack.append("table" if re.search(r"=\s*$|\breturn\b", header) else "scope")
            elif re.search(r"(?<![=!<>+\-*/%&|^])=(?!=)\s*[^;]*$", re.sub(r"operator\s*\S+?\s*\(", "operator(", header)) \
                    and "operator" not in header:
                stack.append("table")
            else:
                name = re.findall(r"([~\w:]+)\s*\(", header)
                stack.append(("function", name[0] if name else "?", line - header.lstrip().count("\n")))
            header_start = i + 1
        elif c == "}":
            if stack:
                top = stack.pop()
                if isinstance(top, tuple):
                    found.append((top[1], top[2], line - top[2] + 1))
            header_start = i + 1
    return found


def py_functions(text):
    lines = text.split("\n")
    found = []
    for i, l in enumerate(lines):
        m = re.match(r"^(\s*)(async\s+)?def\s+(\w+)", l)
        if not m:
            continue
        indent = len(m.group(1))
        end = i
        for j in range(i + 1, len(lines)):
            s = lines[j]
            if s.strip() and not s.lstrip().startswith("#"):
                if len(s) - len(s.lstrip()) <= indent:
                    break
                end = j
        found.append((m.group(3), i + 1, end - i + 1))
    return found


def tracked_files(root):
    r = subprocess.run(["git", "-C", root, "ls-files", "-co", "--exclude-standard"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return [f for f in r.stdout.split("\n") if f]
    out = []
    for d, dirs, fs in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith((".", "build", "node_modules"))]
        out += [os.path.relpath(os.path.join(d, f), root) for f in fs]
    return out


def exceptions(root):
    path = os.path.join(root, "tests", "lint", "size_exceptions.txt")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {l.strip() for l in f if l.strip() and not l.startswith("#")}


def check(root):
    allowed = exceptions(root)
    used = set()
    problems = []
    for rel in sorted(tracked_files(root)):
        if not rel.endswith(CPP + PY):
            continue
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        nlines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if nlines > MAX_FILE:
            problems.append("%s: %d lines (at most %d)" % (rel, nlines, MAX_FILE))
        funcs = cpp_functions(text) if rel.endswith(CPP) else py_functions(text)
        for name, first, count in funcs:
            if count <= MAX_FUNCTION:
                continue
            key = "%s: %s" % (rel, name)
            if key in allowed:
                used.add(key)
                continue
            problems.append("%s:%d: %s is %d lines (at most %d)" % (rel, first, name, count, MAX_FUNCTION))
    for key in sorted(allowed - used):
        problems.append("size_exceptions.txt: '%s' is no longer over the limit: remove it" % key)
    return problems


def self_test():
    """The checker on made-up files: it must find what is over and pass what is not."""
    import tempfile
    body = "\n".join("  x += %d;" % i for i in range(85))
    table = "\n".join("    {%d, \"a{\"}," % i for i in range(120))
    cpp = ("namespace n {\nstruct S {\n  int f() const {\n%s\n    return 1;\n  }\n};\n"
           "const int kT[] = {\n%s\n};\nint g(int a) {\n  auto s = R\"X({ not a brace)X\";\n"
           "  return a;\n}\n}  // namespace n\n") % (body, table)
    py = "def long():\n%s\n\n\ndef short():\n    return 1\n" % "\n".join("    x = %d" % i for i in range(90))
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "a.cpp"), "w") as f:
            f.write(cpp)
        with open(os.path.join(d, "b.py"), "w") as f:
            f.write(py)
        with open(os.path.join(d, "c.hpp"), "w") as f:
            f.write("int x;\n" * 601)
        got = check(d)
    want = ["a.cpp:3: f is 88 lines", "b.py:1: long is 91 lines", "c.hpp: 601 lines"]
    ok = len(got) == 3 and all(any(p.startswith(w) for p in got) for w in want)
    print("\n".join(got))
    print("self-test %s" % ("passed" if ok else "FAILED: expected %s" % want))
    sys.exit(0 if ok else 1)


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    problems = check(os.path.abspath(root))
    for p in problems:
        print(p)
    print("%d over the limits" % len(problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
