"""Check raw sheets and build `Project` objects, collecting every problem at once."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfeval.errors import Problem, SchemeError, SheetError
from perfeval.model import INDICATOR_COLUMNS, STATED_COLUMNS, Project
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
        values = frame[column].map(lambda v: None if is_empty(v) else v)
        if group and group in frame:
            frame[column] = values.groupby(frame[group].map(_cell)).ffill()
        else:
            frame[column] = values.ffill()
    return frame


def _is_total_row(row: dict) -> bool:
    for column in ("level1", "level2", "level3", "name"):
        text = _cell(row.get(column)).replace(" ", "")
        if text in TOTAL_ROW_NAMES or text.startswith("合计"):
            return True
    return False


def _check_indicators(table: Table, file: str, scheme: Scheme, problems: list[Problem],
                      declared: dict[str, tuple[float, int]]) -> pd.DataFrame:
    """Validate indicator rows of one project; returns rows in `INDICATOR_COLUMNS` order."""
    sheet = table.sheet
    frame = table.frame
    records = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in frame.to_dict(orient="records"):
        excel_row = int(row["row"])
        values = {c: row.get(c) for c in INDICATOR_HEADERS}
        if all(is_empty(values[c]) for c in ("name", "level3", "weight", "target", "actual")):
            continue
        if _is_total_row(row):
            continue

        def bad(column: str, value: object, expected: str, _row: int = excel_row) -> None:
            problems.append(Problem(file, sheet, _row, table.headers.get(column, INDICATOR_LABELS[column]),
                                    _cell(value), expected))

        level1_raw = values["level1"]
        level1_name, level1_weight = split_weight(level1_raw)
        level1 = scheme.level_of(level1_raw) if not is_empty(level1_raw) else None
        if is_empty(level1_raw):
            bad("level1", level1_raw, "一级指标不能为空（合并单元格会自动向下继承）")
        elif level1 is None:
            names = "、".join(lv.name for lv in scheme.levels)
            bad("level1", level1_raw, f"一级指标应为评价方案「{scheme.name}」中的 {names} 之一")
        elif level1_weight is not None:
            declared.setdefault(level1, (level1_weight, excel_row))
        level2, _ = split_weight(values["level2"])
        level3, _ = split_weight(values["level3"])
        name = _cell(values["name"]) or level3
        if not name:
            bad("name", values["name"], "指标名称不能为空")
        weight = _number(values["weight"])
        if weight is None or weight < 0:
            bad("weight", values["weight"], "分值应为非负数字，如 10 或 4.5")
        try:
            method = resolve_method(values["method"])
        except ValueError as exc:
            bad("method", values["method"], str(exc))
            method = None
        target = parse_value(_cell(values["target"]))
        actual = parse_value(_cell(values["actual"]))
        if target.kind == "invalid":
            bad("target", values["target"],
                "无法识别的指标值写法；应为如 ≥24人、＝100%、≤33.46万元、80%-90%、3~5个 或 有效提升")
        if actual.kind == "invalid":
            bad("actual", values["actual"],
                "无法识别的实际完成值写法；应为数字加单位（如 24人、96%）或文字（如 达成预期指标）")
        rule = method or infer_rule(name, level3, target, actual)
        if rule in RULES_NEEDING_TARGET and target.kind == "empty":
            bad("target", values["target"], f"评分方法「{rule}」需要指标值（目标值）")
        if rule in RULES_NEEDING_ACTUAL and actual.kind == "empty":
            bad("actual", values["actual"], "实际完成值为空；请填写实际完成情况")
        elif rule in NUMERIC_RULES and target.is_numeric and actual.kind == "text":
            bad("actual", values["actual"],
                f"指标值「{_cell(values['target'])}」是数值，实际完成值也应写数值（如 24人、96%）")
        stated = _number(values["stated_score"])
        if not is_empty(values["stated_score"]) and stated is None:
            bad("stated_score", values["stated_score"], "报告得分应为数字")
        deduction = _number(values["deduction"])
        if not is_empty(values["deduction"]) and (deduction is None or deduction < 0):
            bad("deduction", values["deduction"], "扣分应为非负数字")
        elif deduction is not None and weight is not None and deduction > weight:
            bad("deduction", values["deduction"], f"扣分不能超过该指标分值 {weight:g}")
        key = (level1 or "", level2, name)
        if name and key in seen:
            bad("name", name, f"指标重复：与第{seen[key]}行的同一指标（{level1}/{level2}/{name}）重复")
        elif name:
            seen[key] = excel_row
        records.append({
            "row": excel_row, "level1": level1 or _cell(level1_name), "level2": level2,
            "level3": level3, "name": name, "weight": weight, "target": _cell(values["target"]),
            "actual": _cell(values["actual"]), "method": method or "",
            "stated_score": stated, "deduction": deduction,
            "deduction_reason": _cell(values["deduction_reason"]),
            "reason": _cell(values["reason"]), "measure": _cell(values["measure"]),
        })
    out = pd.DataFrame.from_records(records, columns=list(INDICATOR_COLUMNS))
    for column in ("weight", "stated_score", "deduction"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    out["row"] = out["row"].astype(int)
    return out


def _check_weights(indicators: pd.DataFrame, file: str, sheet: str, scheme: Scheme,
                   declared: dict[str, tuple[float, int]], weight_label: str,
                   problems: list[Problem]) -> None:
    if indicators.empty or indicators["weight"].isna().any():
        return
    sums = indicators.groupby("level1", sort=False)["weight"].sum()
    for level, (weight, row) in declared.items():
        got = float(sums.get(level, 0.0))
        if abs(got - weight) > 1e-6:
            problems.append(Problem(file, sheet, row, "一级指标", f"{level}({weight:g}分)",
                                    f"一级指标「{level}」标注 {weight:g} 分，但其下各指标分值合计为 {got:g} 分"))
    total = float(indicators["weight"].sum())
    if abs(total - scheme.total_weight) > 1e-6:
        # point at the first level whose items do not add up to its weight, when it has rows
        culprit_rows = indicators["row"]
        for level in scheme.levels:
            got = float(sums.get(level.name, 0.0))
            rows = indicators.loc[indicators["level1"] == level.name, "row"]
            if abs(got - declared.get(level.name, (level.weight, 0))[0]) > 1e-6 and len(rows):
                culprit_rows = rows
                break
        detail = "、".join(f"{lv.name}{float(sums.get(lv.name, 0.0)):g}" for lv in scheme.levels)
        problems.append(Problem(file, sheet, int(culprit_rows.iloc[-1]), weight_label,
                                f"合计 {total:g}",
                                f"各指标分值合计应为 {scheme.total_weight:g} 分，实际为 {total:g} 分"
                                f"（各一级指标合计：{detail}）"))


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


def _check_stated(table: Table | None, file: str, scheme: Scheme,
                  problems: list[Problem]) -> pd.DataFrame:
    records = []
    if table is not None:
        for row in table.frame.to_dict(orient="records"):
            item_raw, text = _cell(row.get("item")), row.get("text")
            if not item_raw and is_empty(text):
                continue
            excel_row = int(row["row"])
            found = _canonical_item(item_raw, scheme)
            if found is None:
                levels = "、".join(f"{lv.name}得分" for lv in scheme.levels)
                problems.append(Problem(file, table.sheet, excel_row, "数据项", item_raw,
                                        f"未知的数据项；应为 总分、等级、预算数、到位数、执行数、预算执行率、"
                                        f"资金到位率、偏差率 或 {levels}（及相应得分率）"))
                continue
            item, kind = found
            value: float | None
            if kind == "amount":
                value, err = parse_amount(text)
            elif kind == "rate":
                value = parse_rate(text)
                err = "" if value is not None else "应为百分比，如 95.6%"
            elif kind == "score":
                value = _number(text)
                err = "" if value is not None else "应为分数，如 99 或 19.78"
            else:
                value, err = math.nan, ("" if not is_empty(text) else "等级不能为空")
            if err:
                problems.append(Problem(file, table.sheet, excel_row, "报告值", _cell(text), err))
                continue
            records.append({"item": item, "value": value, "text": _cell(text),
                            "where": _cell(row.get("where")) or f"{table.sheet}第{excel_row}行"})
    out = pd.DataFrame.from_records(records, columns=list(STATED_COLUMNS))
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    return out


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
        if not missing and ind.frame.drop(columns="row").map(is_empty).all(axis=None):
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
    reads: list[ProjectRead] = []
    for rec in records:
        p: list[Problem] = []
        info = _build_info(rec, file, info_sheet, p)
        key = info.get("id") or f"{raw.path.stem}"
        try:
            chosen = load_scheme(scheme if scheme is not None else (info.get("method") or None))
        except SchemeError as exc:
            row = rec["_rows"].get("评价方式")
            p.append(Problem(file, info_sheet, row, "评价方式", info.get("method"), str(exc)))
            reads.append(ProjectRead(key, None, p))
            continue

        def rows_for(frame: pd.DataFrame | None, _key: str = key) -> pd.DataFrame | None:
            if frame is None or not is_portfolio:
                return frame
            if "project_id" not in frame:
                return frame.iloc[0:0]
            return frame[frame["project_id"].map(_cell) == _key]

        sub = Table(ind.sheet, rows_for(ind_frame), ind.header_row, ind.headers)
        declared: dict[str, tuple[float, int]] = {}
        indicators = _check_indicators(sub, file, chosen, p, declared)
        if indicators.empty and not any(q.sheet == ind.sheet for q in p):
            p.append(Problem(file, ind.sheet, None, "项目编号" if is_portfolio else None, key,
                             "该项目没有任何指标行"))
        _check_weights(indicators, file, ind.sheet, chosen, declared,
                       ind.headers.get("weight", "分值"), p)
        st = None if stated_t is None else Table(stated_t.sheet, rows_for(stated_t.frame),
                                                 stated_t.header_row, stated_t.headers)
        stated = _check_stated(st, file, chosen, p)
        tx = None if text_t is None else Table(text_t.sheet, rows_for(text_t.frame),
                                               text_t.header_row, text_t.headers)
        if p:
            reads.append(ProjectRead(key, None, p))
            continue
        reads.append(ProjectRead(key, Project(
            id=info["id"], name=info["name"], department=info.get("department") or "",
            unit=info.get("unit") or "", year=info["year"], method=info.get("method") or chosen.name,
            scheme_id=chosen.id, budget=info["budget"], allocated=info["allocated"],
            spent=info["spent"], funding=info["funding"], indicators=indicators, stated=stated,
            narrative=_narrative(tx), source=raw.path, sha256=raw.sha256, info=info["info"],
        )))
    if is_portfolio:
        ids = [r.key for r in reads]
        for dup in {i for i in ids if ids.count(i) > 1}:
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
