"""Rewrite old perfeval module paths (before the sheets/ scoring/ report/ devtools/ layout) to the new ones.

    python3 scripts/fix_old_imports.py                 # rewrite in place: perfeval/ tests/ benchmarks/ scripts/
                                                       # notebooks/ docs/ README.md
    python3 scripts/fix_old_imports.py --check         # list what would change, exit 1 if anything would
    python3 scripts/fix_old_imports.py --prose FILE…   # also docstrings and comments of the .py files given

The moves are read from perfeval/_compat.py (`MOVED`) without importing perfeval, so this runs on a tree whose
imports are broken. In Python files it rewrites import statements (`from perfeval.validate import x`,
`import perfeval.layouts.selfeval as s`, `from perfeval import narrative, synth`, `import perfeval.validate` and
its uses), module-path strings ("perfeval.validate", "perfeval.validate.load_project") and file paths
(perfeval/validate.py); in Markdown and notebooks also plain mentions (`perfeval.validate`). A call of the public
function `perfeval.evaluate(…)` and `from perfeval import evaluate` are left alone.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("perfeval", "tests", "benchmarks", "scripts", "notebooks", "docs", "README.md")
SKIP = {"perfeval/_compat.py", "tests/test_layout.py", "scripts/fix_old_imports.py", "docs/architecture.md"}


def moved() -> dict[str, str]:
    tree = ast.parse((ROOT / "perfeval" / "_compat.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "MOVED":
            return ast.literal_eval(node.value)
    raise SystemExit("MOVED not found in perfeval/_compat.py")


MOVED = moved()
#: longest first, so perfeval.layouts.selfeval wins over perfeval.layouts
OLD = sorted(MOVED, key=len, reverse=True)
_NAME = "|".join(re.escape(o) for o in OLD)
#: a path spelled in parts: ROOT / "perfeval" / "narrative.py"
SPLIT = re.compile(r'"perfeval"(\s*/\s*)"(\w+)\.py"')
#: `from perfeval import x`, `perfeval.x`: x is the public function, not the old module
PUBLIC = {"evaluate"}
#: an old dotted name as a whole name: not part of a longer identifier; perfeval.evaluate only when an attribute
#: follows (perfeval.evaluate.Evaluation), since `perfeval.evaluate` alone is also the public function
DOTTED = re.compile(rf"(?<![\w.])(?:({_NAME})(?![\w(])|(perfeval\.evaluate)(?=\.\w))")
QUOTED = re.compile(rf"""(["'])({_NAME})((?:\.\w+)*)\1""")
PATHS = {old.replace(".", "/") + (".py" if not any(k.startswith(old + ".") for k in MOVED) else "/"):
         new.replace(".", "/") + (".py" if not any(k.startswith(old + ".") for k in MOVED) else "/")
         for old, new in MOVED.items()}
PATH = re.compile(r"(?<![\w/])(" + "|".join(re.escape(p) for p in sorted(PATHS, key=len, reverse=True)) + ")")


def _new(name: str) -> str:
    for old in OLD:
        if name == old or name.startswith(old + "."):
            return MOVED[old] + name[len(old):]
    return name


def _split(match: re.Match) -> str:
    new = MOVED.get(f"perfeval.{match.group(2)}")
    if new is None or any(k.startswith(f"perfeval.{match.group(2)}.") for k in MOVED):
        return match.group(0)
    *parts, leaf = new.split(".")
    sep = match.group(1)
    return sep.join(f'"{p}"' for p in parts) + f'{sep}"{leaf}.py"'


def _dotted(match: re.Match) -> str:
    name = match.group(1)
    if name == "perfeval.evaluate" or name is None:  # alone, perfeval.evaluate is the public function
        return _new(match.group(2)) if name is None else name
    return _new(name)


def _from_perfeval(node: ast.ImportFrom, lines: list[str]) -> list[str] | None:
    """`from perfeval import a, b as c` naming old modules → one line per new package, or None if none is old."""
    old = [a for a in node.names if f"perfeval.{a.name}" in MOVED and a.name not in PUBLIC]
    if not old:
        return None
    indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)
    groups: dict[str, list[str]] = {}
    for alias in node.names:
        full = f"perfeval.{alias.name}"
        target = _new(full) if alias in old else full
        package, _, leaf = target.rpartition(".")
        groups.setdefault(package, []).append(leaf + (f" as {alias.asname}" if alias.asname else ""))
    return [f"{indent}from {package} import {', '.join(names)}" for package, names in sorted(groups.items())]


def fix_python(text: str, prose: bool) -> str:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []
    plain_imports: set[str] = set()
    for node in ast.walk(tree):
        start, end = node.lineno if hasattr(node, "lineno") else 0, getattr(node, "end_lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "perfeval":
                new_lines = _from_perfeval(node, lines)
                if new_lines is not None and start == end:
                    comment = lines[start - 1].partition("#")[2]
                    if comment:
                        new_lines[0] += "  #" + comment
                    edits.append((start, end, new_lines))
            elif _new(node.module) != node.module:
                first = lines[start - 1]
                edits.append((start, start, [re.sub(rf"\bfrom\s+{re.escape(node.module)}\b",
                                                    f"from {_new(node.module)}", first, count=1)]))
        elif isinstance(node, ast.Import):
            segment = lines[start - 1:end]
            for alias in node.names:
                if _new(alias.name) != alias.name:
                    if alias.asname is None:
                        plain_imports.add(alias.name)
                    segment = [re.sub(rf"\b{re.escape(alias.name)}\b(?![\w.])", _new(alias.name), s) for s in segment]
            if segment != lines[start - 1:end]:
                edits.append((start, end, segment))
    for start, end, new_lines in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start - 1:end] = new_lines
    text = "\n".join(lines)
    text = QUOTED.sub(lambda m: m.group(1) + _new(m.group(2)) + m.group(3) + m.group(1), text)
    text = PATH.sub(lambda m: PATHS[m.group(1)], text)
    text = SPLIT.sub(_split, text)
    for name in plain_imports:  # `import perfeval.validate` … `perfeval.validate.load_project`
        text = re.sub(rf"(?<![\w.]){re.escape(name)}(?!\w)", _new(name), text)
    if prose:
        text = DOTTED.sub(_dotted, text)
    return text


def fix_text(text: str) -> str:
    text = re.sub(rf"\bfrom ({_NAME})((?:\.\w+)*) import",
                  lambda m: f"from {_new(m.group(1))}{m.group(2)} import", text)
    text = PATH.sub(lambda m: PATHS[m.group(1)], text)
    return DOTTED.sub(_dotted, text)


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def files(args: list[str]) -> list[Path]:
    out = []
    for arg in args or DEFAULT:
        path = (ROOT / arg) if not Path(arg).is_absolute() else Path(arg)
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*")
                                                     if p.suffix in (".py", ".md", ".ipynb", ".toml", ".sh"))
        out += [p for p in found if _shown(p) not in SKIP and "__pycache__" not in p.parts]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="files or folders (default: the checkout's code and documents)")
    parser.add_argument("--check", action="store_true", help="only list the files that would change")
    parser.add_argument("--prose", action="store_true", help="also docstrings and comments of .py files")
    opts = parser.parse_args(argv)
    changed = []
    for path in files(opts.paths):
        text = path.read_text(encoding="utf-8")
        new = fix_python(text, opts.prose) if path.suffix == ".py" else fix_text(text)
        if new != text:
            changed.append(path)
            if not opts.check:
                path.write_text(new, encoding="utf-8")
    for path in changed:
        print(_shown(path))
    return 1 if (opts.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
