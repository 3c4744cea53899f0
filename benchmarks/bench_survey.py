"""Survey screening throughput: N synthetic responses (3 items, planted invalid responses of every kind)
screened and computed in one vectorised pass (`perfeval.survey.screen` + `compute`), against a one-by-one
baseline (a per-row Python loop applying the same four rules and the same formulas) in the same run. Both must
agree on every excluded row and on the value and margin, or the benchmark fails.

    python3 benchmarks/bench_survey.py [--responses 100000]

Before the last line: read_s (reading the .xlsx export with `read_answers`).
Last line: responses=<n> screen_s=<s> baseline_s=<s> speedup=<x>
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from perfeval.survey import compute, read_answers, screen
from perfeval.survey.mapping import STRAIGHTLINE_MIN_ITEMS, mapping_from_dict
from perfeval.survey.synth import synth_survey


def one_by_one(answers, mapping) -> tuple[list[int], float, float]:
    """The same screening and figures, one respondent at a time (rows excluded, value %, margin %)."""
    start = np.datetime64(mapping.start, "ns")
    end = (np.datetime64(mapping.end, "D") + np.timedelta64(1, "D")).astype("datetime64[ns]")
    satisfied = [sorted(item.satisfied) for item in mapping.items]
    seen: set[str] = set()
    excluded: list[int] = []
    values: list[float] = []
    for i in range(len(answers.rows)):
        row = [float(v) for v in answers.points[i]]
        rid, when = answers.respondent[i], answers.time[i]
        incomplete = any(math.isnan(v) for v in row) or rid == "" or np.isnat(when)
        duplicate = rid != "" and rid in seen
        if rid != "":
            seen.add(rid)
        straight = len(row) >= STRAIGHTLINE_MIN_ITEMS and not incomplete and len(set(row)) == 1
        outside = not np.isnat(when) and (when < start or when >= end)
        if incomplete or duplicate or straight or outside:
            excluded.append(int(answers.rows[i]))
            continue
        values.append(sum(int(v) in s for v, s in zip(row, satisfied, strict=True)) / len(row))
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return excluded, mean * 100, 1.96 * sd / math.sqrt(n) * 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    args = parser.parse_args()
    frame, spec, truth = synth_survey(args.responses, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.xlsx"
        frame.to_excel(path, index=False, engine="xlsxwriter")
        mapping = mapping_from_dict(spec)
        t0 = time.perf_counter()
        answers = read_answers(path, mapping)
        read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    screening = screen(answers, mapping)
    per_indicator, _ = compute(answers, screening, mapping)
    screen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    excluded, value, margin = one_by_one(answers, mapping)
    baseline_s = time.perf_counter() - t0
    row = per_indicator.iloc[0]
    assert sorted(screening.excluded["行"]) == sorted(excluded), "vectorised and one-by-one screening differ"
    assert sorted(excluded) == sorted(r for rows in truth.planted.values() for r in rows), "planted rows missed"
    assert abs(row["value"] - value) < 1e-9 and abs(row["margin"] - margin) < 1e-9, "figures differ"
    print(f"valid={int(screening.valid.sum())} excluded={len(excluded)} value={row['value']:.4f}% "
          f"margin={row['margin']:.4f}pp read_s={read_s:.3f}")
    print(f"responses={args.responses} screen_s={screen_s:.3f} baseline_s={baseline_s:.3f} "
          f"speedup={baseline_s / screen_s:.1f}")


if __name__ == "__main__":
    main()
