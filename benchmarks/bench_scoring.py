"""Scoring throughput: a portfolio workbook of N projects loaded and evaluated in one vectorised pass,
against the baseline of evaluating the same projects one at a time with `perfeval.evaluate` (timed on a
sample and scaled per project, in the same run).

    python3 benchmarks/bench_scoring.py [--projects 10000] [--baseline-sample 200]

Last line: projects=<n> rows=<n> write_s=<s> load_s=<s> evaluate_s=<s> per_project_ms=<ms>
baseline_per_project_ms=<ms> speedup_vs_one_by_one=<x> peak_rss_mb=<m>
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import perfeval
from perfeval.workbook import save_portfolio

ROOT = Path(__file__).resolve().parents[1]


def write_portfolio(path: Path, n: int) -> None:
    """N variants of the reference project in one portfolio workbook (actual values and spending vary)."""
    base = perfeval.load_project(ROOT / "data" / "reference" / "AKT2022-001.xlsx")
    variants = [
        base.with_indicator(15, actual=f"{90 + i % 11}%").replace(
            id=f"B{i:05d}", name=f"项目{i}", spent=round(base.spent - (i % 7) * 0.5, 2))
        for i in range(n)
    ]
    save_portfolio(variants, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--baseline-sample", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.xlsx"
        t0 = time.perf_counter()
        write_portfolio(path, args.projects)
        write_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        projects = perfeval.load_projects(path)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        frames = perfeval.evaluate_frames(projects)
        evaluate_s = time.perf_counter() - t0

        sample = projects[: args.baseline_sample]
        t0 = time.perf_counter()
        one_by_one = [perfeval.evaluate(p) for p in sample]
        baseline_ms = (time.perf_counter() - t0) / len(sample) * 1000
    same = [e.total for e in one_by_one] == frames.projects["total"].iloc[: len(sample)].tolist()
    per_project_ms = evaluate_s / len(projects) * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"write portfolio workbook: {write_s:.1f} s (not part of the scoring)")
    print(f"load + validate {len(projects)} projects ({len(frames.indicators)} indicator rows): {load_s:.1f} s")
    print(f"evaluate (vectorised, with audit): {evaluate_s:.1f} s = {per_project_ms:.2f} ms/project")
    print(f"baseline evaluate() one by one on {len(sample)} projects: {baseline_ms:.2f} ms/project; "
          f"same totals: {same}")
    print(f"projects={len(projects)} rows={len(frames.indicators)} write_s={write_s:.1f} load_s={load_s:.1f} "
          f"evaluate_s={evaluate_s:.1f} per_project_ms={per_project_ms:.2f} baseline_per_project_ms={baseline_ms:.2f} "
          f"speedup_vs_one_by_one={baseline_ms / per_project_ms:.1f} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
