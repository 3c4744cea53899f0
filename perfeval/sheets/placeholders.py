"""Placeholder text a template writes, and how a sheet left with it is recognised.

`perfeval template` fills its cells with text the evaluator must replace: fields as "（填写项目名称）"
and example indicator rows whose texts begin "示例：". A sheet that still holds such text is readable
but not finished: the readers report each such cell as a located warning (code `PLACEHOLDER_CODE`).
"""

from __future__ import annotations

import re

from perfeval.notation import plain_text

PLACEHOLDER_CODE = "placeholder"
EXAMPLE_PREFIX = "示例："
#: "（填写…）" / "(请填写…)": a whole cell in brackets asking to be filled in; "示例：…" / "示例:…"
_PATTERN = re.compile(r"^\s*(?:[（(]\s*(?:请)?填写.*[)）]|示例\s*[：:].*)\s*$", re.DOTALL)
#: what templates of earlier versions wrote
_LEGACY = frozenset({"（项目名称）", "（主管部门）", "（实施单位）", "（项目立项背景）", "（项目主要内容）",
                     "示例-2024-001"})


def fill_in(what: str) -> str:
    """The placeholder a template writes for a field: "（填写项目名称）"."""
    return f"（填写{what}）"


def example(text: str) -> str:
    """An example text a template writes: "示例：培训人数（人）"."""
    return f"{EXAMPLE_PREFIX}{text}"


def is_placeholder(value: object) -> bool:
    """True when a cell still holds text a template wrote to be replaced."""
    if not isinstance(value, str):
        return False
    text = plain_text(value)
    return bool(text) and (text in _LEGACY or _PATTERN.match(text) is not None)


def placeholder_message(value: object) -> str:
    """What to do about a placeholder cell (Chinese, for a located warning)."""
    text = plain_text(value)
    if text.startswith("示例"):
        return "模板示例内容未替换：请改为本项目的实际内容（保留该行时删去「示例：」字样）"
    return "模板占位文字未替换：请填写本项目的实际内容"
