"""Which files are inputs: workbooks named directly or found (recursively) in folders.

Shared by `load_projects` (a folder of sheets) and `perfeval batch`, so both find the same files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from perfeval.errors import PerfevalError
from perfeval.sheets.field_data import is_field_file
from perfeval.sheets.read import is_sibling_csv

INPUT_SUFFIXES = (".xlsx", ".xlsm", ".csv")


def input_files(inputs: Iterable[str | Path], exclude: Path | None = None) -> list[Path]:
    """Workbook files named directly or found (recursively) in folders, in a stable order.

    Excel lock files (``~$…``), hidden files, the sibling sheets of a CSV set, a project's field data (expert
    sheets, survey answers: `perfeval.field_data`) and anything under `exclude` (the batch's own output folder)
    are skipped. Raises PerfevalError for a missing path.
    """
    files: list[Path] = []
    missing = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = [p for p in sorted(path.rglob("*"))
                     if p.suffix.lower() in INPUT_SUFFIXES and p.is_file()
                     and not any(part.startswith((".", "~$")) for part in p.relative_to(path).parts)
                     and not is_sibling_csv(p)]
            found = [p for p in found if not is_field_file(p)  # expert sheets and survey answers of a project
                     and not is_batch_summary(p)]
            if exclude is not None:
                found = [p for p in found if not inside(p, exclude)]
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(item))
    if missing:
        raise PerfevalError(f"找不到输入：{'、'.join(missing)}")
    seen: set[Path] = set()
    unique = []
    for f in files:
        resolved = f.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(resolved)
    return unique


def inside(path: Path, folder: Path) -> bool:
    """True when `path` is `folder` or lies below it."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def is_batch_summary(path: Path) -> bool:
    """A `perfeval batch` output's summary.xlsx (beside its index.html): a result, never an input."""
    return path.name == "summary.xlsx" and (path.parent / "index.html").is_file()
