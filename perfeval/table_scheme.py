"""A scheme built from a published table's own 一级指标 (when they are not a built-in scheme's levels).

Published scoring tables (评分表) often use their own indicator system: 项目决策 20 / 项目管理 10 / 项目绩效 70,
项目决策 10 / 项目管理 25 / 项目产出 30 / 项目效益 35, 投入/过程/产出/效果 … Their levels and weights are read from the
table; grade bands and scoring options come from the third-party built-in scheme.

The scheme is described completely by its spec string (``table:项目决策=20;项目管理=10;项目绩效=70``), which is what
`Project.scheme_id` holds, so `scheme_from_spec` rebuilds the same scheme wherever a project is scored again.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace

from perfeval.errors import SchemeError
from perfeval.notation import normalise
from perfeval.scheme import BUILTIN_SCHEMES, Level, Scheme, load_scheme

SPEC_PREFIX = "table:"
TABLE_SCHEME_NAME = "表内指标体系"

_NUM = r"\d+(?:\.\d+)?"
#: 'name(20 分)', 'name（10）', 'name(特性指标70 分)'
_IN_PARENS = re.compile(rf"^(?P<name>.*?)\s*[（(]\s*[^（）()\d]*?\s*(?P<w>{_NUM})\s*分?\s*[）)]\s*$")
#: 'name 2 分', '数量指标 15 分' (the name does not end in a digit)
_TRAILING = re.compile(rf"^(?P<name>.*?\D)\s*(?P<w>{_NUM})\s*分\s*$")


def split_label(label: object) -> tuple[str, float | None]:
    """'项目决策(20 分)' -> ('项目决策', 20.0); '项目决策 2 分' -> ('项目决策', 2.0);
    '项目绩效(特性指标70 分)' -> ('项目绩效', 70.0); '必要性(政策依据)' -> ('必要性(政策依据)', None)."""
    text = normalise(label).replace("\n", "")
    for pattern in (_IN_PARENS, _TRAILING):
        m = pattern.match(text)
        if m and m["name"].strip():
            return m["name"].strip(), float(m["w"])
    return text, None


def _spec(levels: list[tuple[str, float]], base: str = "third_party") -> str:
    head = SPEC_PREFIX if base == "third_party" else f"{SPEC_PREFIX}{base}:"
    return head + ";".join(f"{name}={weight:g}" for name, weight in levels)


def scheme_with_weights(base_id: str, weights: dict[str, float], name: str) -> Scheme:
    """A built-in scheme with the level weights a provincial form prints (e.g. the Hubei 自评表: 预算执行率 20, the
    rest from its 年度绩效目标 blocks); levels keep their names and aliases. Spec: ``table:self:预算执行率=20;…``."""
    base = load_scheme(base_id)
    unknown = set(weights) - {lv.name for lv in base.levels}
    if unknown:
        raise SchemeError(f"「{'、'.join(sorted(unknown))}」不是评价方案「{base.name}」的一级指标")
    levels = tuple(replace(lv, weight=float(weights.get(lv.name, 0.0))) for lv in base.levels)
    spec = _spec([(lv.name, lv.weight) for lv in levels], base_id)
    digest = hashlib.sha256(spec.encode("utf-8")).hexdigest()[:10]
    return replace(base, id=f"table:{digest}", name=name, levels=levels, source=spec)


#: name of a built-in scheme whose weights a provincial form changes
PROVINCIAL_NAME = "单位自评（表内分值）"


def scheme_from_table(levels: list[tuple[str, float]]) -> Scheme:
    """A scheme whose levels are the table's 一级指标 as printed (name folded, weight from the label or the sum of
    its items), with the third-party scheme's grade bands, scales and scoring options."""
    folded: list[tuple[str, float]] = []
    for label, weight in levels:
        name, in_label = split_label(label)
        if not name or ";" in name or "=" in name:
            raise SchemeError(f"一级指标「{label}」不能作为表内指标体系的层级名称")
        if any(name == seen for seen, _ in folded):
            continue
        w = float(in_label if in_label is not None else weight)
        if not math.isfinite(w) or w < 0:
            raise SchemeError(f"一级指标「{label}」的分值无效")
        folded.append((name, w))
    if not folded:
        raise SchemeError("表内没有一级指标")
    spec = _spec(folded)
    base = load_scheme("third_party")
    digest = hashlib.sha256(spec.encode("utf-8")).hexdigest()[:10]
    return replace(base, id=f"table:{digest}", name=TABLE_SCHEME_NAME,
                   levels=tuple(Level(name, w) for name, w in folded), aliases=(), min_output_benefit=0.0,
                   source=spec)


def scheme_from_spec(spec: str) -> Scheme:
    """The scheme a ``table:…`` spec describes (what `Scheme.spec` returns for a table scheme)."""
    text = normalise(spec)
    if not text.startswith(SPEC_PREFIX):
        raise SchemeError(f"「{spec}」不是表内指标体系")
    body = text[len(SPEC_PREFIX):]
    base, colon, rest = body.partition(":")
    provincial = bool(colon) and base in BUILTIN_SCHEMES and "=" not in base
    levels = []
    for part in (rest if provincial else body).split(";"):
        name, sep, weight = part.rpartition("=")
        try:
            levels.append((name, float(weight)))
        except ValueError:
            raise SchemeError(f"表内指标体系「{spec}」格式不正确：「{part}」") from None
        if not sep or not name:
            raise SchemeError(f"表内指标体系「{spec}」格式不正确：「{part}」")
    if provincial:
        return scheme_with_weights(base, dict(levels), PROVINCIAL_NAME)
    return scheme_from_table(levels)


def describe(scheme: Scheme) -> str:
    """'项目决策20分、项目管理10分、项目绩效70分'."""
    return "、".join(f"{lv.name}{lv.weight:g}分" for lv in scheme.levels)


def choose_scheme(levels: list[tuple[str, float]], chosen: Scheme) -> tuple[Scheme, str]:
    """The scheme a table is scored on, and why when it is the table's own system.

    `levels` are the table's 一级 labels as printed with their weight (label or items' sum). The chosen scheme is
    kept when every label maps to one of its levels and every weight printed in a label equals that level's weight;
    otherwise the table's own system is used and the reason ('' when the chosen scheme is kept) says why."""
    weights = {lv.name: lv.weight for lv in chosen.levels}
    reasons = []
    for label, _ in levels:
        name, printed = split_label(label)
        level = chosen.level_of(name)
        if level is None:
            reasons.append(f"「{name}」不是该方案的一级指标")
        elif printed is not None and abs(printed - weights[level]) > 1e-9:
            reasons.append(f"「{name}」标注 {printed:g} 分，方案中「{level}」为 {weights[level]:g} 分")
    if not reasons:
        return chosen, ""
    table = scheme_from_table(levels)
    return table, (f"按表内指标体系评分（{describe(table)}），未采用评价方案「{chosen.name}」："
                   + "；".join(reasons) + "。等级划分沿用第三方评价方案")
