"""Set-up of the processes perfeval starts and owns (a batch's forkserver and job processes, the process of
`perfeval report`), done before they import the report stack. Importing this module is the set-up (a
forkserver's preload can only import modules); `lighten_imports()` does it again where a module was imported
already.

papermill imports nbformat, nbformat imports jsonschema, and jsonschema imports every optional format checker
that is installed: `rfc3987_syntax` (the "iri" and "iri-reference" formats) builds a Lark grammar when imported,
1.3–1.5 CPU-s, about nine tenths of importing papermill, paid before a batch reads its first sheet. No schema a
report process validates (nbformat's) uses those formats. Library use (`build_report` called from a user's own
process) is left alone: there the import stays as the user's environment makes it.
"""

from __future__ import annotations

import sys

#: optional modules a report process never uses, each costing far more to import than a report's own work
SKIPPED_MODULES = ("rfc3987_syntax",)


def lighten_imports() -> None:
    """Make each of `SKIPPED_MODULES` not yet imported unimportable in this process (ImportError, which the
    importing library treats as "not installed"). One already imported is left as it is."""
    for name in SKIPPED_MODULES:
        sys.modules.setdefault(name, None)


lighten_imports()
