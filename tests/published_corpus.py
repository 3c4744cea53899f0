"""The corpus of published tables (tests/data/published/): load each as printed and compare with the reviewer.

Each folder holds ``table.csv`` (the printed grid, cell for cell, merged cells' text in their top-left cell) and
``meta.toml`` (source, layout, merges, the figures the table states and what a careful reviewer computed by hand
*before* perfeval was run on it). A table is read twice: as the CSV itself, and as an .xlsx built from it the way
a person typing the printed table into Excel would get it (numbers and percentages become numeric cells, the
printed merges become merged cells).
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "published"

#: reviewer issue code -> perfeval finding codes that raise the same inconsistency
CODE_MAP: dict[str, frozenset[str]] = {
    "stated_total": frozenset({"stated_total", "stated_inconsistent"}),
    "stated_subtotal": frozenset({"stated_subtotal", "stated_inconsistent", "funding_breakdown"}),
    "stated_rate": frozenset({"stated_rate", "stated_inconsistent"}),
    "stated_execution_score": frozenset({"stated_inconsistent", "stated_item_score"}),
    "level_weight": frozenset({"level_weight"}),
    "stated_item_score": frozenset({"stated_item_score"}),
    "stated_grade": frozenset({"stated_grade"}),
    "weights": frozenset({"weights"}),
    "unit_mismatch": frozenset({"unit_mismatch"}),
    "suspicious_operator": frozenset({"suspicious_operator"}),
    "duplicate_indicator": frozenset({"duplicate_indicator"}),
}
#: perfeval codes that claim the table contradicts itself or the field's rules (a false one is a false alarm)
ALARM_CODES = frozenset().union(*CODE_MAP.values())

_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_PERCENT = re.compile(r"^[-+]?\d+(?:\.\d+)?%$")


@dataclass
class Table:
    """One transcribed table and the reviewer's expectations."""

    folder: Path
    meta: dict
    rows: list[list[str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def csv_path(self) -> Path:
        return self.folder / "table.csv"

    @property
    def reviewer(self) -> dict:
        return self.meta.get("reviewer", {})

    @property
    def issues(self) -> list[dict]:
        return list(self.reviewer.get("issues", []))

    @property
    def unreadable(self) -> bool:
        return any(i["code"] == "unreadable" for i in self.issues)


def tables() -> list[Table]:
    out = []
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "meta.toml").is_file()):
        with (folder / "meta.toml").open("rb") as handle:
            meta = tomllib.load(handle)
        with (folder / "table.csv").open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        out.append(Table(folder, meta, rows))
    return out


def typed(text: str) -> object:
    """What Excel stores when the printed text is typed into a cell."""
    value = text.strip()
    if _NUMBER.match(value):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if _PERCENT.match(value):
        return float(value[:-1]) / 100
    return text


def build_xlsx(table: Table, target: Path) -> Path:
    """The printed grid as an .xlsx: typed cells, the printed merges as merged cells."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    for r, row in enumerate(table.rows, start=1):
        for c, text in enumerate(row, start=1):
            if text != "":
                cell = sheet.cell(row=r, column=c, value=typed(text))
                if isinstance(cell.value, float) and _PERCENT.match(text.strip()):
                    cell.number_format = "0.00%"
    for ref in table.meta.get("merges", []):
        sheet.merge_cells(ref)
    book.save(target)
    return target


def close(a: float, b: float, places: int = 2) -> bool:
    return a is not None and b is not None and math.isfinite(a) and abs(a - b) <= 0.5 * 10.0**-places + 1e-9
