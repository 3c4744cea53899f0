"""The 报告数值 sheet (figures the report states) and the 文字 sheet (narrative sections)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from perfeval.errors import Problem
from perfeval.notation import is_empty, normalise, parse_amount, parse_rate, plain_text
from perfeval.scheme import Scheme
from perfeval.sheets.cells import Coded, cell_number, combine, unique_map
from perfeval.sheets.read import Table

#: stated items: canonical name -> (kind, aliases)
STATED_ITEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "总分": ("score", ("总得分", "综合得分", "评价得分", "自评得分", "总分值")),
    "等级": ("grade", ("绩效等级", "评价等级", "评级", "绩效评级")),
    "预算数": ("amount", ("预算资金", "全年预算数", "项目预算")),
    "到位数": ("amount", ("到位资金", "实际到位资金")),
    "执行数": ("amount", ("实际支出", "执行金额", "支出数", "全年执行数")),
    "预算执行率": ("rate", ("执行率", "资金执行率")),
    "资金到位率": ("rate", ("到位率",)),
    "偏差率": ("rate", ("预算偏差率", "执行偏差率")),
    # the score the execution row earns (分值 × 执行率); in the 自评 scheme also the level's subtotal
    "预算执行率得分": ("score", ("执行率得分", "预算执行得分", "资金执行率得分", "预算执行情况得分")),
}

def canonical_item(text: str, scheme: Scheme) -> tuple[str, str] | None:
    text = normalise(text).replace(" ", "")
    for item, (kind, aliases) in STATED_ITEMS.items():
        if text == item or text in aliases:
            return item, kind
    for suffix, kind in (("得分率", "rate"), ("得分", "score")):
        if text.endswith(suffix):
            level = scheme.level_of(text[: -len(suffix)].removesuffix("类指标").removesuffix("指标"))
            if level:
                return f"{level}{suffix}", kind
    return None


def stated_value(kind: str, text: object) -> tuple[float, str]:
    """(value, error) of one stated figure of the given kind."""
    if kind == "amount":
        value, err = parse_amount(text)
        return (math.nan if value is None else value), (err or ("" if value is not None else "应为金额（万元）"))
    if kind == "rate":
        value = parse_rate(text)
        return (math.nan, "应为百分比，如 95.6%") if value is None else (value, "")
    if kind == "score":
        value = cell_number(text)
        return (math.nan, "应为分数，如 99 或 19.78") if value is None else (value, "")
    return math.nan, ("" if not is_empty(text) else "等级不能为空")


def check_stated(table: Table, file: str, scheme: Scheme,
                  keys: pd.Series) -> tuple[pd.DataFrame, list[tuple[str, Problem]]]:
    """Stated figures of many projects (vectorised over rows); returns STATED_COLUMNS + `_key`."""
    frame = table.frame
    n = len(frame)

    def raw(column: str) -> Coded:
        if column not in frame:
            return Coded(np.zeros(n, dtype=np.intp), np.full(1, "", dtype=object))
        return Coded.of(frame[column]).map(plain_text).compact()

    item, text, where = (raw(c) for c in ("item", "text", "where"))
    keep = ~item.test(lambda t: t == "") | ~text.test(lambda t: t == "")
    found = item.map(lambda t: canonical_item(t, scheme))
    unknown = found.test(lambda f: f is None)
    row_at = frame["row"].astype(int).to_numpy()
    key_at = keys.to_numpy(dtype=object)
    problems: list[tuple[str, Problem]] = []
    levels = "、".join(f"{lv.name}得分" for lv in scheme.levels)
    for p in np.flatnonzero(keep & unknown):
        problems.append((key_at[p], Problem(file, table.sheet, int(row_at[p]), "数据项", item.at(p),
                                            f"未知的数据项；应为 总分、等级、预算数、到位数、执行数、预算执行率、"
                                            f"资金到位率、偏差率、预算执行率得分 或 {levels}（及相应得分率）")))
    rows = np.flatnonzero(keep & ~unknown)
    kind = found.map(lambda f: None if f is None else f[1]).compact()
    pair, first = combine(kind.codes[rows], text.codes[rows])
    parsed_at = [stated_value(kind.at(rows[i]), text.at(rows[i])) for i in first]
    error_at = np.asarray([err for _, err in parsed_at] + [""], dtype=object)[:-1][pair]
    for j in np.flatnonzero(error_at != ""):
        p = rows[j]
        problems.append((key_at[p], Problem(file, table.sheet, int(row_at[p]), "报告值", text.at(p), error_at[j])))
    ok = rows[error_at == ""]
    value_at = np.fromiter((value for value, _ in parsed_at), dtype=float, count=len(parsed_at))
    written = where.take(ok).array()
    blank = written == ""
    written[blank] = [f"{table.sheet}第{r}行" for r in row_at[ok][blank]]
    out = pd.DataFrame({
        "item": pd.Series(found.map(lambda f: None if f is None else f[0]).take(ok).array(), dtype=object),
        "value": value_at[pair[error_at == ""]] if len(ok) else np.zeros(0, dtype=float),
        "text": pd.Series(text.take(ok).array(), dtype=object),
        "where": pd.Series(written, dtype=object),
        "_key": keys.iloc[ok].reset_index(drop=True),
    })
    return out, problems


def narrative(table: Table | None) -> dict[str, str]:
    """The 文字 sheet's sections (a repeated section's contents joined by line breaks)."""
    if table is None:
        return {}
    keys = pd.Series("", index=table.frame.index, dtype=object)
    return narratives(table, keys).get("", {})


def narratives(table: Table | None, keys: pd.Series) -> dict[str, dict[str, str]]:
    """The 文字 sheet's sections of many projects (`keys`: each row's project key), in one pass."""
    out: dict[str, dict[str, str]] = {}
    if table is None:
        return out
    frame = table.frame
    none = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    section = unique_map(frame.get("section", none), plain_text).to_numpy(dtype=object)
    content = unique_map(frame.get("content", none), plain_text).to_numpy(dtype=object)
    for key, sec, text in zip(keys.to_numpy(dtype=object), section, content, strict=True):
        if sec and text:
            sections = out.setdefault(key, {})
            sections[sec] = f"{sections[sec]}\n{text}" if sec in sections else text
    return out
