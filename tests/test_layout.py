"""The package layout shows the pipeline (docs/architecture.md): shared basics at the bottom, sheets and scoring
side by side (scoring may import the sheets, never the reverse), the public API and the report above them,
batch / workbench / devtools / the commands on top. No import points upward, except the few listed in
`UPWARD` (each with the reason and the way out); old module paths still import, with a DeprecationWarning."""

from __future__ import annotations

import ast
import importlib
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import perfeval
from perfeval._compat import MOVED

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "perfeval"

#: layers from the bottom up; a module may import its own layer and the layers below it
ORDER = ("basics", "sheets", "scoring", "api", "report", "apps")
#: module (or package prefix) → layer; the longest prefix decides. `*.command`, `*_command` and `perfeval.cli`
#: are the command line: always "apps", wherever the file sits.
LAYERS = {
    "perfeval._compat": "basics", "perfeval._version": "basics", "perfeval.errors": "basics",
    "perfeval.notation": "basics", "perfeval.deadline": "basics", "perfeval.display": "basics",
    "perfeval.methods": "basics", "perfeval.scheme": "basics", "perfeval.table_scheme": "basics",
    "perfeval.model": "basics", "perfeval.rules": "basics", "perfeval.atomic": "basics", "perfeval.fonts": "basics",
    "perfeval.shipped": "basics", "perfeval.summary_schema": "basics", "perfeval.plugins": "basics",
    "perfeval.sheets": "sheets",
    # field data (expert panels, surveys) is read and merged at the sheets level: load_project merges it
    "perfeval.panel": "sheets", "perfeval.survey": "sheets",
    "perfeval.scoring": "scoring",
    "perfeval": "api",  # the package itself: load_project, evaluate, evaluate_portfolio …
    "perfeval.report": "report",
    "perfeval.batch": "apps", "perfeval.workbench": "apps", "perfeval.devtools": "apps", "perfeval.cli": "apps",
}

#: the imports that still point upward (importer, imported): each is a piece of one module that belongs a layer
#: lower and waits for that module to be split (a split now would defeat the merge of parallel work)
UPWARD = {
    # the merged project's evaluation (PanelResult.evaluate); judged_indicators takes the rule the Project keeps
    ("perfeval.panel.apply", "perfeval.scoring.evaluate"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> set[str]:
    """Every perfeval module `path` imports, at module level, in functions or under TYPE_CHECKING;
    `from perfeval.report import charts` is perfeval.report.charts, `from perfeval import evaluate` the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if is_module(full) or full in MOVED else base)
    return {m for m in found if m == "perfeval" or m.startswith("perfeval.")}


def layer(module: str) -> str:
    leaf = module.rpartition(".")[2]
    if leaf == "command" or leaf.endswith("_command"):
        return "apps"
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module}: no layer (add it to LAYERS and docs/architecture.md)")


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    assert all(layer(module_name(p)) in ORDER for p in SOURCES)


def test_no_import_points_upward():
    upward = set()
    for path in SOURCES:
        importer = module_name(path)
        for imported in imports(path):
            if ORDER.index(layer(imported)) > ORDER.index(layer(importer)):
                upward.add((importer, imported))
    assert upward - UPWARD == set(), "imports pointing upward (see docs/architecture.md)"
    assert UPWARD - upward == set(), "no longer upward: remove from UPWARD and from docs/architecture.md"


def old_imports(path: Path) -> list[str]:
    """Old module paths `path` imports or names in a string constant (a module-path string)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    old = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "perfeval":  # `from perfeval import evaluate` is the public function
                names = [f"perfeval.{a.name}" for a in node.names if a.name not in perfeval.__all__]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"perfeval(\.\w+)+",
                                                                                            node.value):
            names = [node.value]
        old += [n for n in names if any(n == o or n.startswith(o + ".") for o in MOVED)]
    return old


@pytest.mark.parametrize("folder", ["perfeval", "tests", "benchmarks", "scripts"])
def test_nothing_imports_an_old_path(folder):
    skip = {PACKAGE / "_compat.py", Path(__file__).resolve(), ROOT / "scripts" / "fix_old_imports.py"}
    found = {str(p.relative_to(ROOT)): old for p in sorted((ROOT / folder).rglob("*.py"))
             if p not in skip and (old := old_imports(p))}
    assert found == {}, "old module paths: run scripts/fix_old_imports.py"


def test_no_file_left_at_an_old_path():
    """A file at an old path would be a second copy of the module (and defeat git's rename detection)."""
    for old in MOVED:
        assert not is_module(old), old


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_imports_the_new_module_with_a_warning(old):
    new = MOVED[old]
    module = importlib.import_module(new)
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old} has moved to {new}")):
        aliased = importlib.import_module(old)
    assert aliased is module and sys.modules[old] is module
    assert module.__name__ == new and module.__spec__.name == new  # the module keeps its own identity
    assert perfeval.evaluate.__module__ == "perfeval.scoring.evaluate" and callable(perfeval.evaluate)


def test_old_spellings_keep_working():
    sys.modules.pop("perfeval.evaluate", None)
    sys.modules.pop("perfeval.validate", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import perfeval.evaluate  # binds the old name on the package
        from perfeval.evaluate import Evaluation
        from perfeval.layouts.selfeval import read_selfeval
        from perfeval.validate import load_project

        from perfeval.scoring.evaluate import Evaluation as NewEvaluation
    assert Evaluation is NewEvaluation and load_project is perfeval.load_project
    assert callable(perfeval.evaluate)  # still the public function, not the module
    assert read_selfeval.__module__ == "perfeval.sheets.layouts.selfeval"
    sys.modules.pop("perfeval.validate", None)
    vars(perfeval).pop("validate", None)
    with pytest.warns(DeprecationWarning, match="perfeval.sheets.load"):
        assert perfeval.validate is importlib.import_module("perfeval.sheets.load")  # as an attribute too
    with pytest.raises(AttributeError):
        perfeval.no_such_module  # noqa: B018


def test_classes_pickle_under_their_new_path():
    ev = perfeval.evaluate(perfeval.load_project(ROOT / "data" / "reference" / "AKT2022-001.xlsx"))
    assert type(pickle.loads(pickle.dumps(ev))) is type(ev)
    assert b"perfeval.scoring.evaluate" in pickle.dumps(ev) and b"perfeval.evaluate\n" not in pickle.dumps(ev, 0)


def test_the_warning_names_the_importing_line():
    code = "import perfeval.validate\nfrom perfeval import synth\nimport perfeval\nperfeval.tidy"
    out = subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", code],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    assert "<string>:1: DeprecationWarning: perfeval.validate has moved to perfeval.sheets.load" in out.stderr
    assert "<string>:2: DeprecationWarning: perfeval.synth has moved to perfeval.devtools.synth" in out.stderr
    assert "<string>:4: DeprecationWarning: perfeval.tidy has moved to perfeval.scoring.tidy" in out.stderr
