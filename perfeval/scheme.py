"""Evaluation schemes as data: levels and weights, grade bands, scoring options.

Schemes live in TOML files (`perfeval/schemes/*.toml`); a user can pass the path of their own.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from perfeval.errors import SchemeError
from perfeval.notation import normalise, split_weight

ROUNDING_MODES = ("half_up", "half_even", "truncate")
NEGATIVE_RULES = ("ratio", "linear")
EXACT_RULES = ("as_positive", "symmetric")
EXECUTION_DENOMINATORS = ("budget", "allocated")
LATE_RULES = ("per_month", "zero")


@dataclass(frozen=True)
class ScoringOptions:
    """Rule choices an evaluation records (so a what-if can change one and re-run)."""

    rounding: str = "half_up"
    decimals: int = 2
    rate_decimals: int = 3
    negative_rule: str = "ratio"
    exact_rule: str = "as_positive"
    exact_tolerance: float = 1e-9
    qualitative_scale: str = "three_tier"
    execution_denominator: str = "budget"
    over_achievement_threshold: float = 1.5
    over_achievement_penalty: float = 0.0
    deviation_threshold: float = 0.10
    zero_target_deduction: float = 0.0
    late_rule: str = "per_month"  # 时效: a late completion loses late_deduction_per_month of W per month, or all
    late_deduction_per_month: float = 0.1
    late_unknown_fraction: float = 0.7  # late by an unstated delay (延期完成): 10号 部分达成
    # expert panel (perfeval.panel): how the experts' scores of a judged indicator are combined
    panel_rule: str = "mean"  # mean | trimmed_mean (drop the highest and the lowest score)
    panel_trim_min_experts: int = 5  # trimmed_mean applies from this many experts on (fewer: mean)
    panel_disagreement_range: float = 0.3  # max − min above this fraction of W is a disagreement
    panel_disagreement_std: float = 0.15  # sample standard deviation above this fraction of W, too

    def __post_init__(self) -> None:
        for name, allowed in (("rounding", ROUNDING_MODES), ("negative_rule", NEGATIVE_RULES),
                              ("exact_rule", EXACT_RULES), ("late_rule", LATE_RULES),
                              ("execution_denominator", EXECUTION_DENOMINATORS)):
            if getattr(self, name) not in allowed:
                raise SchemeError(f"评分选项 {name}=「{getattr(self, name)}」无效，应为 {'、'.join(allowed)} 之一")

    def updated(self, **changes: object) -> ScoringOptions:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise SchemeError(f"未知的评分选项：{'、'.join(sorted(unknown))}")
        return replace(self, **changes)


@dataclass(frozen=True)
class Level:
    name: str
    weight: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualitativeScale:
    """Levels (in order, best first) with the fraction of W each earns, and keywords for each."""

    name: str
    fractions: dict[str, float]
    keywords: dict[str, tuple[str, ...]]


#: colours of the usual grade labels (a scheme's band may set its own `colour`); charts and tables take them
#: from the scheme's `grade_table`, never from a copy
DEFAULT_GRADE_COLOURS = {"优": "#2f5d8a", "良": "#6f9fcf", "中": "#e0a040", "差": "#c0504d"}
#: colour of a grade label the scheme gives no colour and that is not a usual label
OTHER_GRADE_COLOUR = "#7f7f7f"


class GradeBand(NamedTuple):
    """One grade of a scheme: a total t in [lower, upper) gets `grade` (the top band includes its upper)."""

    grade: str
    lower: float
    upper: float
    colour: str


@dataclass(frozen=True)
class Scheme:
    id: str
    name: str
    levels: tuple[Level, ...]
    grade_bands: tuple[tuple[str, float], ...]
    options: ScoringOptions
    scales: dict[str, QualitativeScale] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    min_output_benefit: float = 0.0
    source: str = ""
    #: grade label -> colour (`DEFAULT_GRADE_COLOURS` for labels not set); not part of the scheme's content hash
    #: (`repr`): colours change no score and no report
    grade_colours: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def spec(self) -> str:
        """What `load_scheme` takes to load this scheme again: a built-in id or the TOML file's
        absolute path (whatever its `id`)."""
        if self.source.startswith(PLUGIN_SOURCE):  # an installed extension's scheme: loaded again by its name
            return self.source.removeprefix(PLUGIN_SOURCE)
        return self.id if self.source == f"perfeval/schemes/{self.id}.toml" else self.source

    @property
    def total_weight(self) -> float:
        return sum(level.weight for level in self.levels)

    def level_of(self, label: object) -> str | None:
        """Map a 一级指标 label as typed ('产出指标(40分)', '项目决策') to the scheme's level name."""
        name, _ = split_weight(label)
        name = normalise(name)
        for level in self.levels:
            if name == level.name or name in level.aliases:
                return level.name
        for level in self.levels:  # '决策类指标', '一、决策' …
            if level.name in name:
                return level.name
        return None

    def grade(self, total: float) -> str:
        for grade, lower in self.grade_bands:
            if total >= lower - 1e-9:
                return grade
        return self.grade_bands[-1][0]

    def grade_colour(self, grade: str) -> str:
        return self.grade_colours.get(grade) or DEFAULT_GRADE_COLOURS.get(grade, OTHER_GRADE_COLOUR)

    @property
    def grade_table(self) -> tuple[GradeBand, ...]:
        """The grades best first with their bounds and colours: the one table charts, tables and labels use."""
        uppers = (100.0, *(lower for _, lower in self.grade_bands[:-1]))
        return tuple(GradeBand(grade, lower, upper, self.grade_colour(grade))
                     for (grade, lower), upper in zip(self.grade_bands, uppers, strict=True))

    @property
    def grade_cuts(self) -> tuple[float, ...]:
        """The cut points between grades, ascending (third_party: 60, 80, 90)."""
        return tuple(sorted(lower for _, lower in self.grade_bands if lower > 0))

    def scale(self, name: str | None = None) -> QualitativeScale:
        key = name or self.options.qualitative_scale
        try:
            return self.scales[key]
        except KeyError:
            raise SchemeError(
                f"定性评分等级「{key}」未在评价方案 {self.id} 中定义（可选：{'、'.join(self.scales)}）"
            ) from None


def _parse(data: dict, source: str) -> Scheme:
    try:
        levels = tuple(Level(lv["name"], float(lv["weight"]), tuple(lv.get("aliases", ())))
                       for lv in data["levels"])
        bands = tuple(sorted(((b["grade"], float(b["lower"])) for b in data["grades"]["bands"]),
                             key=lambda b: -b[1]))
        colours = {str(b["grade"]): str(b["colour"]) for b in data["grades"]["bands"] if b.get("colour")}
        options = ScoringOptions(**data.get("scoring", {}))
        qual = data.get("qualitative", {})
        three = {d["level"]: float(d["fraction"]) for d in qual["three_tier"]["levels"]}
        four = {d["level"]: float(d["fraction"]) for d in qual["four_grade"]["levels"]}
        scales = {
            "three_tier": QualitativeScale(
                "three_tier", three, {k: tuple(v) for k, v in qual["keywords"].items()}),
            "four_grade": QualitativeScale(
                "four_grade", four,
                {k: tuple(v) for k, v in qual["four_grade_keywords"].items()}),
        }
        return Scheme(
            id=data["id"], name=data["name"], levels=levels, grade_bands=bands, options=options,
            scales=scales, aliases=tuple(data.get("aliases", ())),
            min_output_benefit=float(data.get("min_output_benefit", 0)), source=source,
            grade_colours=colours,
        )
    except SchemeError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemeError(f"评价方案文件 {source} 格式不正确：缺少或无效的字段 {exc}") from None


@lru_cache(maxsize=32)
def _builtin(name: str) -> Scheme:
    ref = resources.files("perfeval") / "schemes" / f"{name}.toml"
    return _parse(tomllib.loads(ref.read_text(encoding="utf-8")), f"perfeval/schemes/{name}.toml")


BUILTIN_SCHEMES = ("third_party", "self")


#: prefix of the spec of a scheme built from a table's own levels and weights
TABLE_SCHEME_PREFIX = "table:"


def load_scheme(spec: str | Path | Scheme | None = None) -> Scheme:
    """A scheme from its id ('third_party', 'self'), a Chinese alias ('单位自评') or a TOML path."""
    if isinstance(spec, Scheme):
        return spec
    if spec is None or spec == "":
        return _builtin("third_party")
    text = normalise(str(spec))
    if text in BUILTIN_SCHEMES:
        return _builtin(text)
    if text.startswith(TABLE_SCHEME_PREFIX):
        # a published table's own indicator system (perfeval.layouts.table_scheme), spelled out in the spec
        from perfeval.table_scheme import scheme_from_spec

        return scheme_from_spec(text)
    for name in BUILTIN_SCHEMES:
        scheme = _builtin(name)
        if text == scheme.name or text in scheme.aliases:
            return scheme
    path = Path(text)
    plugin = _plugin_scheme(text) if path.suffix != ".toml" else None  # a file is never looked up as a plugin
    if plugin is not None:
        return plugin
    if path.suffix == ".toml":
        if not path.is_file():
            raise SchemeError(f"评价方案文件不存在：{path}")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SchemeError(f"评价方案文件 {path} 无法解析：{exc}") from None
        return _parse(data, os.path.abspath(path))  # loadable again from any working folder
    known = "、".join([*(f"{s}（{_builtin(s).name}）" for s in BUILTIN_SCHEMES), *_plugin_names()])
    raise SchemeError(f"未知的评价方式「{spec}」，应为 {known} 或一个 .toml 方案文件")


PLUGIN_SOURCE = "plugin:"


def _plugin_names() -> list[str]:
    from perfeval.plugins import SCHEMES, installed

    return [name for name in installed(SCHEMES) if name not in BUILTIN_SCHEMES]


def _plugin_scheme(name: str) -> Scheme | None:
    """The scheme an installed extension provides under `name` (entry point group `perfeval.schemes`), or None.
    The entry point gives a .toml path, a TOML table (dict), a `Scheme`, or a function returning one of these."""
    from perfeval.plugins import SCHEMES, describe, installed

    point = installed(SCHEMES).get(name)
    if point is None or name in BUILTIN_SCHEMES:
        return None
    try:
        value = point.load()
        if callable(value) and not isinstance(value, Scheme):
            value = value()
    except Exception as exc:
        raise SchemeError(f"评价方案插件{describe(point)}无法加载：{type(exc).__name__}：{exc}") from None
    source = f"{PLUGIN_SOURCE}{name}"
    if isinstance(value, Scheme):
        return replace(value, source=source)
    if isinstance(value, dict):
        return _parse(value, source)
    if isinstance(value, str | os.PathLike) and str(value).endswith(".toml") and Path(value).is_file():
        try:
            return _parse(tomllib.loads(Path(value).read_text(encoding="utf-8")), source)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SchemeError(f"评价方案插件{describe(point)}的文件 {value} 无法解析：{exc}") from None
    raise SchemeError(f"评价方案插件{describe(point)}给出的「{value!r}」不是方案：应为 .toml 文件路径、"
                      "TOML 表（dict）、Scheme 或返回其一的函数")


def shared_grade_table(schemes: Iterable[Scheme]) -> tuple[GradeBand, ...] | None:
    """The grade table every one of `schemes` uses; () when they grade differently (a portfolio chart then
    draws no cut points rather than one scheme's for all); None when there is no scheme (the default's)."""
    tables = {scheme.grade_table for scheme in schemes}
    return None if not tables else tables.pop() if len(tables) == 1 else ()
