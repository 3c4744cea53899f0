"""The 佐证材料 sheet (编号 | 名称 | 来源 | 日期) read into `Project.materials`, with its located problems.

What the ledger means for scoring (which indicators lack evidence) is `perfeval.scoring.evidence`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from perfeval.errors import Problem
from perfeval.notation import normalise, plain_text
from perfeval.sheets.cells import unique_map

if TYPE_CHECKING:
    from perfeval.sheets.read import Table

#: columns of `Project.materials`
MATERIAL_COLUMNS = ("row", "id", "name", "source", "date")


def read_materials(table: Table, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The 佐证材料 sheet as a frame (`MATERIAL_COLUMNS`) and its problems: a row without 编号, a repeated
    编号. These are warnings (the ledger never stops a table being scored)."""
    frame = table.frame
    n = len(frame)

    def column(name: str) -> pd.Series:
        raw = frame[name] if name in frame else pd.Series([None] * n, index=frame.index, dtype=object)
        return unique_map(raw, plain_text)

    out = pd.DataFrame({"row": frame["row"].astype(int), "id": column("id").map(normalise),
                        **{c: column(c) for c in ("name", "source", "date")}})
    content = (out[["id", "name", "source", "date"]] != "").any(axis=1)
    out = out[content]
    problems: list[Problem] = []
    label = table.headers.get("id", "编号")
    for row in out.loc[out["id"] == "", "row"]:
        problems.append(Problem(file, table.sheet, int(row), label, None,
                                "佐证材料缺少编号；指标表的「证据编号」无法引用它", "evidence_sheet", "warning"))
    named = out[out["id"] != ""]
    repeated = named[named["id"].duplicated(keep="first")]
    first = named.drop_duplicates("id").set_index("id")["row"]
    for rec in repeated.itertuples():
        problems.append(Problem(file, table.sheet, int(rec.row), label, rec.id,
                                f"佐证材料编号重复：与第{int(first[rec.id])}行相同", "evidence_sheet", "warning"))
    return out.reset_index(drop=True), problems
