"""Combine the experts' scores: pure, vectorised functions over an indicators × experts matrix.

Panel score per indicator by the scheme's rule (`ScoringOptions.panel_rule`): the mean of the experts'
scores, or — `trimmed_mean`, with at least `panel_trim_min_experts` experts — the mean after dropping one
highest and one lowest score; rounded as the scheme rounds item scores (`rules.round_scores`) and kept
within 0 … 分值. A disagreement is an indicator whose range (max − min) exceeds
`panel_disagreement_range` × 分值 or whose sample standard deviation exceeds `panel_disagreement_std` × 分值;
each is a finding (`panel_disagreement`) naming the indicator and every expert's score. The experts'
扣分理由 are merged without duplicates (compared with whitespace and punctuation folded).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from perfeval.display import fmt_num as _fmt
from perfeval.display import fmt_pct
from perfeval.errors import SchemeError
from perfeval.panel.read import PanelSheets
from perfeval.rules import round_scores
from perfeval.scheme import ScoringOptions

#: panel rules -> how the report names them
PANEL_RULES = {"mean": "各专家评分的算术平均", "trimmed_mean": "去掉一个最高分和一个最低分后的算术平均"}
FINDING_COLUMNS = ("code", "severity", "message", "where")
_SPLIT = re.compile(r"[；;。\n\r]+")
_PUNCT_OR_SPACE = re.compile(r"[\s\u3000]+")


def check_rule(rule: str) -> str:
    if rule not in PANEL_RULES:
        raise SchemeError(f"评分选项 panel_rule=「{rule}」无效，应为 {'、'.join(PANEL_RULES)} 之一")
    return rule


def trims(n_experts: int, options: ScoringOptions, rule: str | None = None) -> bool:
    """Whether the highest and lowest scores are dropped for a panel of `n_experts`."""
    rule = check_rule(rule or options.panel_rule)
    return rule == "trimmed_mean" and n_experts >= max(3, options.panel_trim_min_experts)


def panel_scores(scores: np.ndarray, weights: np.ndarray, options: ScoringOptions,
                 rule: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(unrounded panel value, panel score) per indicator from an indicators × experts matrix (no NaN)."""
    x = np.asarray(scores, dtype=float)
    n = x.shape[1]
    if n == 0:
        raise ValueError("no expert scores")
    trimmed = trims(n, options, rule)
    raw = (x.sum(axis=1) - x.max(axis=1) - x.min(axis=1)) / (n - 2) if trimmed else x.mean(axis=1)
    w = np.asarray(weights, dtype=float)
    rounded = np.clip(round_scores(np.clip(raw, 0.0, None), options.rounding, options.decimals), 0.0, w)
    return raw, rounded


def spread(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(range, sample standard deviation) per indicator; the deviation is 0 for a single expert."""
    x = np.asarray(scores, dtype=float)
    rng = x.max(axis=1) - x.min(axis=1)
    std = x.std(axis=1, ddof=1) if x.shape[1] > 1 else np.zeros(len(x))
    return rng, std


def disagreements(rng: np.ndarray, std: np.ndarray, weights: np.ndarray,
                  options: ScoringOptions) -> tuple[np.ndarray, np.ndarray]:
    """(range beyond its threshold, deviation beyond its threshold) per indicator."""
    w = np.asarray(weights, dtype=float)
    return (rng > options.panel_disagreement_range * w + 1e-9,
            std > options.panel_disagreement_std * w + 1e-9)


@lru_cache(maxsize=65536)
def reason_key(text: str) -> str:
    """A reason folded for comparison: widths folded (NFKC), whitespace and punctuation removed."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in _PUNCT_OR_SPACE.sub("", folded)
                   if not unicodedata.category(ch).startswith("P"))


def merge_reasons(cells: Iterable[str]) -> str:
    """The experts' 扣分理由 in order of first appearance, each said once, joined by '；'. A cell may hold
    several reasons separated by ；, ; or 。."""
    seen: dict[str, str] = {}
    for cell in cells:
        for key, part in _parts(cell or ""):
            if key not in seen:
                seen[key] = part
    return "；".join(seen.values())


@lru_cache(maxsize=65536)
def _parts(cell: str) -> tuple[tuple[str, str], ...]:
    """(comparison key, reason as shown) for each reason in one cell (experts repeat their wording)."""
    out = []
    for part in _SPLIT.split(cell):
        part = " ".join(part.split()).strip("，,、：:.．。 ")
        key = reason_key(part)
        if key:
            out.append((key, part))
    return tuple(out)


@dataclass(frozen=True)
class PanelMerge:
    """The merged panel.

    `frame` (index = indicator position in `project.indicators`): row, name, weight, n, score (the panel
    score), raw (before rounding), low, high, range, std, range_flag, std_flag, disagreement, reason (merged
    扣分理由). `findings`: code, severity, message, where. `experts`: the expert ids used, `rule` the rule applied
    ("trimmed_mean" only when it trimmed)."""

    frame: pd.DataFrame
    findings: pd.DataFrame
    experts: tuple[str, ...]
    labels: dict[str, str]
    rule: str

    @property
    def rule_label(self) -> str:
        return PANEL_RULES[self.rule]


def merge_panel(panel: PanelSheets, options: ScoringOptions, exclude: Sequence[str] = (),
                rule: str | None = None) -> PanelMerge:
    """Merge the experts' scores (leaving out the expert ids in `exclude`, for a what-if)."""
    keep = [e for e in panel.scores.columns if e not in set(exclude)]
    if not keep:
        raise SchemeError("去掉这些专家后没有剩下的专家评分")
    ind = panel.indicators.set_index("position").loc[panel.scores.index]
    x = panel.scores[keep].to_numpy(dtype=float)
    w = ind["weight"].to_numpy(dtype=float)
    raw, score = panel_scores(x, w, options, rule)
    rng, std = spread(x)
    range_flag, std_flag = disagreements(rng, std, w, options)
    reasons = panel.reasons[keep].to_numpy(dtype=object)
    frame = pd.DataFrame({
        "row": ind["row"].to_numpy(), "name": ind["name"].to_numpy(), "weight": w, "n": len(keep),
        "score": score, "raw": raw, "low": x.min(axis=1), "high": x.max(axis=1), "range": rng, "std": std,
        "range_flag": range_flag, "std_flag": std_flag, "disagreement": range_flag | std_flag,
        "reason": [merge_reasons(r) for r in reasons],
    }, index=panel.scores.index)
    applied = "trimmed_mean" if trims(len(keep), options, rule) else "mean"
    labels = panel.labels
    findings = _findings(frame, x, keep, labels, options)
    return PanelMerge(frame, findings, tuple(keep), labels, applied)


def _findings(frame: pd.DataFrame, x: np.ndarray, keep: list[str], labels: dict[str, str],
              options: ScoringOptions) -> pd.DataFrame:
    records = []
    flagged = np.flatnonzero(frame["disagreement"].to_numpy())
    for i in flagged:
        r = frame.iloc[i]
        why = []
        if r.range_flag:
            limit = options.panel_disagreement_range
            why.append(f"极差 {_fmt(r['range'])} 分，超过分值 {_fmt(r.weight)} 分的 {fmt_pct(limit, 0)}"
                       f"（{_fmt(limit * r.weight)} 分）")
        if r.std_flag:
            share = options.panel_disagreement_std
            why.append(f"标准差 {_fmt(r['std'], 2, trim=False)} 分，超过分值的 {fmt_pct(share, 0)}"
                       f"（{_fmt(share * r.weight)} 分）")
        each = "、".join(f"{labels.get(e, e)} {_fmt(v)} 分" for e, v in zip(keep, x[i], strict=True))
        records.append({"code": "panel_disagreement", "severity": "warning",
                        "message": f"指标「{r['name']}」专家评分意见分歧：{'；'.join(why)}。各专家评分：{each}；"
                                   f"专家组得分 {_fmt(r.score)} 分。请组织专家复议并记录结论",
                        "where": f"指标表第{int(r.row)}行"})
    lost = (frame["score"] < frame["weight"] - 1e-9) & (frame["reason"] == "")
    for r in frame[lost].itertuples():
        records.append({"code": "panel_no_reason", "severity": "warning",
                        "message": f"指标「{r.name}」专家组得分 {_fmt(r.score)} 分（分值 {_fmt(r.weight)} 分），"
                                   "但没有专家填写扣分理由",
                        "where": f"指标表第{int(r.row)}行"})
    return pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS))


def merge_one_by_one(panel: PanelSheets, options: ScoringOptions) -> list[float]:
    """Reference implementation, one indicator at a time in plain Python (the benchmark's baseline and a
    cross-check in tests): the panel score of each indicator."""
    out = []
    for position in panel.scores.index:
        values = [float(panel.scores.at[position, e]) for e in panel.scores.columns]
        weight = float(panel.indicators.set_index("position").at[position, "weight"])
        if trims(len(values), options):
            values = sorted(values)[1:-1]
        mean = sum(values) / len(values)
        score = float(round_scores(np.array([max(mean, 0.0)]), options.rounding, options.decimals)[0])
        out.append(min(score, weight))
    return out
