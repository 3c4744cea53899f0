"""Sheet layouts perfeval recognises besides its own (项目信息 + 指标 sheets), detected from the cells.

`read_layout(raw, scheme)` returns the projects of a workbook in a recognised layout, or None when the
workbook is not one (it is then read as perfeval's own format). Today: the 项目支出绩效自评表
(财预〔2020〕10号 附件2 and its variants), see `perfeval.layouts.selfeval`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from perfeval.layouts.selfeval import is_selfeval_grid, read_selfeval, selfeval_sheets

if TYPE_CHECKING:
    from perfeval.scheme import Scheme
    from perfeval.sheet import RawWorkbook
    from perfeval.validate import ProjectRead

__all__ = ["is_selfeval_grid", "read_layout", "read_selfeval", "selfeval_sheets"]


def read_layout(raw: RawWorkbook, scheme: str | Path | Scheme | None = None) -> list[ProjectRead] | None:
    """The projects of `raw` when it is in a layout other than perfeval's own; None otherwise."""
    if selfeval_sheets(raw):
        return read_selfeval(raw, scheme)
    return None
