"""The 项目支出绩效自评表 as evaluators receive it (财预〔2020〕10号 附件2 and its variants), read directly.

One project per sheet; a workbook may hold several (hidden sheets are skipped); a CSV transcription is one
sheet. The sheet is found by its cells, not its name: an indicator header (指标值/目标值 + 得分 + two of
一级/二级/三级指标) and a title containing 自评表 or a funds header (预算数 + 执行数) within the first rows.
Labels in traditional characters are read too. What is read, and where it goes in the model:

* header block — 项目名称 / 主管部门 / 实施单位 / 项目编号 / 年度 as label-value pairs anywhere in a row
  (merged cells, "项目名称：…" in one cell); 年度 from the title ("（2023年度）"), else a 年度 cell, else the
  填报日期 (noted). Project id: the 项目编号/项目代码 cell, else the file stem (plus "-<sheet>" when the
  workbook has several sheets).
* funds block — 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分 with the rows 年度资金总额 and
  其中 当年财政拨款 / 上年结转资金 / 其他资金 (Hubei: 预算数(A) | 执行数(B) | 执行率 | 得分, weight from
  "(20分)"); amounts in 元 when the header or a 单位 note says so. 预算数 = 全年预算数, 执行数 = 全年执行数,
  funding from the 其中 rows. The table has no 到位数: it is taken as 全年预算数 (noted; 预算执行率 uses
  预算数 in the self scheme, so no score depends on it). The 年度资金总额 row becomes the indicator
  预算执行率 (rule execution, weight = its 分值, stated score = its 得分); a 其中 row repeating them is noted.
* 年度总体目标 — 预期目标 / 实际完成情况 texts go to `Project.narrative` (总体目标, 总体目标完成情况); the
  Hubei 偏差大或目标未完成原因分析 / 改进措施 rows to 存在问题 / 建议 (and to the reason of items scored short).
* indicator blocks — 一级/二级/三级指标, 年度指标值 (or 年初目标值, or 指标性质/计算符号 + 指标值 +
  度量单位/计量单位 combined into one target text), 实际完成值, 分值, 得分 (stated score), 偏差原因…
  (reason). Headers may take two rows. Merged 一级/二级 cells are inherited downwards within a block, except
  that a 二级 of another 一级 (社会效益指标 under 产出) follows its own 一级 (noted). A row without a target
  takes the table's 得分 as the evaluator's judgement (扣分, said so); without a 得分 too it is a located
  error. A Hubei block without a 分值 column takes its weights from the scores when they add up to the
  block's weight, else from the 一级 headers' weights, else shares the block's weight equally (noted).
  Template placeholders (指标1：, 指标2：, ……), 其中 breakdown rows, blank rows, 合计/总分 rows, subtotal
  rows and notes are not indicators.
* stated figures — 预算数, 执行数, 预算执行率 (the table's 执行率), 预算执行率得分, level subtotals,
  总分 and 等级 become `Project.stated` rows located as "自评表第N行「…」".

Every reading that is not a plain copy of a cell is noted in `Project.info` and in the report's
其他需要说明的问题. Every problem is located at the original row through the ordinary checkers.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from perfeval.errors import Problem, SchemeError
from perfeval.model import INDICATOR_COLUMNS, STATED_COLUMNS, Project
from perfeval.notation import normalise, parse_value, plain_text, split_weight
from perfeval.scheme import Scheme, load_scheme
from perfeval.sheets.indicators import check_indicators, check_weights
from perfeval.sheets.info import build_info
from perfeval.sheets.read import RawWorkbook, Table
from perfeval.sheets.stated import check_stated
from perfeval.table_scheme import PROVINCIAL_NAME, scheme_with_weights

#: rows scanned to decide whether a sheet is a 自评表
DETECT_ROWS = 40
DETECT_COLUMNS = 40
SCHEME_ID = "self"
WHERE = "自评表"

IND_COLUMNS: dict[str, tuple[str, ...]] = {
    "level1": ("一级指标", "一级"),
    "level2": ("二级指标", "二级"),
    "level3": ("三级指标", "三级"),
    "name": ("指标名称", "指标内容", "具体指标"),
    "op": ("指标性质", "计算符号", "符号", "运算符号", "计算方式"),
    "target": ("年度指标值", "指标值", "年初目标值", "目标值", "年度目标值", "预期指标值", "全年指标值",
               "预期目标值", "绩效目标值", "年初指标值"),
    "unit": ("度量单位", "计量单位", "单位"),
    "actual": ("实际完成值", "全年实际值", "实际值", "完成值", "全年实际完成值", "实际完成情况",
               "年度实际完成值", "实际完成", "全年完成值", "年终完成值"),
    "weight": ("分值", "权重", "指标分值", "权重分", "标准分值"),
    "stated_score": ("得分", "自评得分", "评价得分", "实际得分", "自评分"),
    "measure": ("改进措施", "整改措施"),
}
FUND_COLUMNS: dict[str, tuple[str, ...]] = {
    "initial": ("年初预算数", "年初预算"),
    "budget": ("全年预算数", "预算数", "调整后预算数", "全年预算", "预算金额", "调整预算数"),
    "spent": ("全年执行数", "执行数", "实际执行数", "全年实际支出", "实际支出", "执行金额", "全年执行", "预算执行数"),
    "weight": ("分值", "权重"),
    "rate": ("执行率", "预算执行率"),
    "score": ("得分",),
}
#: labels of the header/footer pairs -> key in the info record
INFO_LABELS: dict[str, str] = {
    "项目编号": "项目编号", "项目代码": "项目编号", "项目编码": "项目编号",
    "项目名称": "项目名称",
    "主管部门": "主管部门", "主管部门及代码": "主管部门", "主管单位": "主管部门",
    "实施单位": "实施单位", "项目实施单位": "实施单位",
    "单位名称": "单位名称", "预算单位": "单位名称", "填报单位": "单位名称",
    "年度": "年度", "预算年度": "年度", "评价年度": "年度",
    "填报日期": "填报日期", "填表日期": "填报日期",
    "填表人": "填表人", "填报人": "填表人", "联系电话": "联系电话", "项目负责人": "项目负责人",
    "项目负责人及电话": "项目负责人", "单位负责人": "单位负责人", "财务负责人": "财务负责人",
    "审核人": "审核人", "项目类别": "项目类别", "项目属性": "项目属性", "项目类型": "项目类型",
    "自评等级": "等级", "评价等级": "等级", "绩效等级": "等级", "等级": "等级", "自评结果": "等级",
    "自评得分": "总分", "总得分": "总分", "自评总分": "总分",
}
_NOTE = re.compile(r"\([^()]*\)")
_SPACE = re.compile(r"\s+")
_YEAR_TITLE = re.compile(r"((?:19|20)\d{2})\s*年度")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年")
_GRADES = frozenset({"优", "良", "中", "差", "优秀", "良好", "合格", "不合格", "较差"})
#: traditional -> simplified for the characters of the form's labels (tables are published in both scripts)
_T2S = str.maketrans(
    "項績評級標實際預數執單稱報門類別屬資總額財產質進滿務對會結轉餘萬達應監測據審編內計劃時間經濟態續響負責聯電話備註說"
    "與農黃岡礎設備費況項價値值優淨節約調當併舉點見錄權條體狀",
    "项绩评级标实际预数执单称报门类别属资总额财产质进满务对会结转余万达应监测据审编内计划时间经济态续响负责联电话备注说"
    "与农黄冈础设备费况项价值值优净节约调当并举点见录权条体状")
_DATE = re.compile(r"((?:19|20)\d{2})\s*[年\-/.]\s*(\d{1,2})")
_FUND_TITLES = ("项目资金", "资金情况", "预算执行", "年度预算")
_UNIT_NOTE = re.compile(r"(?:金额)?单位[:]?(万元|元)$")
_POINTS = re.compile(r"\((\d+(?:\.\d+)?)分")
_BLOCK = re.compile(r"年度绩效目标\s*\d*.*?\((\d+(?:\.\d+)?)分\)")
_TOTAL = re.compile(r"^(总分|合计|总计|得分合计|总得分|自评总分|分值合计)(\d|:|$)")
_FOOTER = re.compile(r"^(填表人|填报人|联系电话|填报日期|填表日期|审核人|单位负责人|财务负责人|制表人|"
                     r"注|备注|说明|附注)(\d|:|、|\.|$)")
_NARRATIVE_ROW = re.compile(r"^(偏差大或目标未完成原因分析|偏差原因分析|改进措施及结果应用方案|改进措施)")
_PLACEHOLDER = re.compile(r"^指标\s*\d+\s*[:：.．、]?\s*")  # the template's "指标1：" before a name
_FILLER = frozenset({"", "……", "…", "...", "。。。", "......", "等", "/"})
_OPERATORS = {"≥": "≥", "≤": "≤", ">": ">", "<": "<", "=": "=", "═": "=", "﹦": "=", "≧": "≥", "≦": "≤",
              "⩾": "≥", "⩽": "≤", ">=": "≥", "<=": "≤", "大于等于": "≥", "小于等于": "≤", "不低于": "≥",
              "不高于": "≤", "不少于": "≥", "不超过": "≤", "等于": "=", "大于": ">", "小于": "<", "高于": ">",
              "低于": "<"}
_NATURE_METHODS = {"正向": "正向", "正向指标": "正向", "反向": "反向", "反向指标": "反向", "定性": "定性",
                   "定性指标": "定性"}
_PERCENT_UNITS = ("%", "百分比")
_FUND_ROWS = (("资金总额", "total"), ("合计", "total"), ("总额", "total"), ("财政拨款", "当年财政拨款"),
              ("财政资金", "当年财政拨款"), ("上年结转", "上年结转资金"), ("结转", "上年结转资金"),
              ("其他资金", "其他资金"), ("其他", "其他资金"))


def _fold(value: object) -> str:
    """Cell text for matching: widths folded, spaces and line breaks removed, traditional characters simplified."""
    return _SPACE.sub("", normalise(value)).translate(_T2S)


def _key(value: object) -> str:
    """A header/label cell as a key: folded, notes in brackets and trailing colons removed."""
    text = _fold(value)
    return _NOTE.sub("", text).rstrip(":") or text.rstrip(":")


def _blank(value: object) -> bool:
    return normalise(value) == ""


@dataclass
class _Grid:
    """One sheet: raw values and header keys, both as lists of rows."""

    name: str
    values: list[list[object]]
    keys: list[list[str]]

    @classmethod
    def of(cls, name: str, grid: pd.DataFrame, rows: int | None = None, columns: int | None = None) -> _Grid:
        part = grid.iloc[:rows, :columns] if rows or columns else grid
        values = [[None if isinstance(v, str) and v == "" else v for v in row]
                  for row in part.to_numpy(dtype=object).tolist()]
        return cls(name, values, [[_key(v) if v is not None else "" for v in row] for row in values])

    def first(self, r: int, upto: int | None = None) -> tuple[int, str] | None:
        """(column, folded text) of the first non-empty cell of row r (before column `upto`)."""
        for c, v in enumerate(self.values[r][:upto]):
            if not _blank(v):
                return c, _fold(v)
        return None


def _match(key: str, spec: dict[str, tuple[str, ...]]) -> str | None:
    for canon, names in spec.items():
        if key in names:
            return canon
    if spec is IND_COLUMNS and "原因" in key:
        return "reason"
    return None


def _header(keys: list[str], spec: dict[str, tuple[str, ...]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for c, key in enumerate(keys):
        canon = _match(key, spec) if key else None
        if canon and canon not in found:
            found[canon] = c
    return found


def _is_indicator_header(found: dict[str, int]) -> bool:
    return {"target", "stated_score"} <= set(found) and len({"level1", "level2", "level3", "name"} & set(found)) >= 2


def _indicator_header(keys: list[list[str]], r: int) -> tuple[dict[str, int], int] | None:
    """(columns, rows the header takes) when row r starts an indicator header: one row, or two rows where the
    second holds only header words (一级指标 … under 绩效指标, or 计算符号 | 指标值 | 计量单位 under 年度指标值)."""
    found = _header(keys[r], IND_COLUMNS)
    if found and r + 1 < len(keys):
        below = [(c, k) for c, k in enumerate(keys[r + 1]) if k]
        if below and all(_match(k, IND_COLUMNS) for _, k in below):
            merged = {**found, **{_match(k, IND_COLUMNS): c for c, k in below}}
            if _is_indicator_header(merged):
                return _with_level1(merged), 2
    return (_with_level1(found), 1) if _is_indicator_header(found) else None


def _with_level1(found: dict[str, int]) -> dict[str, int]:
    """A garbled 一级指标 header (OCR) still leaves its column: the one left of 二级指标."""
    if "level1" not in found and "level2" in found and found["level2"] > 0 \
            and found["level2"] - 1 not in found.values():
        return {**found, "level1": found["level2"] - 1}
    return found


def _is_funds_header(found: dict[str, int]) -> bool:
    return {"budget", "spent"} <= set(found)


def is_selfeval_grid(grid: pd.DataFrame) -> bool:
    """True when a sheet's first rows hold a 自评表: an indicator header, and a title with 自评表 or a
    funds header. Cheap: at most DETECT_ROWS × DETECT_COLUMNS cells are looked at."""
    if grid.empty:
        return False
    g = _Grid.of("", grid, DETECT_ROWS, DETECT_COLUMNS)
    titled = funds = indicators = False
    for r, keys in enumerate(g.keys):
        titled = titled or (r < 6 and any("自评表" in k for k in keys))
        funds = funds or _is_funds_header(_header(keys, FUND_COLUMNS))
        indicators = indicators or _indicator_header(g.keys, r) is not None
        if indicators and (titled or funds):
            return True
    return False


def _candidates(raw: RawWorkbook) -> dict[str, pd.DataFrame]:
    """Every sheet by name; a CSV file is one sheet named after the file."""
    if raw.grids:
        return raw.grids
    return {raw.sheet_names.get(k, k): grid for k, grid in raw.sheets.items()}


def selfeval_sheets(raw: RawWorkbook) -> list[str]:
    """Names of the visible sheets of `raw` that are 自评表 (none for perfeval's own format)."""
    if "项目信息" in raw.sheets:
        return []
    return [name for name, grid in _candidates(raw).items()
            if not grid.attrs.get("hidden", False) and is_selfeval_grid(grid)]


# ---------------------------------------------------------------------------------------------- reading a sheet


@dataclass
class _Block:
    """An indicator header: its row, the columns of each field, the first body row and the block weight."""

    row: int
    columns: dict[str, int]
    bounds: list[int]
    body: int
    weight: float | None = None


@dataclass
class _Sheet:
    """What one sheet says, before checking."""

    pairs: dict[str, object] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    indicators: list[dict] = field(default_factory=list)
    stated: list[dict] = field(default_factory=list)
    narrative: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    funds: dict[str, str] = field(default_factory=dict)  # funds block field -> header as written
    problems: list[tuple[int | None, str | None, str | None, str]] = field(default_factory=list)
    #: findings about the table as printed that do not stop it being scored:
    #: (row, column, value, message, code[, severity — "warning" when left out])
    notes: list[tuple] = field(default_factory=list)

    def put(self, key: str, value: object, row: int | None, overwrite: bool = False) -> None:
        if _blank(value) and key in self.pairs:
            return
        if overwrite or key not in self.pairs or _blank(self.pairs[key]):
            self.pairs[key] = value
            if row is not None:
                self.rows[key] = row

    def state(self, item: str, value: object, row: int, label: str) -> None:
        if plain_text(value):
            label = _SPACE.sub("", label)
            self.stated.append({"item": item, "text": value, "where": f"{WHERE}第{row}行「{label}」", "row": row})


def _span(g: _Grid, r: int, col: int, bounds: list[int]) -> object:
    """The value of a field in row r: its header column, or the first filled cell of the merged span."""
    end = next((b for b in bounds if b > col), len(g.values[r]))
    for c in range(col, min(end, len(g.values[r]))):
        if not _blank(g.values[r][c]):
            return g.values[r][c]
    return None


def _bounds(g: _Grid, *rows: int) -> list[int]:
    return sorted({c for r in rows for c, k in enumerate(g.keys[r]) if k})


_INLINE = re.compile(r"([^\s:：]{2,8})\s*[:：]\s*([^:：]*?)(?=\s+[^\s:：]{2,8}\s*[:：]|$)")


def _label_pairs(g: _Grid, r: int, sheet: _Sheet) -> None:
    """Label-value pairs of row r: "标签 | 值" across cells, or "标签：值" inside one cell (several allowed).
    A label followed directly by another label has no value."""
    row = g.values[r]
    for c, value in enumerate(row):
        if _blank(value):
            continue
        key = g.keys[r][c]
        text = normalise(value)
        inline = [m for m in _INLINE.finditer(text) if _key(m.group(1)) in INFO_LABELS]
        if inline:
            for m in inline:
                sheet.put(INFO_LABELS[_key(m.group(1))], m.group(2).strip() or None, r + 1)
            continue
        if key in INFO_LABELS:
            nxt = next(((v, k) for v, k in zip(row[c + 1:], g.keys[r][c + 1:], strict=True) if not _blank(v)),
                       (None, ""))
            sheet.put(INFO_LABELS[key], None if nxt[1] in INFO_LABELS else nxt[0], r + 1)


def _year(g: _Grid, sheet: _Sheet, title_rows: int) -> None:
    titles = [(r, _fold(v)) for r in range(min(title_rows, len(g.values))) for v in g.values[r] if not _blank(v)]
    for r, text in titles:
        m = _YEAR_TITLE.search(text) if "填报" not in text else None
        m = m or (_YEAR_IN_TITLE.search(text) if "自评表" in text or "评价表" in text else None)
        if m:
            sheet.put("年度", int(m.group(1)), r + 1, overwrite=True)
            return
    if not _blank(sheet.pairs.get("年度")):
        return
    filled = sheet.pairs.get("填报日期")
    year = year_from_fill_date(filled)
    if year is None:
        return
    sheet.put("年度", year, sheet.rows.get("填报日期"))
    said = f"表中未写年度，按填报日期「{plain_text(filled)}」推定为 {year} 年度，请核对"
    sheet.pairs["年度说明"] = said
    sheet.notes.append((sheet.rows.get("填报日期"), "填报日期", plain_text(filled), said, "year_inferred"))


def year_from_fill_date(filled: object) -> int | None:
    """The year a table covers, from its 填报日期: a 自评表 is filled in after the year it covers — early in the
    next year, or in its last quarter (None when no date can be read)."""
    if isinstance(filled, dt.date | dt.datetime):
        year, month = filled.year, filled.month
    else:
        m = _DATE.search(_fold(filled)) if not _blank(filled) else None
        if not m:
            return None
        year, month = int(m.group(1)), int(m.group(2))
    return year if month >= 10 else year - 1


def _funds(g: _Grid, h: int, found: dict[str, int], sheet: _Sheet, stop: int) -> dict | None:
    """The funds block under header row h; returns the 年度资金总额 row's fields."""
    bounds = _bounds(g, h)
    first_col = min(found.values())
    labels = {canon: _SPACE.sub("", plain_text(g.values[h][c])) for canon, c in found.items()}
    sheet.funds.update(labels)
    points = None
    for r in (h, h - 1):
        if r >= 0:
            m = next((_POINTS.search(k) for k in map(_fold, g.values[r]) if _POINTS.search(k)), None)
            if m:
                points = float(m.group(1))
                break
    heading = "".join(_fold(v) for row in (h - 1, h) if row >= 0 for v in g.values[row] if not _blank(v))
    notes = [m.group(1) for row in g.values[:h] for v in row if not _blank(v) and (m := _UNIT_NOTE.search(_fold(v)))]
    # "项目资金（元）" in the header, or a "单位：元" note above the table: amounts in 元, not 万元
    yuan = ("(元)" in heading and "万元" not in heading) or ("万元" not in heading and notes[-1:] == ["元"])
    if yuan:
        sheet.pairs["金额单位说明"] = "自评表资金栏以「元」为单位，已换算为万元"
    total: dict | None = None
    for r in range(h + 1, min(stop, h + 9)):
        # the row's label: left of the amounts, after a block title merged down the first column
        names = [_fold(v).removeprefix("其中").lstrip(":") for v in g.values[r][:first_col] if not _blank(v)]
        label = names[-1] if names else ""
        kind = next((k for text in names for word, k in _FUND_ROWS if word in text), None)
        if kind is None and "资金" in label and not label.startswith(_FUND_TITLES):
            kind = label  # another source of funds (财政专户管理资金, 单位资金 …): kept as written
        if kind is None:
            if label or any(not _blank(v) for v in g.values[r]):
                break
            continue
        values = {canon: _span(g, r, c, bounds) for canon, c in found.items()}
        if yuan:
            values.update({c: f"{plain_text(values[c])}元" for c in ("initial", "budget", "spent")
                           if plain_text(values.get(c)) and _number(values[c]) is not None})
        if kind == "total" and total is None:
            total = {"row": r + 1, "labels": labels, "points": points, **values}
            sheet.put("全年预算数", values.get("budget"), r + 1)
            sheet.put("全年执行数", values.get("spent"), r + 1)
            sheet.put("到位数", values.get("budget"), r + 1)
            if not _blank(values.get("initial")):
                sheet.put("年初预算数", values.get("initial"), r + 1)
            # the row's 得分 is the execution indicator's stated score (stating it again would report one cell twice)
            for item, canon in (("预算数", "budget"), ("执行数", "spent"), ("预算执行率", "rate")):
                sheet.state(item, values.get(canon), r + 1, labels.get(canon, item))
        elif kind != "total":
            sheet.put(kind, values.get("budget"), r + 1)
            repeated = {c: values.get(c) for c in ("weight", "score") if _number(values.get(c)) is not None}
            if repeated:  # the 其中 row repeats the execution row's 分值/得分: shown, never counted twice
                shown = "、".join(f"{_SPACE.sub('', labels[c])} {plain_text(v)}" for c, v in repeated.items())
                written = _SPACE.sub("", plain_text(next(v for v in g.values[r] if not _blank(v))))
                said = f"「{written}」行也填写了{shown}；预算执行率只按「年度资金总额」行计分一次"
                sheet.pairs[f"资金明细说明（第{r + 1}行）"] = said
                sheet.notes.append((r + 1, _SPACE.sub("", labels.get("score", "得分")), shown,
                                    f"{said}（表中得分列合计时会重复计算）", "duplicate_indicator"))
    return total


def _goals(g: _Grid, r: int, sheet: _Sheet) -> None:
    """年度总体目标: 预期目标 / 实际完成情况 headers in row r or r+1, texts in the row below them."""
    for h in (r, r + 1):
        if h + 1 >= len(g.values):
            return
        cols = {("总体目标" if ("预期" in k or "设定" in k or k == "目标") else "总体目标完成情况"): c
                for c, k in enumerate(g.keys[h])
                if k and ("目标" in k or "完成情况" in k) and not k.startswith("年度总体")}
        if cols:
            bounds = _bounds(g, h)
            for name, c in cols.items():
                text = plain_text(_span(g, h + 1, c, bounds))
                if text:
                    sheet.narrative[name] = text
            return


def _block_weight(g: _Grid, h: int, found: dict[str, int]) -> float | None:
    mapped = set(found.values())
    cells = [_fold(v) for c, v in enumerate(g.values[h]) if c not in mapped and not _blank(v)]
    if h > 0:
        cells += [_fold(v) for v in g.values[h - 1] if not _blank(v)]
    for text in cells:
        m = _BLOCK.search(text)
        if m:
            return float(m.group(1))
    return None


def _blocks(g: _Grid) -> list[_Block]:
    blocks: list[_Block] = []
    for r in range(len(g.keys)):
        if blocks and r < blocks[-1].body:
            continue
        header = _indicator_header(g.keys, r)
        if header is None:
            continue
        found, height = header
        bounds = _bounds(g, *range(r, r + height))
        blocks.append(_Block(r, found, bounds, r + height, _block_weight(g, r, found)))
    return blocks


def _name(value: object) -> str:
    """An indicator name without the template's "指标1：" prefix; '' for the template's leftovers."""
    text = _PLACEHOLDER.sub("", plain_text(value), count=1).strip()
    return "" if _fold(text) in _FILLER or not plain_text(text) else text


def _operator(nature: str) -> tuple[str, str]:
    """(operator to put before the target, 评分方法) from a 指标性质 / 计算符号 cell."""
    text = _fold(nature)
    if text in _NATURE_METHODS:
        return "", _NATURE_METHODS[text]
    return _OPERATORS.get(text, ""), ""


def _with_unit(value: object, unit: str, op: str = "") -> str:
    """A 指标值 / 实际完成值 cell with the operator and unit of the separate columns put back in."""
    text = plain_text(value)
    if not text:
        return ""
    measure = parse_value(normalise(text))
    if op and measure.kind == "number" and measure.op is None:
        text = f"{op}{text}"
    bare_fraction = isinstance(value, int | float) and abs(float(value)) <= 1.5
    # an Excel percent cell holds a fraction (0.93 shown as 93%): it is kept bare, and scoring reads it as percent
    if unit and measure.kind in ("number", "range") and not measure.unit \
            and not (unit in _PERCENT_UNITS and bare_fraction):
        text = f"{text}{unit}"
    return text


def _total_row(g: _Grid, r: int, block: _Block, sheet: _Sheet) -> None:
    """The 总分 row: its 得分 (or a labelled 自评得分), and any 自评等级 beside it."""
    before = dict(sheet.pairs)
    _label_pairs(g, r, sheet)
    if "总分" in sheet.pairs and "总分" not in before:
        score = sheet.pairs.pop("总分")
        sheet.rows.pop("总分", None)
    else:
        score = _span(g, r, block.columns["stated_score"], block.bounds)
        if _blank(score):
            weight_col = block.columns.get("weight")
            numbers = [v for c, v in enumerate(g.values[r]) if c != weight_col and _number(v) is not None]
            score = numbers[-1] if numbers else None
    sheet.state("总分", score, r + 1, "总分")
    grade = next((v for v in g.values[r] if not _blank(v) and _fold(v) in _GRADES), None)
    if grade is not None and "等级" not in sheet.pairs:  # "总分 | 100 | 96 | 优"
        sheet.state("等级", plain_text(grade), r + 1, "等级")


def _number(value: object) -> float | None:
    m = parse_value(normalise(value)) if not _blank(value) else None
    return m.value if m is not None and m.kind == "number" and m.op is None and not m.unit else None


def _indicator_rows(g: _Grid, block: _Block, end: int, sheet: _Sheet, weights_so_far: float) -> int:
    """Rows of one block into sheet.indicators; returns the row where the block stopped."""
    cols = block.columns
    label_end = max(cols.get(c, -1) for c in ("level1", "level2", "level3", "name")) + 1
    rows: list[dict] = []
    breakdown: list[int] = []
    level1 = level2 = ""
    r, stop = block.body, end
    while r < end:
        first = g.first(r)
        if first is None:
            r += 1
            continue
        labelled = g.first(r, label_end)
        if (labelled and _TOTAL.match(labelled[1])) or _TOTAL.match(first[1]):
            _total_row(g, r, block, sheet)
            stop = r + 1
            break
        if _FOOTER.match(first[1]) or _NARRATIVE_ROW.match(first[1]) or _BLOCK.search(first[1]):
            stop = r
            break
        cell = {canon: _span(g, r, c, block.bounds) for canon, c in cols.items() if canon != "reason"}
        if "reason" in cols:
            cell["reason"] = _span(g, r, cols["reason"], block.bounds)
        raw1, raw2 = (_fold(cell.get(c)) if plain_text(cell.get(c)) else "" for c in ("level1", "level2"))
        level1 = raw1 or level1
        level2 = raw2 or (level2 if not raw1 else "")
        parent = _parent(level2)
        if not raw1 and parent and parent[:-2] not in level1:
            # 一级 left blank under a 二级 that belongs elsewhere (社会效益指标 under 产出指标): follow the 二级
            if level1:
                sheet.pairs[f"一级指标说明（第{r + 1}行）"] = (f"一级指标空白，按二级指标「{level2}」归入「{parent}」"
                                                          f"（而非上方的「{level1}」）")
            level1 = parent
        name = _name(cell.get("level3")) or _name(cell.get("name"))
        values = [plain_text(cell.get(c)) for c in ("weight", "target", "actual", "stated_score")]
        values = [v for v in values if v not in ("……", "…", "...")]
        if not name and not any(values):
            r += 1
            continue
        if name.startswith("其中") and not plain_text(cell.get("weight")) and not plain_text(cell.get("stated_score")):
            breakdown.append(r + 1)  # "其中…" rows itemise the indicator above; they carry no points
            r += 1
            continue
        if not name and not plain_text(cell.get("level3")):
            # a subtotal (一级/二级 label with its 分值 and 得分) or an unlabelled total row
            weight = _number(cell.get("weight"))
            listed = weights_so_far + sum(_number(x["weight"]) or 0.0 for x in rows)
            if (raw1 or raw2) and not plain_text(cell.get("target")) and not plain_text(cell.get("actual")):
                label = raw1 or raw2
                sheet.state(f"{re.sub(r'[（(].*', '', label)}得分", cell.get("stated_score"), r + 1,
                            f"{label}·得分")
                r += 1
                continue
            if weight is not None and listed > 0 and abs(weight - listed) < 1e-6:
                _total_row(g, r, block, sheet)
                stop = r + 1
                break
        op, method = _operator(plain_text(cell.get("op")))
        unit = plain_text(cell.get("unit"))
        row = {
            "row": r + 1, "level1": level1, "level2": level2, "level3": name if "level3" in cols else "",
            "name": "" if "level3" in cols else name,
            "weight": cell.get("weight"), "target": _with_unit(cell.get("target"), unit, op),
            "actual": _with_unit(cell.get("actual"), unit), "method": method,
            "stated_score": cell.get("stated_score"), "deduction": None, "deduction_reason": "",
            "reason": plain_text(cell.get("reason")), "measure": plain_text(cell.get("measure")),
        }
        if not row["target"] and not method:
            _without_target(row, sheet)
        rows.append(row)
        r += 1
    if "weight" not in cols and rows:
        note = _infer_weights(rows, block.weight)
        if note:
            sheet.pairs[f"分值说明（第{block.row + 1}行）"] = note
    if breakdown:
        sheet.pairs[f"其中明细说明（第{block.row + 1}行起）"] = (
            f"第{'、'.join(map(str, breakdown))}行为上一指标的「其中」明细（无分值、无得分），未作为指标计分")
    sheet.indicators.extend(rows)
    return stop


def _without_target(row: dict, sheet: _Sheet) -> None:
    """A 自评表 row with no 年度指标值 has nothing to score against: the table's own 得分 is taken as the
    evaluator's judgement (评分方法 扣分, said so in 扣分原因); with no 得分 either it cannot be scored."""
    weight, stated = _number(row["weight"]), _number(row["stated_score"])
    if weight is not None and stated is not None and stated >= 0:
        lost = max(weight - stated, 0.0)
        row.update(method="扣分", deduction=lost,
                   deduction_reason=f"表中未填年度指标值，按表中得分 {stated:g} 分计（扣 {lost:g} 分）")
    elif weight is not None:
        sheet.problems.append((row["row"], sheet.headers.get("target", "年度指标值"), None,
                               "年度指标值和得分均为空：该指标无法评分；请填写指标值、实际完成值和得分，或删除该行"))


#: Project.info notes that say how the table was read (shown in the report's 其他需要说明的问题)
READING_NOTES = ("年度说明", "金额单位说明", "到位数说明", "预算执行率分值说明", "资金明细说明", "分值说明",
                 "一级指标说明", "其中明细说明")


def _reading_notes(file: str, sheet_name: str, info: dict[str, str]) -> str:
    notes = [f"{key}：{text}" for key, text in info.items() if key.startswith(READING_NOTES)]
    lines = [f"本表据项目支出绩效自评表（{Path(file).name}，工作表「{sheet_name}」）读取。"]
    lines += [f"{i}. {text}" for i, text in enumerate(notes, start=1)]
    return "\n".join(lines) if notes else ""


_LEVEL2_PARENTS = (("满意度", "满意度指标"), ("效益", "效益指标"), ("可持续", "效益指标"), ("数量", "产出指标"),
                   ("质量", "产出指标"), ("时效", "产出指标"), ("进度", "产出指标"), ("成本", "产出指标"))


def _parent(level2: str) -> str:
    """The 一级 a 10号 二级 indicator belongs to ('' when the 二级 is not one of the framework's)."""
    return next((parent for word, parent in _LEVEL2_PARENTS if word in level2), "")


def _infer_weights(rows: list[dict], block_weight: float | None) -> str:
    """Weights of a block printed without a 分值 column (Hubei); returns the note saying how they were read.

    1. the items' stated scores, rounded up to whole points, when they add up to the block's weight (every
       item then scored out of a whole number of points, as the form is filled in);
    2. else each 一级 weight in its header ("产出指标 (60 分)") shared equally among its items;
    3. else the block's weight shared equally among its items.
    """
    scores = [_number(row["stated_score"]) for row in rows]
    ceilings = [math.ceil(x - 1e-9) for x in scores if x is not None]
    if block_weight is not None and len(ceilings) == len(rows) and abs(sum(ceilings) - block_weight) < 1e-9:
        for row, weight in zip(rows, ceilings, strict=True):
            row["weight"] = float(weight)
        return (f"表中未列各指标分值：各指标得分取整后合计 {block_weight:g} 分，与该年度绩效目标分值相符，"
                f"按此作为各指标分值（{'、'.join(f'{w:g}' for w in ceilings)}）")
    declared: dict[str, float | None] = {}
    for row in rows:
        declared.setdefault(row["level1"], split_weight(row["level1"])[1])
    if all(w is not None for w in declared.values()):
        counts = Counter(row["level1"] for row in rows)
        for row in rows:
            row["weight"] = declared[row["level1"]] / counts[row["level1"]]
        parts = "、".join(f"{split_weight(level)[0]} {declared[level]:g} 分在 {counts[level]} 个指标间平均分配"
                        for level in declared)
        return f"表中未列各指标分值：按一级指标标注的分值平均分配（{parts}）"
    if block_weight is None:
        return ""
    share = block_weight / len(rows)
    for row in rows:
        row["weight"] = share
    return (f"表中未列各指标分值：按该年度绩效目标 {block_weight:g} 分在 {len(rows)} 个指标间平均分配，"
            f"每个指标 {share:.4g} 分")


def _execution_row(total: dict, scheme: Scheme, sheet: _Sheet) -> dict:
    weight = total.get("weight")
    if _blank(weight) and total.get("points") is not None:
        weight = total["points"]
    if _blank(weight):
        level = next((lv for lv in scheme.levels if lv.name == "预算执行率"), None)
        if level is not None:
            weight = level.weight
            sheet.pairs["预算执行率分值说明"] = (f"表中未填预算执行率分值，按评价方案「{scheme.name}」"
                                           f"计 {level.weight:g} 分")
    return {"row": total["row"], "level1": "预算执行率", "level2": "", "level3": "预算执行率", "name": "",
            "weight": weight, "target": "", "actual": "", "method": "预算执行率",
            "stated_score": total.get("score"), "deduction": None, "deduction_reason": "", "reason": "",
            "measure": ""}


def _read_sheet(g: _Grid, scheme: Scheme) -> _Sheet:
    sheet = _Sheet()
    blocks = _blocks(g)
    funds_rows = [(r, found) for r, keys in enumerate(g.keys)
                  if _is_funds_header(found := _header(keys, FUND_COLUMNS)) and not _is_indicator_header(
                      _header(keys, IND_COLUMNS))]
    first_block = blocks[0].row if blocks else len(g.values)
    head_end = min([first_block, *(r for r, _ in funds_rows)])
    for r in range(head_end):
        _label_pairs(g, r, sheet)
    total = None
    if funds_rows:
        r, found = funds_rows[0]
        total = _funds(g, r, found, sheet, first_block)
        if total is None:
            sheet.problems.append((r + 1, None, None, "资金栏中找不到「年度资金总额」行，无法读取预算数和执行数"))
    else:
        sheet.problems.append((None, None, None, "找不到资金栏：自评表应有「全年预算数」「全年执行数」列和"
                                                 "「年度资金总额」行"))
    for r in range(head_end, first_block):
        if any(k.startswith("年度总体目标") for k in g.keys[r]):
            _goals(g, r, sheet)
            break
    if total is not None:
        sheet.indicators.append(_execution_row(total, scheme, sheet))
        sheet.headers.update({"weight": total["labels"].get("weight", "分值"),
                              "stated_score": total["labels"].get("score", "得分")})
    last = first_block
    for i, block in enumerate(blocks):
        end = blocks[i + 1].row if i + 1 < len(blocks) else len(g.values)  # a title row above it stops too
        listed = sum(_number(x["weight"]) or 0.0 for x in sheet.indicators)
        for canon, c in block.columns.items():
            sheet.headers.setdefault(canon, _SPACE.sub("", plain_text(g.values[block.row][c])))
        last = _indicator_rows(g, block, end, sheet, listed)
    for r in range(last, len(g.values)):
        first = g.first(r)
        if first and _NARRATIVE_ROW.match(first[1]):
            cells = [(c, v) for c, v in enumerate(g.values[r]) if not _blank(v)]
            for (_, label), (_, text) in zip(cells[::2], cells[1::2], strict=False):
                key, text = _key(label), plain_text(text)
                sheet.narrative[key] = text
                # the report's own sections: 存在问题及原因分析, 有关建议
                section = "存在问题" if "原因" in key else "建议" if "措施" in key else ""
                if section and text:
                    sheet.narrative.setdefault(section, text)
            continue
        _label_pairs(g, r, sheet)
    _year(g, sheet, max(head_end, 1))
    reason = next((text for label, text in sheet.narrative.items() if label.startswith("偏差")), "")
    if reason and not any("reason" in b.columns for b in blocks):
        # Hubei: no reason column; the 偏差大或目标未完成原因分析 row below the table explains the items
        # the table itself scores below their weight
        for row in sheet.indicators:
            weight, stated = _number(row["weight"]), _number(row["stated_score"])
            if weight is not None and stated is not None and stated < weight - 1e-9:
                row["reason"] = reason
    if "总分" in sheet.pairs:  # "自评得分：92.5" written below the table
        sheet.state("总分", sheet.pairs.pop("总分"), sheet.rows.pop("总分", 0), "自评得分")
    if "等级" in sheet.pairs:
        sheet.state("等级", sheet.pairs.pop("等级"), sheet.rows.pop("等级", 0), "自评等级")
    return sheet


# ------------------------------------------------------------------------------------------------ to projects


def _project_id(raw: RawWorkbook, sheet_name: str, pairs: dict) -> str:
    written = plain_text(pairs.get("项目编号"))
    if written:
        return written
    return raw.path.stem if len(_candidates(raw)) == 1 else f"{raw.path.stem}-{sheet_name}"


def _frame(records: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns)).astype(object)
    return frame.where(frame.notna(), None)  # one missing value, None (an all-empty column would be NaNs)


def read_selfeval(raw: RawWorkbook, scheme: str | Path | Scheme | None = None) -> list:
    """Every 自评表 sheet of `raw` as a `ProjectRead` (problems located at the sheet's Excel rows)."""
    from perfeval.sheets.load import ProjectRead

    file = str(raw.path)
    reads: list[ProjectRead] = []
    try:
        chosen = load_scheme(scheme if scheme is not None else SCHEME_ID)
    except SchemeError as exc:
        return [ProjectRead(raw.path.stem, None, [Problem(file, None, None, None, None, str(exc))])]
    for sheet_name in selfeval_sheets(raw):
        g = _Grid.of(sheet_name, _candidates(raw)[sheet_name])
        reads.append(_read_project(raw, sheet_name, g, chosen, provincial=scheme is None))
    counts = Counter(r.key for r in reads)
    for r in reads:
        if counts[r.key] > 1:
            r.problems.append(Problem(file, None, None, "项目编号", r.key,
                                      "项目编号重复（同一工作簿中有多个相同编号的自评表）"))
            r.project = None
    return reads


def _provincial_scheme(g: _Grid, frame: pd.DataFrame, scheme: Scheme) -> Scheme | None:
    """The Hubei-style form (预算执行情况 20 分 × 执行率, then 年度绩效目标 blocks with their own weights) sets its own
    一级 weights: when its items add up to the scheme's total, they are the scheme's weights for this table (the
    10号 10/50/30/10 split would flag every such table). A table whose weights do not add up keeps the scheme."""
    if not any(block.weight is not None for block in _blocks(g)) or frame["weight"].isna().any():
        return None
    sums = frame.groupby("level1", sort=False)["weight"].sum()
    names = {lv.name: lv.weight for lv in scheme.levels}
    if not set(sums.index) <= set(names) or abs(float(sums.sum()) - scheme.total_weight) > 1e-6:
        return None
    if all(abs(float(sums.get(n, 0.0)) - w) <= 1e-6 for n, w in names.items()):
        return None
    return scheme_with_weights(scheme.id, {str(k): float(v) for k, v in sums.items()}, PROVINCIAL_NAME)


def _read_project(raw: RawWorkbook, sheet_name: str, g: _Grid, scheme: Scheme, provincial: bool = False):
    from perfeval.sheets.load import ProjectRead

    file = str(raw.path)
    sheet = _read_sheet(g, scheme)
    pairs = dict(sheet.pairs)
    key = _project_id(raw, sheet_name, pairs)
    pairs["项目编号"] = key
    unit = pairs.get("实施单位")
    if (_blank(unit) or _fold(unit) == "本单位") and not _blank(pairs.get("单位名称")):
        pairs["实施单位"] = pairs["单位名称"]
    pairs["评价方式"] = "单位自评"
    if "全年预算数" in pairs:
        pairs["到位数说明"] = "自评表未列到位数，按全年预算数计（预算执行率按 全年执行数/全年预算数 计算，不受影响）"
    for k in ("总分", "等级"):
        pairs.pop(k, None)
    rows = dict(sheet.rows)
    rows.setdefault("项目编号", None)
    problems = [Problem(file, sheet_name, row, column, value, message)
                for row, column, value, message in sheet.problems]
    info_problems: list[Problem] = []
    info = build_info({"_pairs": pairs, "_rows": rows}, file, sheet_name, info_problems)
    no_funds = any("资金栏" in p.expected for p in problems)
    written = {"预算数": sheet.funds.get("budget"), "执行数": sheet.funds.get("spent")}
    problems += [replace(p, column=written.get(p.column) or p.column) for p in info_problems
                 # 到位数 is never in the table; a missing funds block is said once
                 if not (p.value is None and (p.column == "到位数" or (no_funds and p.column in written)))]
    keys = pd.Series(key, index=range(len(sheet.indicators)), dtype=object)
    frame = _frame(sheet.indicators, INDICATOR_COLUMNS)
    headers = {"level1": "一级指标", "level2": "二级指标", "level3": "三级指标", "weight": "分值",
               "target": "年度指标值", "actual": "实际完成值", "stated_score": "得分",
               "reason": "偏差原因分析及改进措施", **{k: v for k, v in sheet.headers.items() if k in INDICATOR_COLUMNS}}
    indicators = None
    if frame.empty:
        problems.append(Problem(file, sheet_name, None, None, None, "自评表中没有任何绩效指标行"))
    else:
        result = check_indicators(Table(sheet_name, frame, None, headers), file, scheme, keys)
        problems += [p for _, p in result.problems]
        own = _provincial_scheme(g, result.frame, scheme) if provincial else None
        if own is not None:
            split = "、".join(f"{lv.name}{lv.weight:g}分" for lv in own.levels)
            said = (f"湖北式自评表（预算执行情况与年度绩效目标分块）：一级指标按表内分值评分（{split}），"
                    "不按单位自评方案的 10/50/30/10")
            sheet.notes.append((None, "一级指标", None, said, "table_scheme", "info"))
            scheme = own
        problems += [p for _, p in check_weights(result.frame, file, sheet_name, scheme, result.declared,
                                                 headers.get("weight", "分值"))]
        indicators = result.frame.drop(columns="_key")
    stated_records = sheet.stated
    stated_frame = pd.DataFrame.from_records(stated_records, columns=["item", "text", "where", "row"])
    stated, stated_problems = check_stated(
        Table(sheet_name, stated_frame, None, {}), file, scheme,
        pd.Series(key, index=stated_frame.index, dtype=object))
    problems += [p for _, p in stated_problems]
    stated = stated.drop(columns="_key") if "_key" in stated else stated
    if indicators is None or not all(p.auditable for p in problems):
        return ProjectRead(key, None, problems)
    return ProjectRead(key, Project(
        id=info["id"], name=info["name"], department=info.get("department") or "", unit=info.get("unit") or "",
        year=info["year"], method=info.get("method") or scheme.name, scheme_id=scheme.spec,
        budget=info["budget"], allocated=info["allocated"], spent=info["spent"], funding=info["funding"],
        indicators=indicators, stated=stated.loc[:, list(STATED_COLUMNS)],
        narrative=_with_notes(sheet.narrative, _reading_notes(file, sheet_name, info["info"])),
        source=raw.path, sha256=raw.sha256, info=info["info"],
        sheet_findings=tuple(Problem(file, sheet_name, row, column, value, message, code, *severity or ("warning",))
                             for row, column, value, message, code, *severity in sheet.notes),
    ), problems)


def _with_notes(sections: dict[str, str], notes: str) -> dict[str, str]:
    out = dict(sections)
    if notes:
        key = "其他需要说明的问题"
        out[key] = f"{out[key]}\n{notes}" if out.get(key) else notes
    return out
