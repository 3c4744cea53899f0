"""Check raw sheets and build `Project` objects, collecting every problem at once."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfeval.errors import Problem, SchemeError, SheetError
from perfeval.model import STATED_COLUMNS, Project
from perfeval.notation import (
    is_empty,
    normalise,
    parse_amount,
    parse_rate,
    parse_value,
    plain_text,
    split_weight,
)
from perfeval.rules import (
    NUMERIC_RULES,
    RULES_NEEDING_ACTUAL,
    RULES_NEEDING_TARGET,
    infer_rule,
    resolve_method,
)
from perfeval.scheme import Scheme, load_scheme
from perfeval.sheet import (
    INDICATOR_HEADERS,
    INDICATOR_LABELS,
    INFO_KEY_HEADERS,
    NARRATIVE_HEADERS,
    STATED_HEADERS,
    RawWorkbook,
    Table,
    locate_table,
    read_workbook,
)

INFO_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("项目编号", "项目代码", "编号"),
    "name": ("项目名称",),
    "department": ("主管部门", "主管单位"),
    "unit": ("实施单位", "项目单位", "预算单位"),
    "year": ("年度", "评价年度", "预算年度", "项目年度"),
    "method": ("评价方式", "评价类型", "评价方案"),
    "budget": ("预算数", "全年预算数", "预算资金", "预算金额", "项目预算", "预算数（万元）"),
    "allocated": ("到位数", "到位资金", "实际到位资金", "到位金额", "资金到位数"),
    "spent": ("执行数", "全年执行数", "实际支出", "支出数", "执行金额", "实际支出资金"),
}
FUNDING_KEYS: dict[str, tuple[str, ...]] = {
    "本级财政资金": ("本级财政资金", "本级财政拨款", "当年财政拨款", "本级资金", "本级"),
    "上级财政资金": ("上级财政资金", "上级补助资金", "上级资金", "上级", "中央及上级财政资金"),
    "上年结转资金": ("上年结转资金", "上年结转", "上年结余", "结转资金", "结转"),
    "其他资金": ("其他资金", "其他"),
}
REQUIRED_INFO = ("id", "name", "year", "budget", "allocated", "spent")
INFO_LABELS = {key: names[0] for key, names in INFO_KEYS.items()}

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
}
TOTAL_ROW_NAMES = ("合计", "总计", "总分", "小计", "合  计")


@dataclass
class ProjectRead:
    """One project read from a file: the project, or the problems that stopped it."""

    key: str
    project: Project | None
    problems: list[Problem] = field(default_factory=list)


def _cell(value: object) -> str:
    return plain_text(value)


def _number(value: object) -> float | None:
    text = normalise(value)
    if not text:
        return None
    try:
        number = float(text.replace(",", "").rstrip("分"))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# ---------------------------------------------------------------- 项目信息

def _info_records(grid: pd.DataFrame, file: str, sheet: str) -> tuple[list[dict], bool]:
    """Key-value rows -> one record; a table with 项目编号/项目名称 headers -> one record per row.

    A record maps each key as written to its value ("_pairs") and to its Excel row ("_rows")."""
    table = locate_table(grid, sheet, INFO_KEYS, scan_rows=5)
    if table is not None and {"id", "name"} <= set(table.headers) and len(table.headers) >= 3:
        header_cells = [normalise(c) for c in grid.iloc[table.header_row - 1].tolist()]
        records = []
        for excel_row in table.frame["row"]:
            values = grid.iloc[int(excel_row) - 1].tolist()
            if all(is_empty(v) for v in values):
                continue
            pairs = {key: value for key, value in zip(header_cells, values, strict=False) if key}
            records.append({"_pairs": pairs, "_rows": dict.fromkeys(pairs, int(excel_row))})
        return records, True
    rec: dict = {"_rows": {}, "_pairs": {}}
    for i, raw in enumerate(grid.itertuples(index=False)):
        nonempty = [c for c in raw if normalise(c) != ""]
        if not nonempty:
            continue
        key = normalise(nonempty[0]).rstrip(":：")
        if key in INFO_KEY_HEADERS:
            continue
        rec["_pairs"][key] = nonempty[1] if len(nonempty) > 1 else None
        rec["_rows"][key] = i + 1
    return [rec], False


def _lookup(pairs: dict, names: Iterable[str]) -> tuple[str | None, object]:
    for name in names:
        for key in (name, f"{name}（万元）", f"{name}(万元)"):
            if key in pairs:
                return key, pairs[key]
    return None, None


def _build_info(rec: dict, file: str, sheet: str, problems: list[Problem]) -> dict:
    pairs, rows = rec["_pairs"], rec["_rows"]
    out: dict = {"funding": {}, "info": {}}
    used: set[str] = set()
    for field_name, names in INFO_KEYS.items():
        key, value = _lookup(pairs, names)
        if key is not None:
            used.add(key)
        label = INFO_LABELS[field_name]
        where = rows.get(key) if key else None
        if key is None or is_empty(value):
            if field_name in REQUIRED_INFO:
                problems.append(Problem(file, sheet, where, label, None,
                                        f"缺少必填项「{label}」"))
            out[field_name] = None
            continue
        if field_name in ("budget", "allocated", "spent"):
            amount, err = parse_amount(value)
            if err:
                problems.append(Problem(file, sheet, where, label, _cell(value), err))
            elif amount is not None and amount < 0:
                problems.append(Problem(file, sheet, where, label, _cell(value), "金额不能为负数"))
            out[field_name] = amount
        elif field_name == "year":
            number = _number(value)
            if number is None or not number.is_integer() or not 1990 <= number <= 2100:
                problems.append(Problem(file, sheet, where, label, _cell(value),
                                        "应为四位年份，如 2022"))
                out[field_name] = None
            else:
                out[field_name] = int(number)
        else:
            out[field_name] = _cell(value)
    for source, names in FUNDING_KEYS.items():
        key, value = _lookup(pairs, names)
        if key is None:
            continue
        used.add(key)
        amount, err = parse_amount(value)
        if err:
            problems.append(Problem(file, sheet, rows.get(key), key, _cell(value), err))
        elif amount is not None:
            out["funding"][source] = amount
    for key, value in pairs.items():
        if key not in used and not is_empty(value):
            out["info"][key] = _cell(value)
    return out


# ---------------------------------------------------------------- 指标

def _ffill_merged(frame: pd.DataFrame, columns: Iterable[str], group: str | None) -> pd.DataFrame:
    """Merged 一级/二级/三级 cells arrive as one value then blanks: inherit downwards."""
    frame = frame.copy()
    for column in columns:
        if column not in frame:
            continue
        values = _unique_map(frame[column], lambda v: None if is_empty(v) else v)
        if group and group in frame:
            frame[column] = values.groupby(frame[group].map(_cell)).ffill()
        else:
            frame[column] = values.ffill()
    return frame


def _unique_map(series: pd.Series, func) -> pd.Series:
    """Apply `func` once per distinct value (sheets repeat the same texts across many rows)."""
    uniques = pd.unique(series.to_numpy(dtype=object))
    table = {u: func(u) for u in uniques}
    return pd.Series([table[v] for v in series.to_numpy(dtype=object)], index=series.index, dtype=object)


def _resolve_or_flag(value: object) -> str | None:
    try:
        return resolve_method(value)
    except ValueError:
        return "!"


INVALID_TARGET = "无法识别的指标值写法；应为如 ≥24人、＝100%、≤33.46万元、80%-90%、3~5个 或 有效提升"
INVALID_ACTUAL = "无法识别的实际完成值写法；应为数字加单位（如 24人、96%）或文字（如 达成预期指标）"


@dataclass
class CheckedIndicators:
    """Validated indicator rows of one or many projects, with their problems, keyed by project."""

    frame: pd.DataFrame  # INDICATOR_COLUMNS + "_key"
    problems: list[tuple[str, Problem]]
    declared: dict[str, dict[str, tuple[float, int]]]  # key -> level -> (weight in header, row)


def _check_indicators(table: Table, file: str, scheme: Scheme, keys: pd.Series) -> CheckedIndicators:
    """Validate indicator rows column by column (vectorised; a portfolio has 10⁵ rows)."""
    sheet, frame = table.sheet, table.frame
    n = len(frame)

    def raw(column: str) -> pd.Series:
        return frame[column] if column in frame else pd.Series([None] * n, index=frame.index, dtype=object)

    text = {c: _unique_map(raw(c), _cell) for c in INDICATOR_HEADERS if c != "project_id"}
    blank = {c: text[c] == "" for c in text}
    keep = ~(blank["name"] & blank["level3"] & blank["weight"] & blank["target"] & blank["actual"])
    labels = text["level1"].str.replace(" ", "") + "|" + text["level2"] + "|" + text["level3"] + "|" + text["name"]
    total_row = labels.map(lambda s: any(part in TOTAL_ROW_NAMES or part.startswith("合计")
                                         for part in s.split("|")))
    keep &= ~total_row.astype(bool)
    frame, keys = frame[keep], keys[keep]
    text = {c: v[keep] for c, v in text.items()}
    rows = frame["row"].astype(int)
    problems: list[tuple[str, Problem]] = []

    def bad(mask: pd.Series, column: str, expected, value: pd.Series | None = None) -> None:
        header = table.headers.get(column, INDICATOR_LABELS[column])
        shown = text[column] if value is None else value
        for i in mask[mask].index:
            message = expected(i) if callable(expected) else expected
            problems.append((keys[i], Problem(file, sheet, int(rows[i]), header, shown[i], message)))

    split1 = _unique_map(text["level1"], split_weight)
    level1 = _unique_map(text["level1"], lambda v: scheme.level_of(v) if v else None)
    bad(text["level1"] == "", "level1", "一级指标不能为空（合并单元格会自动向下继承）")
    names = "、".join(lv.name for lv in scheme.levels)
    bad((text["level1"] != "") & level1.isna(), "level1", f"一级指标应为评价方案「{scheme.name}」中的 {names} 之一")
    declared: dict[str, dict[str, tuple[float, int]]] = {}
    header_weight = split1.map(lambda t: t[1])
    for i in header_weight[header_weight.notna() & level1.notna()].index:
        declared.setdefault(keys[i], {}).setdefault(level1[i], (float(header_weight[i]), int(rows[i])))
    level2 = _unique_map(text["level2"], lambda v: split_weight(v)[0])
    level3 = _unique_map(text["level3"], lambda v: split_weight(v)[0])
    name = text["name"].where(text["name"] != "", level3)
    bad(name == "", "name", "指标名称不能为空")
    weight = pd.to_numeric(_unique_map(text["weight"], _number), errors="coerce").astype(float)
    bad(weight.isna() | (weight < 0), "weight", "分值应为非负数字，如 10 或 4.5")
    method = _unique_map(text["method"], _resolve_or_flag)
    bad(method == "!", "method", lambda i: _method_error(text["method"][i]))
    target = _unique_map(text["target"], parse_value)
    actual = _unique_map(text["actual"], parse_value)
    t_kind, a_kind = target.map(lambda m: m.kind), actual.map(lambda m: m.kind)
    bad(t_kind == "invalid", "target", INVALID_TARGET)
    bad(a_kind == "invalid", "actual", INVALID_ACTUAL)
    combos = pd.Series(list(zip(name, level3, text["target"], text["actual"], strict=True)), index=name.index)
    inferred = _unique_map(combos, lambda k: infer_rule(k[0], k[1], parse_value(k[2]), parse_value(k[3])))
    rule = method.where(method.notna() & (method != "!"), inferred)
    bad(rule.isin(RULES_NEEDING_TARGET) & (t_kind == "empty"), "target",
        lambda i: f"评分方法「{rule[i]}」需要指标值（目标值）")
    no_actual = rule.isin(RULES_NEEDING_ACTUAL) & (a_kind == "empty")
    bad(no_actual, "actual", "实际完成值为空；请填写实际完成情况")
    bad(~no_actual & rule.isin(NUMERIC_RULES) & target.map(lambda m: m.is_numeric) & (a_kind == "text"), "actual",
        lambda i: f"指标值「{text['target'][i]}」是数值，实际完成值也应写数值（如 24人、96%）")
    stated = pd.to_numeric(_unique_map(text["stated_score"], _number), errors="coerce").astype(float)
    bad((text["stated_score"] != "") & stated.isna(), "stated_score", "报告得分应为数字")
    deduction = pd.to_numeric(_unique_map(text["deduction"], _number), errors="coerce").astype(float)
    bad((text["deduction"] != "") & (deduction.isna() | (deduction < 0)), "deduction", "扣分应为非负数字")
    bad(deduction > weight, "deduction", lambda i: f"扣分不能超过该指标分值 {weight[i]:g}")
    ident = pd.DataFrame({"k": keys, "l1": level1.fillna(""), "l2": level2, "n": name})
    dup = ident.duplicated(keep="first") & (name != "")
    first_row = rows.groupby([ident["k"], ident["l1"], ident["l2"], ident["n"]]).transform("first")
    bad(dup, "name", lambda i: f"指标重复：与第{first_row[i]}行的同一指标（{level1[i]}/{level2[i]}/{name[i]}）重复",
        value=name)

    out = pd.DataFrame({
        "row": rows, "level1": level1.where(level1.notna(), split1.map(lambda t: t[0])).astype(object),
        "level2": level2.astype(object), "level3": level3.astype(object), "name": name.astype(object),
        "weight": weight, "target": text["target"].astype(object), "actual": text["actual"].astype(object),
        "method": method.where(method.notna() & (method != "!"), "").astype(object),
        "stated_score": stated, "deduction": deduction,
        "deduction_reason": text["deduction_reason"].astype(object), "reason": text["reason"].astype(object),
        "measure": text["measure"].astype(object), "_key": keys,
    })
    return CheckedIndicators(out.reset_index(drop=True), problems, declared)


def _method_error(value: str) -> str:
    try:
        resolve_method(value)
    except ValueError as exc:
        return str(exc)
    return ""


def _check_weights(frame: pd.DataFrame, file: str, sheet: str, scheme: Scheme,
                   declared: dict[str, dict[str, tuple[float, int]]], weight_label: str) -> list[tuple[str, Problem]]:
    """Weights of many projects (`_key` column): declared level weights and the total."""
    problems: list[tuple[str, Problem]] = []
    unusable = set(frame.loc[frame["weight"].isna(), "_key"])
    valid = frame[~frame["_key"].isin(unusable)]
    sums = valid.groupby(["_key", "level1"], sort=False)["weight"].sum()
    for key, levels in declared.items():
        if key in unusable:
            continue
        for level, (weight, row) in levels.items():
            got = float(sums.get((key, level), 0.0))
            if abs(got - weight) > 1e-6:
                message = f"一级指标「{level}」标注 {weight:g} 分，但其下各指标分值合计为 {got:g} 分"
                problems.append((key, Problem(file, sheet, row, "一级指标", f"{level}({weight:g}分)", message)))
    totals = valid.groupby("_key", sort=False)["weight"].sum()
    off = totals[(totals - scheme.total_weight).abs() > 1e-6]
    for key, rows in valid[valid["_key"].isin(off.index)].groupby("_key", sort=False):
        # point at the first level whose items do not add up to its weight
        culprit = rows["row"]
        for level in scheme.levels:
            level_rows = rows.loc[rows["level1"] == level.name, "row"]
            expected = declared.get(key, {}).get(level.name, (level.weight, 0))[0]
            if abs(float(sums.get((key, level.name), 0.0)) - expected) > 1e-6 and len(level_rows):
                culprit = level_rows
                break
        total = float(off[key])
        detail = "、".join(f"{lv.name}{float(sums.get((key, lv.name), 0.0)):g}" for lv in scheme.levels)
        problems.append((key, Problem(file, sheet, int(culprit.iloc[-1]), weight_label, f"合计 {total:g}",
                                      f"各指标分值合计应为 {scheme.total_weight:g} 分，实际为 {total:.10g} 分"
                                      f"（各一级指标合计：{detail}）")))
    return problems


# ---------------------------------------------------------------- 报告数值 / 文字

def _canonical_item(text: str, scheme: Scheme) -> tuple[str, str] | None:
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


def _stated_value(kind: str, text: object) -> tuple[float, str]:
    """(value, error) of one stated figure of the given kind."""
    if kind == "amount":
        value, err = parse_amount(text)
        return (math.nan if value is None else value), (err or ("" if value is not None else "应为金额（万元）"))
    if kind == "rate":
        value = parse_rate(text)
        return (math.nan, "应为百分比，如 95.6%") if value is None else (value, "")
    if kind == "score":
        value = _number(text)
        return (math.nan, "应为分数，如 99 或 19.78") if value is None else (value, "")
    return math.nan, ("" if not is_empty(text) else "等级不能为空")


def _check_stated(table: Table, file: str, scheme: Scheme,
                  keys: pd.Series) -> tuple[pd.DataFrame, list[tuple[str, Problem]]]:
    """Stated figures of many projects (vectorised over rows); returns STATED_COLUMNS + `_key`."""
    frame = table.frame
    n = len(frame)

    def raw(column: str) -> pd.Series:
        return frame[column] if column in frame else pd.Series([None] * n, index=frame.index, dtype=object)

    item_raw, text, where = (_unique_map(raw(c), _cell) for c in ("item", "text", "where"))
    keep = (item_raw != "") | (text != "")
    found = _unique_map(item_raw, lambda t: _canonical_item(t, scheme))
    rows = frame["row"].astype(int)
    problems: list[tuple[str, Problem]] = []
    levels = "、".join(f"{lv.name}得分" for lv in scheme.levels)
    for i in (keep & found.isna())[lambda m: m].index:
        problems.append((keys[i], Problem(file, table.sheet, int(rows[i]), "数据项", item_raw[i],
                                          f"未知的数据项；应为 总分、等级、预算数、到位数、执行数、预算执行率、"
                                          f"资金到位率、偏差率 或 {levels}（及相应得分率）")))
    keep &= found.notna()
    found, text, where, rows, keys = found[keep], text[keep], where[keep], rows[keep], keys[keep]
    pairs = pd.Series(list(zip(found.map(lambda f: f[1]), text, strict=True)), index=found.index, dtype=object)
    parsed = _unique_map(pairs, lambda kt: _stated_value(*kt))
    errors = parsed.map(lambda v: v[1])
    for i in errors[errors != ""].index:
        problems.append((keys[i], Problem(file, table.sheet, int(rows[i]), "报告值", text[i], errors[i])))
    ok = errors == ""
    out = pd.DataFrame({
        "item": found[ok].map(lambda f: f[0]).astype(object),
        "value": parsed[ok].map(lambda v: v[0]).astype(float),
        "text": text[ok].astype(object),
        "where": where[ok].where(where[ok] != "", rows[ok].map(lambda r: f"{table.sheet}第{r}行")).astype(object),
        "_key": keys[ok],
    })
    return out.reset_index(drop=True), problems


def _narrative(table: Table | None) -> dict[str, str]:
    sections: dict[str, str] = {}
    if table is None:
        return sections
    for row in table.frame.to_dict(orient="records"):
        section, content = _cell(row.get("section")), _cell(row.get("content"))
        if section and content:
            sections[section] = f"{sections[section]}\n{content}" if section in sections else content
    return sections


# ---------------------------------------------------------------- assembling projects

def _table(raw: RawWorkbook, canon: str, spec: dict, problems: list[Problem],
           required: bool) -> Table | None:
    file = str(raw.path)
    grid = raw.sheets.get(canon)
    sheet = raw.sheet_names.get(canon, canon)
    if grid is None:
        if required:
            problems.append(Problem(file, canon, None, None, None,
                                    f"缺少工作表「{canon}」（新建模板：perfeval template 模板.xlsx）"))
        return None
    if grid.dropna(how="all").empty or all(is_empty(v) for v in grid.to_numpy().ravel()):
        if required:
            problems.append(Problem(file, sheet, None, None, None, "工作表为空：没有任何数据"))
        return None
    table = locate_table(grid, sheet, spec)
    if table is None and required:
        names = "、".join(v[0] for k, v in spec.items() if k != "project_id")
        problems.append(Problem(file, sheet, 1, None, None, f"找不到表头行；应包含列：{names}"))
    return table


def _scheme_beside(method: str | None, workbook: Path) -> str | None:
    """A 评价方式 naming a .toml scheme file is read relative to the workbook's own folder."""
    if method and method.lower().endswith(".toml") and not Path(method).is_absolute():
        return str(workbook.parent / method)
    return method or None


def _split_by_key(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{key: rows of that key without the `_key` column}, one pass over the frame."""
    body = frame.drop(columns="_key")
    return {k: body.take(idx).reset_index(drop=True)
            for k, idx in frame.groupby("_key", sort=False).indices.items()}


def read_projects(path: str | Path, scheme: str | Path | Scheme | None = None) -> list[ProjectRead]:
    """Read every project in a file; problems are kept per project so one bad project
    in a portfolio does not stop the others. Raises SheetError only when the file itself is unusable."""
    raw = read_workbook(path)
    file = str(raw.path)
    problems: list[Problem] = []
    ind = _table(raw, "指标", INDICATOR_HEADERS, problems, required=True)
    info_grid = raw.sheets.get("项目信息")
    if info_grid is None:
        problems.append(Problem(file, "项目信息", None, None, None,
                                "缺少工作表「项目信息」（新建模板：perfeval template 模板.xlsx）"))
    if ind is not None:
        missing = [c for c in ("weight", "target", "actual") if c not in ind.headers]
        if "name" not in ind.headers and "level3" not in ind.headers:
            missing.insert(0, "name")
        for column in missing:
            problems.append(Problem(file, ind.sheet, ind.header_row, INDICATOR_LABELS[column], None,
                                    f"缺少必需的列「{INDICATOR_LABELS[column]}」"))
        cells = ind.frame.drop(columns="row").to_numpy().ravel()
        if not missing and all(is_empty(v) for v in cells):
            problems.append(Problem(file, ind.sheet, None, None, None, "指标表没有任何指标行"))
    if problems:
        raise SheetError(problems)
    assert ind is not None and info_grid is not None
    info_sheet = raw.sheet_names["项目信息"]
    records, is_portfolio = _info_records(info_grid, file, info_sheet)
    stated_t = _table(raw, "报告数值", STATED_HEADERS, problems, required=False)
    text_t = _table(raw, "文字", NARRATIVE_HEADERS, problems, required=False)

    ind_frame = _ffill_merged(ind.frame, ("level1", "level2", "level3"),
                              "project_id" if is_portfolio else None)
    heads = []  # (key, info, problems, scheme | None)
    for rec in records:
        p: list[Problem] = []
        info = _build_info(rec, file, info_sheet, p)
        key = info.get("id") or raw.path.stem
        try:
            chosen = load_scheme(scheme if scheme is not None else _scheme_beside(info.get("method"), raw.path))
        except SchemeError as exc:
            p.append(Problem(file, info_sheet, rec["_rows"].get("评价方式"), "评价方式", info.get("method"),
                             str(exc)))
            chosen = None
        heads.append((key, info, p, chosen))

    def keys_of(frame: pd.DataFrame) -> pd.Series:
        if not is_portfolio:
            return pd.Series(heads[0][0] if heads else "", index=frame.index, dtype=object)
        if "project_id" not in frame:
            return pd.Series("", index=frame.index, dtype=object)
        return _unique_map(frame["project_id"], _cell)

    ind_keys = keys_of(ind_frame)
    stated_keys = keys_of(stated_t.frame) if stated_t is not None else None
    checked: dict[str, pd.DataFrame] = {}
    stated_by: dict[str, pd.DataFrame] = {}
    row_problems: dict[str, list[Problem]] = {}
    by_scheme: dict[int, tuple[Scheme, set[str]]] = {}
    for key, _, _, chosen in heads:
        if chosen is not None:
            by_scheme.setdefault(id(chosen), (chosen, set()))[1].add(key)
    for chosen, members in by_scheme.values():
        mask = ind_keys.isin(members)
        result = _check_indicators(Table(ind.sheet, ind_frame[mask], ind.header_row, ind.headers), file, chosen,
                                   ind_keys[mask])
        found = result.problems + _check_weights(result.frame, file, ind.sheet, chosen, result.declared,
                                                 ind.headers.get("weight", "分值"))
        checked.update(_split_by_key(result.frame))
        if stated_t is not None and stated_keys is not None:
            smask = stated_keys.isin(members)
            stated_frame, stated_problems = _check_stated(
                Table(stated_t.sheet, stated_t.frame[smask], stated_t.header_row, stated_t.headers), file, chosen,
                stated_keys[smask])
            found += stated_problems
            stated_by.update(_split_by_key(stated_frame))
        for k, problem in found:
            row_problems.setdefault(k, []).append(problem)
    known = {h[0] for h in heads}
    orphans = sorted(set(ind_keys[ind_keys != ""]) - known) if is_portfolio else []

    def split(table: Table | None) -> dict[str, Table]:
        if table is None:
            return {}
        keys = keys_of(table.frame)
        return {k: Table(table.sheet, g, table.header_row, table.headers)
                for k, g in table.frame.groupby(keys, sort=False)}

    text_by = split(text_t)
    empty_stated = pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in STATED_COLUMNS})
    reads: list[ProjectRead] = []
    for key, info, p, chosen in heads:
        if chosen is None:
            reads.append(ProjectRead(key, None, p))
            continue
        p.extend(row_problems.get(key, []))
        indicators = checked.get(key)
        if indicators is None and not row_problems.get(key):
            p.append(Problem(file, ind.sheet, None, "项目编号" if is_portfolio else None, key,
                             "该项目没有任何指标行"))
        stated = stated_by.get(key, empty_stated)
        if p or indicators is None:
            reads.append(ProjectRead(key, None, p))
            continue
        reads.append(ProjectRead(key, Project(
            id=info["id"], name=info["name"], department=info.get("department") or "",
            unit=info.get("unit") or "", year=info["year"], method=info.get("method") or chosen.name,
            scheme_id=chosen.id, budget=info["budget"], allocated=info["allocated"],
            spent=info["spent"], funding=info["funding"], indicators=indicators, stated=stated,
            narrative=_narrative(text_by.get(key)), source=raw.path, sha256=raw.sha256, info=info["info"],
        )))
    for key in orphans:
        first = int(ind_frame.loc[ind_keys == key, "row"].iloc[0])
        reads.append(ProjectRead(key, None, [Problem(file, ind.sheet, first, "项目编号", key,
                                                     "该项目编号在「项目信息」中不存在")]))
    if is_portfolio:
        counts = Counter(r.key for r in reads)
        for dup in {key for key, n in counts.items() if n > 1}:
            for r in reads:
                if r.key == dup:
                    r.problems.append(Problem(file, info_sheet, None, "项目编号", dup, "项目编号重复"))
                    r.project = None
    return reads


def load_projects(path: str | Path, scheme: str | Path | Scheme | None = None) -> list[Project]:
    """All projects in a file (a project workbook, a portfolio workbook or a CSV set).

    Raises SheetError listing every problem in every project."""
    reads = read_projects(path, scheme)
    problems = [q for r in reads for q in r.problems]
    if problems:
        raise SheetError(problems)
    return [r.project for r in reads if r.project is not None]


def load_project(path: str | Path, scheme: str | Path | Scheme | None = None,
                 project_id: str | None = None) -> Project:
    """The one project in a workbook or CSV set (or, in a portfolio workbook, the one whose
    项目编号 is `project_id`). Raises SheetError with every problem found."""
    if project_id:
        reads = [r for r in read_projects(path, scheme) if r.key == str(project_id)]
        if not reads:
            raise SheetError([Problem(str(path), "项目信息", None, "项目编号", str(project_id),
                                      "文件中没有该项目编号的项目")])
        if reads[0].problems:
            raise SheetError(reads[0].problems)
        assert reads[0].project is not None
        return reads[0].project
    projects = load_projects(path, scheme)
    if len(projects) != 1:
        raise SheetError([Problem(str(path), "项目信息", None, "项目编号", None,
                                  f"文件包含 {len(projects)} 个项目；请用 perfeval batch 处理项目组合")])
    return projects[0]


def validate_paths(paths: Iterable[str | Path],
                   scheme: str | Path | Scheme | None = None) -> list[Problem]:
    """Every problem in every file (an empty list means all files are valid)."""
    problems: list[Problem] = []
    for path in paths:
        try:
            for read in read_projects(path, scheme):
                problems.extend(read.problems)
        except SheetError as exc:
            problems.extend(exc.problems)
    return problems
