"""The survey mapping: which answer column feeds which 满意度 indicator, and how answers count.

A TOML file (see docs/survey.md)::

    [survey]
    respondent = "答卷编号"          # respondent id column (duplicates: first kept)
    time = "提交答卷时间"             # answer time column (checked against the period)
    start = 2022-11-01               # survey period, both days inclusive
    end = 2022-11-30
    population = 1200                # optional: size of the surveyed population (finite-population correction)
    satisfied = ["非常满意", "满意"]  # answers counted as satisfied (words or scale numbers 1–5) …
    # weights = {"非常满意" = 100, "满意" = 80, "基本满意" = 60, "不满意" = 40, "非常不满意" = 0}  # … or points

    [[item]]
    column = "Q1 您对社保缴费服务是否满意"
    indicator = "服务群众满意度（%）"  # 三级指标 / 指标名称, or the 指标 sheet row: "第21行" / 21

Each ``[[item]]`` may carry its own ``satisfied`` or ``weights``. Optional ``[scale]`` (word → 1…5) replaces
the default words; ``numbers = "1_best"`` says a number 1 means 非常满意 (default: 5 is best).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from perfeval.errors import Problem, SheetError
from perfeval.notation import normalise

#: default 5-point scale: the words of survey exports → 5 (most satisfied) … 1 (least)
DEFAULT_SCALE: dict[str, int] = {
    "非常满意": 5, "很满意": 5, "十分满意": 5,
    "满意": 4, "比较满意": 4, "较满意": 4,
    "基本满意": 3, "一般": 3,
    "不太满意": 2, "不满意": 2, "比较不满意": 2, "较不满意": 2,
    "非常不满意": 1, "很不满意": 1,
}
SCALE_POINTS = (1, 2, 3, 4, 5)
#: straight-lining is judged only when a respondent answered at least this many mapped items
STRAIGHTLINE_MIN_ITEMS = 3


@dataclass(frozen=True)
class ItemSpec:
    """One answer column and how its answers count."""

    column: str
    indicator: str  # as written in the mapping: a name, or a row ("第21行" / "21")
    satisfied: frozenset[int] | None  # scale points counted as satisfied (rate mode)
    weights: dict[int, float] | None  # points per scale point (weighted-score mode)

    @property
    def mode(self) -> str:
        return "rate" if self.satisfied is not None else "weighted"


@dataclass(frozen=True)
class SurveyMapping:
    items: tuple[ItemSpec, ...]
    respondent: str | None = None
    time: str | None = None
    start: date | None = None
    end: date | None = None
    population: int | None = None
    scale: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SCALE))
    one_best: bool = False  # numbers: 1 = 非常满意 (else 5 = 非常满意)
    sheet: str | None = None  # answers sheet (default: the first visible sheet)
    source: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.column for i in self.items))


_LETTER = re.compile(r"^[A-Ea-e][\.、．:：\s]+")


def fold_answer(text: str) -> str:
    """An answer word as compared: widths and spaces folded, a leading option letter (A. / B、) dropped."""
    return _LETTER.sub("", normalise(text).replace(" ", ""))


def _date(value: object, key: str, file: str, problems: list[Problem]) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = normalise(value)
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            pass
    problems.append(Problem(file, None, None, key, str(value), "应为日期，如 2022-11-01 或 2022年11月1日"))
    return None


def _points(values: object, key: str, scale: dict[str, int], file: str, problems: list[Problem],
            one_best: bool = False) -> list[int] | None:
    """Answer words or scale numbers (1–5) → scale points."""
    items = values if isinstance(values, list) else [values]
    out: list[int] = []
    for value in items:
        point = scale_point(value, scale, one_best)
        if point is None:
            problems.append(Problem(file, None, None, key, str(value),
                                    f"应为答案文字（{'、'.join(sorted(scale, key=lambda w: -scale[w])[:6])} …）"
                                    "或 1–5 的分值"))
            return None
        out.append(point)
    return out


def scale_point(value: object, scale: dict[str, int], one_best: bool = False) -> int | None:
    """One answer → its scale point 1…5 (5 = most satisfied); None when it is not an answer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = fold_answer(str(value))
        if text in scale:
            return scale[text]
        try:
            number = float(text)
        except ValueError:
            return None
    if number.is_integer() and int(number) in SCALE_POINTS:
        return 6 - int(number) if one_best else int(number)
    return None


def _measure(table: dict, key: str, scale: dict[str, int], file: str, problems: list[Problem],
             one_best: bool = False) -> tuple[frozenset[int] | None, dict[int, float] | None]:
    satisfied = weights = None
    if "satisfied" in table:
        points = _points(table["satisfied"], f"{key}satisfied", scale, file, problems, one_best)
        satisfied = frozenset(points) if points else None
    if "weights" in table:
        raw = table["weights"]
        if not isinstance(raw, dict) or not raw:
            problems.append(Problem(file, None, None, f"{key}weights", str(raw),
                                    "应为 答案 = 分值 的表，如 {\"非常满意\" = 100, \"满意\" = 80, …}"
                                    "（中文键须加引号）"))
        else:
            weights = {}
            for word, points in raw.items():
                point = scale_point(word, scale, one_best)
                if point is None or isinstance(points, bool) or not isinstance(points, int | float):
                    problems.append(Problem(file, None, None, f"{key}weights", f"{word} = {points}",
                                            "应为 答案文字或 1–5 = 数字分值"))
                    continue
                weights[point] = float(points)
    return satisfied, weights


def load_mapping(path: str | Path) -> SurveyMapping:
    """Read a mapping TOML. Raises SheetError listing every problem (file, key, value, what was expected)."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise SheetError([Problem(file, None, None, None, None, "问卷映射文件不存在")])
    if path.suffix.lower() != ".toml":
        raise SheetError([Problem(file, None, None, None, None, "问卷映射应为 .toml 文件（格式见 docs/survey.md）")])
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SheetError([Problem(file, None, None, None, None, f"问卷映射不是有效的 TOML：{exc}")]) from None
    return mapping_from_dict(spec, file)


def mapping_from_dict(spec: dict, file: str = "问卷映射") -> SurveyMapping:
    """A mapping from its TOML structure (also what `perfeval.survey.synth` writes)."""
    problems: list[Problem] = []
    head = spec.get("survey", {})
    if not isinstance(head, dict):
        head = {}
    scale = dict(DEFAULT_SCALE)
    if "scale" in spec:
        custom = spec["scale"]
        if isinstance(custom, dict) and custom:
            scale = {}
            for word, point in custom.items():
                if isinstance(point, int) and not isinstance(point, bool) and point in SCALE_POINTS:
                    scale[fold_answer(word)] = point
                else:
                    problems.append(Problem(file, None, None, "scale", f"{word} = {point}", "分值应为 1–5 的整数"))
        else:
            problems.append(Problem(file, None, None, "scale", str(custom), "应为 答案 = 1–5 的表"))
    numbers = str(head.get("numbers", "5_best"))
    if numbers not in ("5_best", "1_best"):
        problems.append(Problem(file, None, None, "survey.numbers", numbers,
                                "应为 5_best（5 = 非常满意，默认）或 1_best（1 = 非常满意）"))
    one_best = numbers == "1_best"
    default = _measure(head, "survey.", scale, file, problems, one_best)
    items: list[ItemSpec] = []
    raw_items = spec.get("item", [])
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(Problem(file, None, None, "[[item]]", None,
                                "至少需要一个 [[item]]（column = 题目列，indicator = 满意度指标）"))
        raw_items = []
    for n, entry in enumerate(raw_items, start=1):
        key = f"item[{n}]."
        if not isinstance(entry, dict):
            problems.append(Problem(file, None, None, f"item[{n}]", str(entry), "应为表"))
            continue
        column, indicator = entry.get("column"), entry.get("indicator")
        if not isinstance(column, str) or not column.strip():
            problems.append(Problem(file, None, None, f"{key}column", str(column), "应写答卷中的题目列名"))
            continue
        if not isinstance(indicator, str | int) or isinstance(indicator, bool) or not str(indicator).strip():
            problems.append(Problem(file, None, None, f"{key}indicator", str(indicator),
                                    "应写满意度指标的名称（三级指标/指标名称）或其在指标表中的行号"))
            continue
        satisfied, weights = _measure(entry, key, scale, file, problems, one_best)
        if satisfied is None and weights is None:
            satisfied, weights = default
        if satisfied is not None and weights is not None:
            problems.append(Problem(file, None, None, key.rstrip("."), column,
                                    "satisfied 与 weights 只能二选一（满意率或加权得分）"))
            continue
        if satisfied is None and weights is None:
            if {"satisfied", "weights"} & (set(entry) | set(head)):
                continue  # what was written there is already reported
            problems.append(Problem(file, None, None, key.rstrip("."), column,
                                    "未说明哪些答案算满意：请在 [survey] 或该 [[item]] 中写 "
                                    "satisfied = [\"非常满意\", \"满意\"]"
                                    " 或 weights = {\"非常满意\" = 100, …}"))
            continue
        missing = sorted(set(SCALE_POINTS) - set(weights)) if weights is not None else []
        if missing:
            problems.append(Problem(file, None, None, f"{key}weights", column,
                                    f"加权得分须给出每个答案的分值；缺少 {'、'.join(map(str, missing))} 分档"
                                    "（5 = 非常满意 … 1 = 非常不满意）"))
            continue
        items.append(ItemSpec(column.strip(), str(indicator).strip(), satisfied, weights))
    population = head.get("population")
    if population is not None and (isinstance(population, bool) or not isinstance(population, int)
                                   or population <= 0):
        problems.append(Problem(file, None, None, "survey.population", str(population), "总体数量应为正整数"))
        population = None
    start = _date(head.get("start"), "survey.start", file, problems)
    end = _date(head.get("end"), "survey.end", file, problems)
    if start and end and end < start:
        problems.append(Problem(file, None, None, "survey.end", str(end), f"调查结束日期早于开始日期 {start}"))
    if ("start" in head or "end" in head) and not head.get("time"):
        problems.append(Problem(file, None, None, "survey.time", None,
                                "给出了调查期间（start/end），也须给出作答时间列 time"))
    for key in ("respondent", "time", "sheet"):
        if key in head and (not isinstance(head[key], str) or not head[key].strip()):
            problems.append(Problem(file, None, None, f"survey.{key}", str(head[key]), "应为列名（文字）"))
    by_indicator: dict[str, set[str]] = {}
    for item in items:
        by_indicator.setdefault(item.indicator, set()).add(item.mode)
    for indicator, modes in by_indicator.items():
        if len(modes) > 1:
            problems.append(Problem(file, None, None, "[[item]]", indicator,
                                    "同一指标的题目须同为满意率（satisfied）或同为加权得分（weights）"))
    if problems:
        raise SheetError(problems)
    text = lambda k: head[k].strip() if isinstance(head.get(k), str) else None  # noqa: E731
    return SurveyMapping(tuple(items), text("respondent"), text("time"), start, end, population, scale,
                         one_best, text("sheet"), file)
