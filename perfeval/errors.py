"""Located input problems.

Every problem found in an input names the file, sheet, row, column and value, and says
what was expected, so an evaluator can go straight to the cell in Excel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

#: problem codes of a table that can still be read and scored as written: `load_project` keeps the
#: project and carries these as error findings (`Project.sheet_findings`); `strict=True` refuses instead
AUDITABLE_CODES = frozenset({
    "weights",              # the items' weights do not add up to the scheme's total
    "level_weight",         # a 一级指标 header declares a weight its items do not add up to
    "duplicate_indicator",  # the same indicator row appears twice
})


@dataclass(frozen=True)
class Problem:
    """One problem in an input file (all user-facing text is Chinese).

    `code` is machine-readable (e.g. "weights", "duplicate_indicator"; "" for most reading problems).
    `severity` is "error" for a problem; a reader's note about how it read a table ("warning"/"info", e.g. the
    table's own indicator system was used) never refuses the table and travels with the project's findings."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    expected: str
    code: str = ""
    severity: str = "error"

    @property
    def auditable(self) -> bool:
        """True when the table can still be scored as written (the problem becomes a finding)."""
        return self.code in AUDITABLE_CODES or self.severity != "error"

    @property
    def location(self) -> str:
        return " ".join([Path(self.file).name, *self._places()])

    @property
    def place(self) -> str:
        """The location inside the file (sheet, row, column), without the file name."""
        return " ".join(self._places())

    def _places(self) -> list[str]:
        parts: list[str] = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列「{self.column}」")
        return parts

    def __str__(self) -> str:
        shown = "" if self.value in (None, "") else f"：值「{self.value}」"
        return f"{self.location}{shown}——{self.expected}"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "auditable": self.auditable}


class PerfevalError(Exception):
    """Base class for errors perfeval reports to users without a traceback."""


class SheetError(PerfevalError):
    """An input could not be turned into a valid project; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SchemeError(PerfevalError):
    """A scheme file is missing or malformed."""
