"""Satisfaction per indicator from the valid responses, with the 95% margin of error.

* **满意率** (rate mode, one item): p = satisfied / n; margin = 1.96 · √(p(1−p)/n).
* Several items for one indicator, or a **weighted score** (points per answer): each respondent's value x is the
  mean over the indicator's items (share of satisfied answers, or mean points); value = mean(x);
  margin = 1.96 · s / √n with s the sample standard deviation of x (ddof = 1).
* With a population size N (mapping ``population``) the margin is multiplied by the finite-population
  correction √((N − n)/(N − 1)).

Rates and their margins are in percent (percentage points); weighted scores in the mapping's points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import Problem, SheetError
from perfeval.survey.answers import Answers, read_answers
from perfeval.survey.mapping import SCALE_POINTS, SurveyMapping, load_mapping
from perfeval.survey.screen import Screening, screen

Z95 = 1.96
INDICATOR_COLUMNS = ("indicator", "items", "mode", "n", "value", "margin", "low", "high", "formula")
#: answer labels per scale point (5 = most satisfied), for tables and charts
POINT_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@dataclass(frozen=True)
class SurveyResult:
    """A screened survey and its figures per indicator and per item."""

    mapping: SurveyMapping
    answers: Answers
    screening: Screening
    indicators: pd.DataFrame  # INDICATOR_COLUMNS, one row per mapped indicator (mapping order)
    items: pd.DataFrame  # per item: column, indicator, n, counts per point, satisfied share and margin

    @property
    def excluded(self) -> pd.DataFrame:
        return self.screening.excluded


def fpc(n: int, population: int | None) -> float:
    """Finite-population correction √((N − n)/(N − 1)); 1 without a population size."""
    if population is None or population <= 1:
        return 1.0
    return math.sqrt(max(population - n, 0) / (population - 1))


def _respondent_values(points: np.ndarray, items: list, mode: str) -> np.ndarray:
    """Each respondent's value over the indicator's items (points: valid rows × these items)."""
    if mode == "rate":
        hits = np.column_stack([np.isin(points[:, j], sorted(item.satisfied)) for j, item in enumerate(items)])
        return hits.mean(axis=1)
    lut = np.full((len(items), max(SCALE_POINTS) + 1), np.nan)
    for j, item in enumerate(items):
        for point, weight in item.weights.items():
            lut[j, point] = weight
    cols = points.astype(int)
    return np.column_stack([lut[j, cols[:, j]] for j in range(len(items))]).mean(axis=1)


def estimate(values: np.ndarray, single_rate: bool, population: int | None) -> tuple[float, float]:
    """(value, margin) of a mean of respondent values: normal approximation for one rate item, sample standard
    deviation otherwise; finite-population corrected."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    if single_rate:
        spread = math.sqrt(mean * (1 - mean) / n)
    else:
        spread = float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return mean, Z95 * spread * fpc(n, population)


def compute(answers: Answers, screening: Screening, mapping: SurveyMapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per indicator, per item) figures from the valid responses."""
    valid = answers.points[screening.valid]
    n = len(valid)
    if mapping.population is not None and mapping.population < n:
        raise SheetError([Problem(mapping.source, None, None, "survey.population", str(mapping.population),
                                  f"总体数量小于有效答卷数 {n}")])
    position = {column: j for j, column in enumerate(answers.columns)}
    groups: dict[str, list] = {}
    for item in mapping.items:
        groups.setdefault(item.indicator, []).append(item)
    records = []
    for indicator, items in groups.items():
        mode = items[0].mode
        cols = valid[:, [position[i.column] for i in items]] if n else np.empty((0, len(items)))
        x = _respondent_values(cols, items, mode) if n else np.empty(0)
        single = mode == "rate" and len(items) == 1
        value, margin = estimate(x, single, mapping.population)
        scale = 100.0 if mode == "rate" else 1.0
        formula = ("1.96·√(p(1−p)/n)" if single else "1.96·s/√n（s 为每位受访者得分的样本标准差）")
        if mapping.population is not None:
            formula += f"·√((N−n)/(N−1))，N={mapping.population}"
        records.append({"indicator": indicator, "items": "、".join(i.column for i in items), "mode": mode, "n": n,
                        "value": value * scale, "margin": margin * scale, "low": (value - margin) * scale,
                        "high": (value + margin) * scale, "formula": formula})
    per_indicator = pd.DataFrame.from_records(records, columns=list(INDICATOR_COLUMNS))
    item_records = []
    for item in mapping.items:
        col = valid[:, position[item.column]] if n else np.empty(0)
        counts = {POINT_LABELS[p]: int((col == p).sum()) for p in sorted(SCALE_POINTS, reverse=True)}
        share, margin = (estimate(np.isin(col, sorted(item.satisfied)).astype(float), True, mapping.population)
                         if item.mode == "rate" else (math.nan, math.nan))
        item_records.append({"column": item.column, "indicator": item.indicator, "n": n, **counts,
                             "satisfied": share * 100, "margin": margin * 100})
    return per_indicator, pd.DataFrame.from_records(item_records)


def run_survey(answers: str | Path | Answers, mapping: str | Path | SurveyMapping) -> SurveyResult:
    """Read (when given paths), screen and compute a survey. Raises SheetError with located problems."""
    if not isinstance(mapping, SurveyMapping):
        mapping = load_mapping(mapping)
    if not isinstance(answers, Answers):
        answers = read_answers(answers, mapping)
    screening = screen(answers, mapping)
    per_indicator, per_item = compute(answers, screening, mapping)
    return SurveyResult(mapping, answers, screening, per_indicator, per_item)
