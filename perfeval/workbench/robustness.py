"""Grade robustness: would the grade change under another reasonable rule choice or other weights?

Two pure analyses of one project:

* `alternatives` re-evaluates the project with each alternative scoring choice the field argues
  about (rounding vs truncation; 反向 t/a vs 2−a/t; the 10号 three-tier qualitative scale vs four
  grades; execution denominator 预算数 vs 到位数), one at a time and all together.
* `weight_monte_carlo` draws weights: each indicator's weight is multiplied by a uniform factor
  in [1−N, 1+N], then the weights of each 一级指标 are rescaled to keep the level's weight. Since a
  score is weight × fraction (`perfeval.rules`), each draw re-scores with the evaluation's
  fractions — including a deduction, which therefore scales with its indicator's weight — and
  rounds exactly as `score_frame` and the level totals do, so a spread of 0 reproduces the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfeval.display import fmt_pct
from perfeval.model import Project
from perfeval.rules import round_scores
from perfeval.scheme import Scheme, ScoringOptions
from perfeval.scoring.evaluate import Evaluation, evaluate

#: option -> {value: Chinese description}; each option has exactly two reasonable values
CHOICES: dict[str, dict[str, str]] = {
    "rounding": {"half_up": "得分四舍五入", "truncate": "得分截尾取舍（不进位）",
                 "half_even": "得分四舍六入五成双"},
    "negative_rule": {"ratio": "反向指标按 t/a 计分", "linear": "反向指标按 2−a/t 计分"},
    "qualitative_scale": {"three_tier": "定性指标三档（10号：达成/部分达成/未达成）",
                          "four_grade": "定性指标四档（优/良/中/差）"},
    "execution_denominator": {"budget": "预算执行率分母为预算数", "allocated": "预算执行率分母为到位数"},
}
#: the value each option switches to when the scheme uses the other one
ALTERNATE: dict[str, dict[str, str]] = {
    "rounding": {"half_up": "truncate", "half_even": "truncate", "truncate": "half_up"},
    "negative_rule": {"ratio": "linear", "linear": "ratio"},
    "qualitative_scale": {"three_tier": "four_grade", "four_grade": "three_tier"},
    "execution_denominator": {"budget": "allocated", "allocated": "budget"},
}
ALTERNATIVE_COLUMNS = ("口径", "评分选项（--option）", "总分", "等级", "与基准相比", "等级变化")


def alternative_options(options: ScoringOptions) -> list[tuple[str, dict[str, object]]]:
    """(description, option changes): the baseline, each alternative alone, then all together."""
    out: list[tuple[str, dict[str, object]]] = [("基准（方案默认口径）", {})]
    together: dict[str, object] = {}
    for key, switch in ALTERNATE.items():
        value = switch[getattr(options, key)]
        together[key] = value
        out.append((CHOICES[key][value], {key: value}))
    out.append(("以上替代口径同时采用", together))
    return out


def alternatives(project: Project, scheme: str | Scheme | None = None) -> pd.DataFrame:
    """Total and grade under each alternative rule choice (Chinese columns, numbers as floats)."""
    base = evaluate(project, scheme)
    rows = []
    for label, changes in alternative_options(base.options):
        ev = base if not changes else evaluate(project, base.scheme, base.options.updated(**changes))
        rows.append({
            "口径": label,
            "评分选项（--option）": " ".join(f"{k}={v}" for k, v in changes.items()) or "—",
            "总分": ev.total,
            "等级": ev.grade,
            "与基准相比": round(ev.total - base.total, base.options.decimals),
            "等级变化": "不变" if ev.grade == base.grade else f"{base.grade} → {ev.grade}",
        })
    return pd.DataFrame(rows, columns=list(ALTERNATIVE_COLUMNS))


@dataclass(frozen=True)
class MonteCarlo:
    """Totals of `draws` weight draws and the share of draws in each grade."""

    totals: np.ndarray
    grades: np.ndarray
    grade_probability: dict[str, float]
    base_total: float
    base_grade: str
    spread: float
    seed: int

    @property
    def draws(self) -> int:
        return len(self.totals)

    def quantiles(self, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> dict[float, float]:
        return {q: float(np.quantile(self.totals, q)) for q in qs}

    @property
    def probability_same_grade(self) -> float:
        return self.grade_probability.get(self.base_grade, 0.0)


def grade_of(totals: np.ndarray, scheme: Scheme) -> np.ndarray:
    """`Scheme.grade` for many totals at once (bands are half-open, highest first)."""
    names = np.array([g for g, _ in scheme.grade_bands], dtype=object)
    lowers = np.array([lower for _, lower in scheme.grade_bands], dtype=float)
    # first band whose lower bound ≤ total; the last band catches everything below
    hit = totals[:, None] >= lowers[None, :] - 1e-9
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), len(names) - 1)
    return names[first]


def weight_monte_carlo(ev: Evaluation, draws: int = 2000, spread: float = 0.2,
                       seed: int = 0) -> MonteCarlo:
    """Distribution of totals when weights vary by ±`spread` within each 一级指标 (renormalised)."""
    if draws < 1:
        raise ValueError("draws must be ≥ 1")
    if not 0 <= spread < 1:
        raise ValueError("spread must be in [0, 1)")
    ind = ev.indicators
    opts = ev.options
    weight = ind["weight"].to_numpy(dtype=float)
    fraction = ind["fraction"].to_numpy(dtype=float)
    levels = [lv.name for lv in ev.scheme.levels]
    member = np.stack([(ind["level1"] == name).to_numpy(dtype=float) for name in levels], axis=1)
    level_weight = weight @ member  # (L,)

    rng = np.random.default_rng(seed)
    factors = rng.uniform(1.0 - spread, 1.0 + spread, size=(draws, len(weight)))
    drawn = weight[None, :] * factors
    sums = drawn @ member  # (draws, L)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(sums > 0, level_weight[None, :] / sums, 0.0)
    drawn = drawn * (scale @ member.T)
    score = round_scores(drawn * fraction[None, :], opts.rounding, opts.decimals)
    score = np.clip(score, 0.0, drawn)
    level_scores = round_scores(score @ member, "half_up", opts.decimals)
    totals = round_scores(level_scores.sum(axis=1), "half_up", opts.decimals)
    grades = grade_of(totals, ev.scheme)
    probability = {g: float(np.mean(grades == g)) for g, _ in ev.scheme.grade_bands}
    return MonteCarlo(totals, grades, probability, ev.total, ev.grade, spread, seed)


def monte_carlo_table(mc: MonteCarlo) -> pd.DataFrame:
    """Grade probabilities as a small table (Chinese)."""
    return pd.DataFrame({
        "等级": list(mc.grade_probability),
        "抽样次数": [int(np.sum(mc.grades == g)) for g in mc.grade_probability],
        "概率": [fmt_pct(p, 1, trim=False) for p in mc.grade_probability.values()],
    })
