"""Expert panel merge: E filled expert sheets × N judged indicators read, checked and merged into the project
(`perfeval.panel.merge_sheets`: every sheet read through the guarded reader, located checks, vectorised merge,
applied to the project), against a one-by-one baseline in the same run: the same sheets read cell by cell
with openpyxl and merged indicator by indicator in plain Python (mean or trimmed mean, range, standard
deviation, reasons without duplicates), as a hand-written script would. Both must give the same scores.

    python3 benchmarks/bench_panel.py [--experts 50] [--indicators 200] [--rule mean|trimmed_mean]

Wall-clock figures on the last line; the line before gives the CPU time of each (on a shared machine the
wall clock includes waiting for a core).

Last line: experts=<E> indicators=<N> merge_s=<s> baseline_s=<s> speedup=<x>
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.model import INDICATOR_COLUMNS, Project
from perfeval.panel import judged_indicators, merge_sheets
from perfeval.panel.merge import merge_reasons, trims
from perfeval.panel.synth import synth_panel, write_panel
from perfeval.rules import round_scores
from perfeval.scheme import load_scheme

LEVELS = (("决策", 0.2), ("过程", 0.2), ("产出", 0.4), ("效益", 0.2))


def big_project(n: int) -> Project:
    """A third-party project whose N indicators all need judgement (扣分, every fifth 定性), weights adding
    up to 100 by level (20/20/40/20)."""
    rows = []
    for level, share in LEVELS:
        count = round(n * share)
        for i in range(count):
            qualitative = i % 5 == 4
            rows.append({
                "level1": level, "level2": f"{level}二级{i // 10 + 1}", "level3": f"{level}三级{i + 1}",
                "name": f"{level}指标{i + 1}", "weight": 100 * share / count,
                "target": "有效提升" if qualitative else "", "actual": "有效提升" if qualitative else "按要求完成",
                "method": "" if qualitative else "manual", "stated_score": np.nan, "deduction": 0.0,
                "deduction_reason": "", "reason": "", "measure": "", "evidence": "", "data_source": "",
            })
    frame = pd.DataFrame(rows)
    frame.insert(0, "row", np.arange(2, len(frame) + 2))
    return Project(id="BENCH-PANEL", name="专家组评分基准项目", department="基准", unit="基准", year=2024,
                   method="第三方评价", scheme_id="third_party", budget=100.0, allocated=100.0, spent=95.0,
                   indicators=frame[list(INDICATOR_COLUMNS)])


def baseline(paths: list[Path], rule: str) -> dict[int, float]:
    """Read each sheet cell by cell (openpyxl) and merge indicator by indicator."""
    from openpyxl import load_workbook

    options = load_scheme("third_party").options.updated(panel_rule=rule)
    scores: dict[int, list[float]] = {}
    reasons: dict[int, list[str]] = {}
    weights: dict[int, float] = {}
    for path in paths:
        book = load_workbook(path, read_only=True)
        rows = book["专家评分"].iter_rows(values_only=True)
        header = list(next(rows))
        row_i, weight_i, score_i, reason_i = (header.index(h) for h in ("指标表行号", "分值", "得分", "扣分理由"))
        for values in rows:
            key = int(values[row_i])
            weights[key] = float(values[weight_i])
            scores.setdefault(key, []).append(float(values[score_i]))
            reasons.setdefault(key, []).append(values[reason_i] or "")
        book.close()
    merged = {}
    for key, values in scores.items():
        kept = sorted(values)[1:-1] if trims(len(values), options) else values
        mean = sum(kept) / len(kept)
        score = min(float(round_scores(np.array([mean]), options.rounding, options.decimals)[0]), weights[key])
        _ = (max(values) - min(values), statistics.stdev(values) if len(values) > 1 else 0.0,
             merge_reasons(reasons[key]))
        merged[key] = score
    return merged


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experts", type=int, default=50)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--rule", default="mean", choices=("mean", "trimmed_mean"))
    args = parser.parse_args()
    project = big_project(args.indicators)
    judged = judged_indicators(project)
    assert len(judged) == args.indicators, len(judged)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        panel = synth_panel(project, args.experts, seed=1, disagree=judged["position"].iloc[::40].tolist(),
                            judged=judged)
        paths = write_panel(project, panel, Path(tmp))
        write_s = time.perf_counter() - t0

        t0, c0 = time.perf_counter(), time.process_time()
        result = merge_sheets(project, paths, options={"panel_rule": args.rule})
        merge_s, merge_cpu = time.perf_counter() - t0, time.process_time() - c0

        t0, c0 = time.perf_counter(), time.process_time()
        one_by_one = baseline(paths, args.rule)
        baseline_s, baseline_cpu = time.perf_counter() - t0, time.process_time() - c0
    fast = dict(zip(result.merged.frame["row"].astype(int), result.merged.frame["score"], strict=True))
    assert fast == one_by_one, "vectorised and one-by-one merges differ"
    flagged = int(result.merged.frame["disagreement"].sum())
    print(f"write_s={write_s:.2f} (generating {args.experts} filled sheets, not timed below) "
          f"disagreements={flagged} total={result.evaluate().total}")
    # CPU time of this process: what the run costs when the machine is shared (wall time includes waiting)
    print(f"merge_cpu_s={merge_cpu:.3f} baseline_cpu_s={baseline_cpu:.3f} speedup_cpu={baseline_cpu / merge_cpu:.1f}")
    print(f"experts={args.experts} indicators={args.indicators} merge_s={merge_s:.3f} "
          f"baseline_s={baseline_s:.3f} speedup={baseline_s / merge_s:.1f}")


if __name__ == "__main__":
    main()
