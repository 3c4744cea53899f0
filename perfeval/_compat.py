"""Old module paths keep importing after the modules moved into `sheets/`, `scoring/`, `report/` and `devtools/`.

`import perfeval.validate` and `from perfeval.evaluate import Evaluation` still work: a finder placed first on
`sys.meta_path` maps each old dotted name (`MOVED`) to its new module and hands back that very module object —
one module, one set of classes, so `isinstance`, monkeypatching and pickling behave as before — with a
DeprecationWarning naming the new path. No file is left at an old path (a file there would be a second copy of
the module). `perfeval.validate` as an attribute of the package resolves the same way, and importing the old
`perfeval.evaluate` never replaces the public function `perfeval.evaluate`.

`MOVED` is the one list of moves; scripts/fix_old_imports.py reads it (without importing perfeval) to rewrite
old paths in code and documents.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

#: old dotted module name → new dotted module name
MOVED: dict[str, str] = {
    "perfeval.sheet": "perfeval.sheets.read",
    "perfeval.cells": "perfeval.sheets.cells",
    "perfeval.info_sheet": "perfeval.sheets.info",
    "perfeval.indicator_checks": "perfeval.sheets.indicators",
    "perfeval.stated_checks": "perfeval.sheets.stated",
    "perfeval.validate": "perfeval.sheets.load",
    "perfeval.workbook": "perfeval.sheets.write",
    "perfeval.xlsx_guard": "perfeval.sheets.xlsx_guard",
    "perfeval.placeholders": "perfeval.sheets.placeholders",
    "perfeval.inputs": "perfeval.sheets.inputs",
    "perfeval.field_data": "perfeval.sheets.field_data",
    "perfeval.layouts": "perfeval.sheets.layouts",
    "perfeval.layouts.selfeval": "perfeval.sheets.layouts.selfeval",
    "perfeval.layouts.scoring_table": "perfeval.sheets.layouts.scoring_table",
    "perfeval.layouts.table_scheme": "perfeval.table_scheme",
    "perfeval.budget": "perfeval.scoring.budget",
    "perfeval.audit": "perfeval.scoring.audit",
    "perfeval.evaluate": "perfeval.scoring.evaluate",
    "perfeval.deviations": "perfeval.scoring.deviations",
    "perfeval.understood": "perfeval.scoring.understood",
    "perfeval.evidence": "perfeval.scoring.evidence",
    "perfeval.evidence_command": "perfeval.scoring.evidence_command",
    "perfeval.tidy": "perfeval.scoring.tidy",
    "perfeval.narrative": "perfeval.report.compose",
    "perfeval.report.narrative": "perfeval.report.compose",  # split: the document model is report.document
    "perfeval.charts": "perfeval.report.charts",
    "perfeval.summary": "perfeval.report.summary",
    "perfeval.synth": "perfeval.devtools.synth",
}


def _warn(old: str, new: str) -> None:
    # point the warning at the line that imported the old name: past this module's frames and
    # importlib.import_module's (warnings itself skips the frozen import machinery's frames when it counts)
    frame, level = sys._getframe(0), 1
    while frame is not None and (frame.f_code.co_filename in (__file__, importlib.__file__)
                                 or frame.f_code.co_filename.startswith("<frozen importlib")):
        level += not frame.f_code.co_filename.startswith("<frozen importlib")
        frame = frame.f_back
    warnings.warn(f"{old} has moved to {new}; import it from there ({old} will be removed)",
                  DeprecationWarning, stacklevel=level)


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds each old name of `MOVED` and loads it as the module at its new name."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        package = any(name.startswith(fullname + ".") for name in MOVED)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        new = MOVED[spec.name]
        _warn(spec.name, new)
        module = importlib.import_module(new)
        # the import system sets __spec__ on what this returns; exec_module puts the module's own back
        self._specs[new] = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ in self._specs:
            module.__spec__ = self._specs.pop(module.__name__)


class Package(types.ModuleType):
    """The type of the `perfeval` package: an old submodule name resolves as an attribute (with the warning),
    and the import system binding an old module name never replaces a public object of the same name."""

    def __getattr__(self, name: str) -> object:
        if f"{self.__name__}.{name}" in MOVED:
            return importlib.import_module(f"{self.__name__}.{name}")
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        current = self.__dict__.get(name)
        if (isinstance(value, types.ModuleType) and f"{self.__name__}.{name}" in MOVED
                and current is not None and not isinstance(current, types.ModuleType)):
            return  # `import perfeval.evaluate` keeps `perfeval.evaluate`, the function
        super().__setattr__(name, value)


def install(package: types.ModuleType) -> None:
    """Put the finder first on `sys.meta_path` (before the path finder, which would otherwise load a second copy
    of a package's module under an old name) and give `package` the `Package` type. Idempotent."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
    if not isinstance(package, Package):
        package.__class__ = Package


install(sys.modules[__name__.rpartition(".")[0]])  # on import, before the package imports anything else
