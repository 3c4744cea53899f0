"""What-if scenarios: change indicators or the qualitative scale, re-evaluate, compare, save.

A `Scenario` is the original project plus a list of changes; it never mutates the project.
Re-evaluating it goes through `perfeval.evaluate`, so a scenario's score is by construction the
score `perfeval score` gives for the saved workbook (`save_scenario` checks that round trip).
"""

from __future__ import annotations

import tomllib
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import PerfevalError, SchemeError
from perfeval.model import Project
from perfeval.notation import MONEY_UNITS, normalise, parse_value
from perfeval.rules import NUMERIC_RULES, RULE_LABELS, RULES_NEEDING_ACTUAL, infer_rule, resolve_method
from perfeval.scheme import Scheme, load_scheme
from perfeval.scoring.evaluate import Evaluation, evaluate
from perfeval.workbench.tables import num, signed
from perfeval.workbench.userpath import paste_path

EDITABLE = ("actual", "weight", "method")
COLUMN_LABELS = {"actual": "实际完成值", "weight": "分值", "method": "评分方法"}
#: qualitative scales a scenario can switch to (ids of `Scheme.scales`)
SCALE_LABELS = {
    "three_tier": "三档：达成/部分达成/未达成（财预〔2020〕10号）",
    "four_grade": "四档：优/良/中/差",
}
#: the one value of the 评分方法 drop-down that means "infer from the target"
AUTO_METHOD = ""
#: weights are kept to hundredths: a sheet cell is read back with six significant digits, so
#: a weight like 9.333333… would no longer add up to the level's weight after saving
WEIGHT_DECIMALS = 2


def method_label(rule: str) -> str:
    return "按指标值自动判断" if rule == AUTO_METHOD else RULE_LABELS.get(rule, rule)


class UnreadableValue(PerfevalError):
    """A scenario edit that would leave a value perfeval cannot score (it is refused, never scored 0)."""


def number_examples(unit: str) -> str:
    """Two spellings of a number in `unit` that perfeval reads, for error messages."""
    if unit == "%":
        return "96% 或 0.96"
    if unit in MONEY_UNITS:
        return "33.46万元 或 334600元"
    return f"36500{unit} 或 3.65万{unit}"


def reading_problem(name: str, level3: str, target: object, actual: object, method: str,
                    check_target: bool = False) -> str | None:
    """Why an indicator row cannot be scored as it stands (None when it can).

    The actual is read by perfeval's own parser; a rule that needs a number (正向, 反向, 等于, 区间,
    零目标 against a numeric target, 评价要点) gets one or the row is refused; a rule that needs an
    actual gets one. With `check_target`, a numeric rule also needs a numeric target (used when the
    rule itself is changed)."""
    a_text, t_text = normalise(actual), normalise(target)
    a, t = parse_value(a_text), parse_value(t_text)
    rule = method or infer_rule(name, level3, t, a)
    label = RULE_LABELS.get(rule, rule)
    needs_number = rule in NUMERIC_RULES and t.is_numeric
    if rule == "checklist" and a.kind not in ("checklist", "number", "empty"):
        return f"无法识别「{a_text}」：按「{label}」评分时应写 完成要点数/要点总数，如 4/5"
    if a.kind == "invalid" or (needs_number and a.kind == "text"):
        or_text = "" if needs_number else "，或文字（如 达成预期指标）"
        what = "数字加单位" if t.unit else "数字"
        return f"无法识别「{a_text}」：应为{what}，如 {number_examples(t.unit)}{or_text}"
    if rule in RULES_NEEDING_ACTUAL and a.kind == "empty":
        return f"实际完成值不能为空：该指标按「{label}」评分，需要实际完成值"
    if check_target and rule in NUMERIC_RULES and not t.is_numeric:
        return (f"评分方法「{label}」需要数值指标值，而指标值「{t_text or '（空）'}」不是数值；"
                "可改用 定性、扣分 或 按指标值自动判断")
    return None


@dataclass(frozen=True)
class Scenario:
    """The original project plus changes: (row index, column, value), later changes win."""

    base: Project
    changes: tuple[tuple[int, str, object], ...] = ()
    options: tuple[tuple[str, object], ...] = ()

    # ------------------------------------------------------------ building

    def _original(self, index: int, column: str) -> object:
        return self.base.indicators.at[index, column]

    def current(self, index: int, column: str) -> object:
        """The value a cell has in this scenario."""
        value = self._original(index, column)
        for i, c, v in self.changes:
            if i == index and c == column:
                value = v
        return value

    def edit(self, index: int, **values: object) -> Scenario:
        """A scenario with indicator `index` changed: actual (text as typed), weight (a number
        ≥ 0) or method (a rule id or its Chinese name; "" infers it from the target)."""
        if index not in self.base.indicators.index:
            raise PerfevalError(f"指标序号 {index} 不存在")
        changes = list(self.changes)
        for column, value in values.items():
            if column not in EDITABLE:
                raise PerfevalError(f"只能修改 {'、'.join(COLUMN_LABELS.values())}，不能修改「{column}」")
            value = _checked(column, value)
            changes = [(i, c, v) for i, c, v in changes if not (i == index and c == column)]
            if not _same(value, self._original(index, column)):
                changes.append((index, column, value))
        edited = Scenario(self.base, tuple(changes), self.options)
        if {"actual", "method"} & values.keys():
            problem = edited.reading_problem(index, check_target="method" in values)
            if problem:
                raise UnreadableValue(problem)
        return edited

    def reading_problem(self, index: int, check_target: bool = False) -> str | None:
        """Why indicator `index` cannot be scored with this scenario's values (None when it can)."""
        row = self.base.indicators.loc[index]
        return reading_problem(str(row["name"]), str(row["level3"]), row["target"],
                               self.current(index, "actual"), str(self.current(index, "method") or ""),
                               check_target)

    def set_weight(self, index: int, weight: float, keep_level: bool = True) -> Scenario:
        """Change one weight (kept to hundredths). With `keep_level`, the other indicators of
        the same 一级指标 are scaled so the level keeps its weight (and the sheet still adds up
        to 100)."""
        weight = float(_checked("weight", weight))
        if not keep_level:
            return self.edit(index, weight=weight)
        ind = self.base.indicators
        level = ind.at[index, "level1"]
        members = ind.index[ind["level1"] == level]
        current = {i: float(self.current(i, "weight")) for i in members}
        level_weight = sum(current.values())
        rest_old = level_weight - current[index]
        rest_new = level_weight - weight
        if rest_new < -1e-9:
            raise PerfevalError(f"分值 {num(weight)} 超过一级指标「{level}」的分值 {num(level_weight)}"
                                "（保持一级指标分值不变时）")
        if rest_old <= 1e-12 and rest_new > 1e-9:
            raise PerfevalError(f"一级指标「{level}」下没有其他有分值的指标可分摊，无法保持一级指标分值不变")
        scenario = self.edit(index, weight=weight)
        factor = rest_new / rest_old if rest_old > 1e-12 else 0.0
        others = [i for i in members if i != index]
        scaled = {i: round(current[i] * factor, WEIGHT_DECIMALS) for i in others}
        # rounding leaves a few hundredths over or short: the largest other weight takes them,
        # so the level (and the sheet's 100) add up exactly as `perfeval validate` requires
        residual = round(rest_new - sum(scaled.values()), WEIGHT_DECIMALS)
        if others and residual:
            largest = max(others, key=lambda i: scaled[i])
            scaled[largest] = max(round(scaled[largest] + residual, WEIGHT_DECIMALS), 0.0)
        for i in others:
            scenario = scenario.edit(i, weight=scaled[i])
        return scenario

    def with_options(self, **options: object) -> Scenario:
        """A scenario scored with other options (e.g. qualitative_scale="four_grade")."""
        scheme = self.scheme
        merged = dict(self.options)
        merged.update(options)
        scheme.options.updated(**merged)  # raises SchemeError naming a bad option
        if "qualitative_scale" in merged:
            scheme.scale(str(merged["qualitative_scale"]))
        kept = tuple((k, v) for k, v in merged.items() if getattr(scheme.options, k) != v)
        return Scenario(self.base, self.changes, kept)

    def reset(self) -> Scenario:
        return Scenario(self.base)

    # ------------------------------------------------------------ using

    @property
    def scheme(self) -> Scheme:
        return load_scheme(self.base.scheme_id)

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.options)

    def project(self) -> Project:
        """The edited project (a copy)."""
        project = self.base
        by_index: dict[int, dict[str, object]] = {}
        for i, c, v in self.changes:
            by_index.setdefault(i, {})[c] = v
        for index, values in by_index.items():
            project = project.with_indicator(index, **values)
        return project

    def evaluate(self) -> Evaluation:
        return evaluate(self.project(), options=dict(self.options) or None)

    def describe(self) -> list[str]:
        """Each change in words, e.g. "第18行「社保金缴费（万元）」实际完成值：31.98万元 → 33.46万元"."""
        ind = self.base.indicators
        lines = []
        for i, c, v in self.changes:
            before, after = self._original(i, c), v
            if c == "weight":
                before, after = num(before, 4), num(after, 4)
            elif c == "method":
                before, after = method_label(str(before or "")), method_label(str(after or ""))
            lines.append(f"第{int(ind.at[i, 'row'])}行「{ind.at[i, 'name']}」{COLUMN_LABELS[c]}："
                         f"{before or '（空）'} → {after or '（空）'}")
        for key, value in self.options:
            if key == "qualitative_scale":
                lines.append(f"定性指标评分等级：{SCALE_LABELS.get(str(value), value)}")
            else:
                lines.append(f"评分选项 {key}：{getattr(self.scheme.options, key)} → {value}")
        return lines


def _checked(column: str, value: object) -> object:
    if column == "weight":
        try:
            weight = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise PerfevalError(f"分值应为数字，而不是「{value}」") from None
        if not np.isfinite(weight) or weight < 0:
            raise PerfevalError(f"分值应为非负数字，而不是「{value}」")
        return round(weight, WEIGHT_DECIMALS)
    if column == "method":
        text = "" if value is None else str(value)
        try:
            return resolve_method(text) or AUTO_METHOD
        except ValueError as exc:
            raise PerfevalError(f"评分方法「{text}」无效：{exc}") from None
    return "" if value is None else str(value).strip()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-12  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return (a or "") == (b or "")


# ---------------------------------------------------------------- comparing

def changed_indicators(base: Evaluation, ev: Evaluation) -> pd.DataFrame:
    """Indicators whose input or score differs between two evaluations of the same project."""
    a, b = base.indicators, ev.indicators
    differs = ((a["actual"] != b["actual"]) | (a["method"] != b["method"])
               | ~np.isclose(a["weight"], b["weight"]) | ~np.isclose(a["score"], b["score"]))
    rows = np.flatnonzero(differs.to_numpy())
    return pd.DataFrame({
        "行": [str(int(a["row"].iat[i])) for i in rows],
        "指标名称": [a["name"].iat[i] for i in rows],
        "实际完成值": [_arrow(a["actual"].iat[i], b["actual"].iat[i]) for i in rows],
        "分值": [_arrow(num(a["weight"].iat[i]), num(b["weight"].iat[i])) for i in rows],
        "评分方法": [_arrow(a["rule_label"].iat[i], b["rule_label"].iat[i]) for i in rows],
        "原得分": [num(a["score"].iat[i]) for i in rows],
        "新得分": [num(b["score"].iat[i]) for i in rows],
        "变化": [signed(b["score"].iat[i] - a["score"].iat[i]) for i in rows],
    })


def _arrow(before: object, after: object) -> str:
    before, after = str(before or "—"), str(after or "—")
    return before if before == after else f"{before} → {after}"


# ---------------------------------------------------------------- saving

@dataclass(frozen=True)
class SavedScenario:
    workbook: Path
    scheme: Path | None
    total: float
    grade: str

    @property
    def command(self) -> str:
        """The command that scores the saved scenario the same way, with paths that work in the shell
        `perfeval lab` was launched from."""
        extra = f" --scheme {paste_path(self.scheme)}" if self.scheme else ""
        return f"perfeval score {paste_path(self.workbook)}{extra}"


class ScenarioExists(PerfevalError):
    """Saving would replace a file that is already there (pass overwrite=True to replace it)."""

    def __init__(self, existing: list[Path]):
        self.existing = existing
        names = "、".join(paste_path(p) for p in existing)
        super().__init__(f"{names} 已存在，未保存（不覆盖已有文件）")


def scheme_path_for(workbook: Path) -> Path:
    return workbook.with_name(f"{workbook.stem}.方案.toml")


def save_scenario(scenario: Scenario, path: str | Path, overwrite: bool = False) -> SavedScenario:
    """Write the scenario as an indicator workbook (read by `perfeval score/report/batch`).

    An existing workbook (or scheme file) is replaced only with overwrite=True; otherwise
    ScenarioExists is raised and nothing is written.

    Changed scoring options cannot live in the workbook, so they go to a scheme file beside it
    (``<name>.方案.toml``, passed with ``--scheme``). The files are read back and scored before
    they are moved into place; a different total raises and leaves nothing behind."""
    from perfeval.atomic import atomic_path
    from perfeval.sheets.load import load_project
    from perfeval.sheets.write import save_project

    path = Path(path).expanduser().absolute()  # what SavedScenario reports stays true if the cwd changes
    if path.suffix.lower() != ".xlsx":
        raise PerfevalError(f"情景请保存为 .xlsx 工作簿，而不是「{path.name}」")
    project = scenario.project()
    note = "；".join(scenario.describe()) or "无改动"
    project = project.replace(info={**project.info, "情景说明": note})
    expected = scenario.evaluate()
    scheme_file = scheme_path_for(path) if scenario.options else None
    existing = [p for p in (path, scheme_file) if p is not None and p.exists()]
    if existing and not overwrite:
        raise ScenarioExists(existing)
    with ExitStack() as stack:
        # both files go to temporary names and are moved into place only after they read back
        # to the scenario's score
        book = stack.enter_context(atomic_path(path))
        scheme_tmp = None
        if scheme_file is not None:
            scheme_tmp = stack.enter_context(atomic_path(scheme_file))
            scheme_tmp.write_text(scheme_toml(scenario.scheme, dict(scenario.options), note),
                                  encoding="utf-8")
        save_project(project, book)
        reread = evaluate(load_project(book, scheme=scheme_tmp), scheme_tmp)
        if abs(reread.total - expected.total) > 1e-9 or reread.grade != expected.grade:
            raise PerfevalError(f"情景 {path.name} 保存后重新读取的总分为 {num(reread.total)}，与情景总分 "
                                f"{num(expected.total)} 不一致，未保存；请检查修改的数值")
    return SavedScenario(path, scheme_file, expected.total, expected.grade)


def scheme_toml(scheme: Scheme, options: dict[str, object], note: str) -> str:
    """The scheme's TOML with its [scoring] options replaced (a scheme file `--scheme` accepts)."""
    import tomli_w

    source = Path(scheme.source)
    if source.is_file():
        text = source.read_text(encoding="utf-8")
    else:
        ref = resources.files("perfeval") / "schemes" / f"{scheme.id}.toml"
        if not ref.is_file():
            raise SchemeError(f"找不到评价方案 {scheme.id} 的方案文件，无法保存评分选项")
        text = ref.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data.setdefault("scoring", {}).update(options)
    data["name"] = f"{data.get('name', scheme.name)}（情景）"
    header = f"# perfeval 情景方案：{note}\n"
    return header + tomli_w.dumps(data)
