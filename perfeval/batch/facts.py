"""What is known about a project whose sheet was refused: its 项目信息 read on its own.

A batch lists a refused project with its 名称, 年度, 主管部门 and 实施单位 when the 项目信息 sheet can be read,
though the project itself cannot be scored. Best effort: whatever cannot be read stays blank.
"""

from __future__ import annotations

from pathlib import Path

FACT_FIELDS = ("name", "year", "department", "unit")


def known_facts(path: Path) -> dict[str, dict[str, object]]:
    """{项目编号 as read ('' when blank): {name, year, department, unit}} from the 项目信息 sheet of a
    perfeval workbook or CSV set; {} when there is none or it cannot be read."""
    from perfeval.sheets.info import build_info, info_records
    from perfeval.sheets.read import read_workbook

    try:
        raw = read_workbook(path)
        grid = raw.sheets.get("项目信息")
        if grid is None:
            return {}
        sheet = raw.sheet_names.get("项目信息", "项目信息")
        records, _ = info_records(grid, str(path), sheet)
        out: dict[str, dict[str, object]] = {}
        for rec in records:
            info = build_info(rec, str(path), sheet, [])
            out.setdefault(str(info.get("id") or ""), {k: info.get(k) for k in FACT_FIELDS})
        return out
    except Exception:  # best effort: a file that cannot be read says nothing more than its problems
        return {}


def facts_for(facts: dict[str, dict[str, object]], key: str) -> dict[str, object]:
    """The Entry fields (name, year, department, unit) known for `key`: its own record, or the file's only one."""
    found = facts.get(key) or (next(iter(facts.values())) if len(facts) == 1 else {})
    return {k: v for k, v in found.items() if v not in (None, "")}
