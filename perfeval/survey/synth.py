"""Synthetic satisfaction surveys with known truth, for tests, benchmarks and demonstrations.

Each item has a true satisfied share; a planted share of invalid responses of each kind is added (every
planted response breaks exactly one rule, and no clean response breaks any: an accidental straight line is
broken by nudging one answer within its satisfied class). `SurveyTruth` says which Excel rows were planted.

    python3 -m perfeval.survey.synth --out DIR [--responses 300] [--seed 1]

writes DIR/answers.xlsx and DIR/mapping.toml for the reference project's 满意度 indicator.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.survey.compute import POINT_LABELS

#: (column, indicator, true satisfied share)
DEFAULT_ITEMS: tuple[tuple[str, str, float], ...] = (
    ("Q1 您对社保缴费服务的总体满意程度", "服务群众满意度（%）", 0.93),
    ("Q2 您对缴费及时性的满意程度", "服务群众满意度（%）", 0.90),
    ("Q3 您对工会服务态度的满意程度", "服务群众满意度（%）", 0.95),
)
DEFAULT_INVALID = {"incomplete": 0.03, "duplicate": 0.02, "straightlining": 0.02, "out_of_period": 0.02}
RESPONDENT, TIME = "答卷编号", "提交答卷时间"


@dataclass(frozen=True)
class SurveyTruth:
    """What the generator planted: Excel rows per invalid kind (header on row 1), the clean rows, the true
    share per item."""

    planted: dict[str, list[int]]
    clean_rows: list[int]
    shares: dict[str, float]
    satisfied: tuple[str, ...] = ("非常满意", "满意")
    extra: dict[str, object] = field(default_factory=dict)


def _answers(rng: np.random.Generator, n: int, shares: list[float]) -> np.ndarray:
    """Scale points (n × k): satisfied (5 or 4, evenly) with each item's share, else 3/2/1 (0.6/0.3/0.1)."""
    k = len(shares)
    satisfied = rng.random((n, k)) < np.array(shares)
    high = np.where(rng.random((n, k)) < 0.5, 5, 4)
    low = rng.choice([3, 2, 1], size=(n, k), p=[0.6, 0.3, 0.1])
    points = np.where(satisfied, high, low)
    if k >= 3:  # break accidental straight lines without changing anyone's satisfied answers
        flat = points.max(axis=1) == points.min(axis=1)
        nudge = {5: 4, 4: 5, 3: 2, 2: 3, 1: 2}
        points[flat, -1] = [nudge[int(p)] for p in points[flat, -1]]
    return points


#: questions asked per 满意度 indicator when the items come from a project (`items_for`)
ITEM_ASPECTS = ("总体满意程度", "服务及时性", "服务态度")


def items_for(project, per_indicator: int = 2, default_share: float = 0.9) -> tuple[tuple[str, str, float], ...]:
    """Survey items for a project's 满意度 indicators (三级 or name containing 满意): `per_indicator` questions each,
    whose true satisfied share is the indicator's actual as a % where it reads as one (so the survey is meant to
    support what the sheet says), else `default_share`. Raises PerfevalError when the project has none."""
    from perfeval.errors import PerfevalError
    from perfeval.notation import parse_rate

    ind = project.indicators
    text = ind["name"].astype(str) + ind["level3"].astype(str)
    chosen = ind[text.str.contains("满意")]
    if chosen.empty:
        raise PerfevalError(f"项目「{project.id}」没有满意度指标（三级指标或指标名称含「满意」），无法生成问卷")
    items = []
    number = 1
    for rec in chosen.itertuples():
        rate = parse_rate(rec.actual)
        share = min(max(rate if rate is not None else default_share, 0.05), 0.99)
        for aspect in ITEM_ASPECTS[:max(1, per_indicator)]:
            topic = re.sub(r"[（(][^（()）]*[)）]\s*$", "", str(rec.name)).removesuffix("满意度") or str(rec.name)
            items.append((f"Q{number} 您对{topic}{aspect}的评价", str(rec.name), share))
            number += 1
    return tuple(items)


def synth_survey(responses: int = 300, items: tuple[tuple[str, str, float], ...] = DEFAULT_ITEMS, seed: int = 1,
                 invalid: dict[str, float] | None = None, start: date = date(2022, 11, 1),
                 end: date = date(2022, 11, 30), numeric: bool = False, population: int | None = None
                 ) -> tuple[pd.DataFrame, dict, SurveyTruth]:
    """(answers as a survey tool exports them, the mapping as a TOML structure, the truth). `responses` counts
    every row, planted ones included."""
    rng = np.random.default_rng(seed)
    invalid = dict(DEFAULT_INVALID if invalid is None else invalid)
    if len(items) < 3:
        invalid["straightlining"] = 0.0  # not judged with fewer than three items
    counts = {kind: round(share * responses) for kind, share in invalid.items()}
    n_clean = responses - sum(counts.values())
    shares = [s for _, _, s in items]
    points = _answers(rng, responses, shares).astype(object)
    kinds = np.array(["clean"] * n_clean + [k for k, c in counts.items() for _ in range(c)], dtype=object)
    ids = np.array([f"R{i + 1:06d}" for i in range(responses)], dtype=object)
    span = (datetime.combine(end, datetime.max.time()) - datetime.combine(start, datetime.min.time()))
    seconds = rng.integers(0, int(span.total_seconds()), size=responses)
    times = [datetime.combine(start, datetime.min.time()) + timedelta(seconds=int(s)) for s in seconds]
    key = rng.random(responses)
    clean_idx = np.flatnonzero(kinds == "clean")
    for i in np.flatnonzero(kinds == "duplicate"):
        original = int(rng.choice(clean_idx))
        ids[i] = ids[original]
        key[i] = rng.uniform(key[original], 1.0)  # always after the row it repeats
    for i in np.flatnonzero(kinds == "incomplete"):
        points[i, rng.integers(0, len(items))] = None
    for i in np.flatnonzero(kinds == "straightlining"):
        points[i, :] = int(rng.integers(1, 6))
    for i in np.flatnonzero(kinds == "out_of_period"):
        days = int(rng.integers(1, 30))
        times[i] = (datetime.combine(start, datetime.min.time()) - timedelta(days=days, hours=3) if rng.random() < 0.5
                    else datetime.combine(end, datetime.min.time()) + timedelta(days=days, hours=9))
    order = np.argsort(key, kind="stable")
    excel_row = np.empty(responses, dtype=int)
    excel_row[order] = np.arange(responses) + 2
    words = {p: w for p, w in POINT_LABELS.items()}
    columns: dict[str, object] = {
        "序号": np.arange(1, responses + 1),
        RESPONDENT: ids[order],
        TIME: [times[i].strftime("%Y/%m/%d %H:%M:%S") for i in order],
        "您的身份": rng.choice(["聘用人员", "基层工会干部", "其他"], size=responses),
    }
    for j, (column, _, _) in enumerate(items):
        values = points[order, j]
        columns[column] = [None if v is None else (int(v) if numeric else words[int(v)]) for v in values]
    frame = pd.DataFrame(columns)
    mapping: dict = {"survey": {"answers": "answers.xlsx", "respondent": RESPONDENT, "time": TIME, "start": start,
                                "end": end, "satisfied": ["非常满意", "满意"]},
                     "item": [{"column": c, "indicator": ind} for c, ind, _ in items]}
    if population is not None:
        mapping["survey"]["population"] = population
    planted = {kind: sorted(int(excel_row[i]) for i in np.flatnonzero(kinds == kind)) for kind in invalid}
    truth = SurveyTruth(planted, sorted(int(excel_row[i]) for i in clean_idx), {c: s for c, _, s in items})
    return frame, mapping, truth


def mapping_toml(mapping: dict) -> str:
    """A mapping structure as TOML text (strings, numbers, dates and lists of them)."""
    def value(v: object) -> str:
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        return json.dumps(str(v), ensure_ascii=False)

    lines = ["[survey]"] + [f"{k} = {value(v)}" for k, v in mapping.get("survey", {}).items()]
    for item in mapping.get("item", []):
        lines += ["", "[[item]]"] + [f"{k} = {value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def write_survey(out: str | Path, responses: int = 300, seed: int = 1, **options) -> tuple[Path, Path, SurveyTruth]:
    """Write out/answers.xlsx and out/mapping.toml (atomically); returns their paths and the truth."""
    from perfeval.atomic import atomic_path, write_bytes_atomic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame, mapping, truth = synth_survey(responses, seed=seed, **options)
    answers = out / "answers.xlsx"
    with atomic_path(answers) as tmp:
        frame.to_excel(tmp, index=False, sheet_name="答卷数据", engine="xlsxwriter")
    mapping_path = write_bytes_atomic(out / "mapping.toml", mapping_toml(mapping).encode("utf-8"))
    return answers, mapping_path, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m perfeval.survey.synth", description="生成合成满意度问卷")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--responses", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    answers, mapping, truth = write_survey(args.out, args.responses, args.seed)
    planted = "，".join(f"{k} {len(v)}" for k, v in truth.planted.items())
    print(f"✓ {answers}（{args.responses} 份，植入无效答卷：{planted}）\n✓ {mapping}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
