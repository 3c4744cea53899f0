"""Sheet layouts perfeval recognises besides its own (项目信息 + 指标 sheets), detected from the cells.

`read_layout(raw, scheme)` returns the projects of a workbook in a recognised layout, or None when the
workbook is not one (it is then read as perfeval's own format): published scoring tables (评分表) with their
own indicator system (`perfeval.layouts.scoring_table`) and the 项目支出绩效自评表 (财预〔2020〕10号 附件2 and its
variants, `perfeval.layouts.selfeval`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from perfeval.sheets.layouts.selfeval import is_selfeval_grid, read_selfeval, selfeval_sheets

if TYPE_CHECKING:
    from perfeval.scheme import Scheme
    from perfeval.sheets.load import ProjectRead
    from perfeval.sheets.read import RawWorkbook

__all__ = ["is_selfeval_grid", "read_layout", "read_selfeval", "selfeval_sheets"]


def read_layout(raw: RawWorkbook, scheme: str | Path | Scheme | None = None) -> list[ProjectRead] | None:
    """The projects of `raw` when it is in a layout other than perfeval's own; None otherwise."""
    from perfeval.sheets.layouts import scoring_table

    # a scoring table declines any table whose 一级 all belong to the 自评表 system, so it is asked first:
    # a 自评表-like sheet (funds block, 自评表 title) with its own indicator system is read on that system
    reads = scoring_table.read(raw, scheme)
    if reads is not None:
        return reads
    if selfeval_sheets(raw):
        return read_selfeval(raw, scheme)
    return None
