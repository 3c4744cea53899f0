"""Benchmark: the workbench's interactive updates, driven through the widgets as a user would.

    python3 benchmarks/bench_explore.py [--repeat N] [--projects N]

Measures, in the same run (median of N updates, each a real change):
  * whatif_ms      — one what-if edit on a 30-indicator project: the 实际完成值 text widget is set,
    the scenario re-evaluated (`perfeval.evaluate`, audit included) and the total, subtotal
    table, change list and chart updated;
  * evaluate_ms    — baseline: `perfeval.evaluate` of the same edited project alone (the floor a
    what-if cannot go below); the ratio shows what the widget adds;
  * filter_1000_ms — one filter change (等级, 主管部门, 总分范围, 核查发现, in turn) on a 1,000-project
    portfolio: mask, sort, status line, table and the portfolio chart (a PNG) all redone;
  * mask_1000_ms   — baseline: `apply_filters` + `sort_summary` alone on the same portfolio.
Targets: whatif_ms <= 100, filter_1000_ms <= 300 (exit code 1 when missed).
The portfolios are built in memory from varied copies of the reference project.
The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import perfeval
from perfeval.workbench import portfolio as pf
from perfeval.workbench.widgets import PortfolioExplorer, WhatIfPanel, project_picker

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "csv" / "AKT2022-001.csv"
TARGETS = {"whatif_ms": 100.0, "filter_1000_ms": 300.0}
DEPARTMENTS = ("县教育局", "县卫生健康委员会", "县农业农村局", "县水利局", "县交通运输局", "县民政局",
               "县文化体育广播电视和旅游局", "县住房和城乡建设局", "县财政局", "县人力资源和社会保障局",
               "阿克陶县总工会", "县科学技术局")


def _rescale(weights: np.ndarray, total: float) -> np.ndarray:
    """Weights scaled to `total`, in hundredths, adding up exactly."""
    scaled = np.round(weights * total / weights.sum(), 2)
    scaled[np.argmax(scaled)] += round(total - scaled.sum(), 2)
    return scaled


def thirty_indicators(reference: perfeval.Project) -> perfeval.Project:
    """The reference project with ten more 产出/效益 indicators (30 in all), weights rescaled so
    each level keeps its weight."""
    ind = reference.indicators
    extra = ind[ind["level1"].isin(["产出", "效益"])]
    extra = extra.iloc[np.arange(10) % len(extra)].copy()
    extra["name"] = [f"{n}（补充{i + 1}）" for i, n in enumerate(extra["name"])]
    frame = pd.concat([ind, extra], ignore_index=True)
    frame["row"] = np.arange(2, 2 + len(frame))
    for level, weight in (("产出", 40.0), ("效益", 20.0)):
        mask = (frame["level1"] == level).to_numpy()
        frame.loc[mask, "weight"] = _rescale(frame.loc[mask, "weight"].to_numpy(dtype=float), weight)
    return reference.replace(indicators=frame)


def portfolio_projects(reference: perfeval.Project, n: int, seed: int = 0) -> list[perfeval.Project]:
    """`n` copies of the reference with other ids, departments, years, spending and results."""
    rng = np.random.default_rng(seed)
    ind = reference.indicators
    varied = {int(ind.index[ind["name"] == name][0]): unit for name, unit in (
        ("社会化人员社保金缴费人数（人）", "人"), ("社保金缴费资金及时发放率（%）", "%"),
        ("社保金缴费（万元）", "万元"), ("服务群众满意度（%）", "%"))}
    targets = {"人": 24.0, "%": 100.0, "万元": 33.46}
    out = []
    for i in range(n):
        year = 2021 + i % 3
        p = reference.replace(id=f"BM{year}-{i:04d}", name=f"基准项目{i:04d}",
                              department=DEPARTMENTS[i % len(DEPARTMENTS)], year=year,
                              spent=float(round(reference.budget * rng.uniform(0.5, 1.0), 2)))
        for index, unit in varied.items():
            value = round(targets[unit] * rng.uniform(0.2, 1.0), 2)
            p = p.with_indicator(index, actual=f"{value:g}{unit}")
        out.append(p)
    return out


def median_ms(changes: Sequence[Callable[[], None]]) -> float:
    times = []
    for change in changes:
        start = time.perf_counter()
        change()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_whatif(reference: perfeval.Project, repeat: int) -> tuple[float, float]:
    project = thirty_indicators(reference)
    assert len(project.indicators) == 30
    portfolio = pf.Portfolio.from_projects([project])
    panel = WhatIfPanel(portfolio, project_picker(portfolio))
    index = int(project.indicators.index[project.indicators["name"] == "社保金缴费（万元）"][0])
    panel.indicator.value = index
    values = [f"{20 + 0.5 * k:g}万元" for k in range(repeat)]

    def edit(value: str) -> Callable[[], None]:
        def run() -> None:
            panel.actual.value = value
            assert panel.evaluation.project.indicators.at[index, "actual"] == value, panel.message.value
        return run

    edit("19万元")()  # warm: first render loads fonts and caches
    whatif = median_ms([edit(v) for v in values])
    baseline = median_ms([lambda v=v: perfeval.evaluate(project.with_indicator(index, actual=v))
                          for v in values])
    return whatif, baseline


def bench_filter(reference: perfeval.Project, n: int, repeat: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    portfolio = pf.Portfolio.from_projects(portfolio_projects(reference, n))
    load_s = time.perf_counter() - start
    explorer = PortfolioExplorer(portfolio)
    states: list[Callable[[], None]] = []
    cycle = [
        lambda: setattr(explorer.grade, "value", ("良",)),
        lambda: setattr(explorer.department, "value", DEPARTMENTS[:3]),
        lambda: setattr(explorer.score, "value", (70.0, 95.0)),
        lambda: setattr(explorer.findings, "value", "errors_or_warnings"),
        lambda: setattr(explorer.grade, "value", ("优", "中")),
        lambda: setattr(explorer.department, "value", ()),
        lambda: setattr(explorer.score, "value", (0.0, 100.0)),
        lambda: setattr(explorer.grade, "value", ()),
    ]
    while len(states) < repeat:
        states.extend(cycle)
    filtered = median_ms(states[:repeat])
    filters = [pf.Filters(grades=("良",)), pf.Filters(departments=DEPARTMENTS[:3]),
               pf.Filters(score_range=(70.0, 95.0)), pf.Filters(findings="errors_or_warnings")]
    mask = median_ms([lambda f=f: pf.sort_summary(pf.apply_filters(portfolio.summary, f))
                      for f in (filters * repeat)[:repeat]])
    return filtered, mask, load_s


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--projects", type=int, default=1000)
    args = parser.parse_args(argv)
    reference = perfeval.load_project(REFERENCE)

    whatif, evaluate_ms = bench_whatif(reference, args.repeat)
    print(f"what-if update, 30 indicators:   {whatif:7.1f} ms  (target ≤ {TARGETS['whatif_ms']:g})")
    print(f"  baseline perfeval.evaluate:     {evaluate_ms:7.1f} ms  → what-if / evaluate = "
          f"{whatif / evaluate_ms:.2f}×")
    filtered, mask, load_s = bench_filter(reference, args.projects, args.repeat)
    print(f"filter update, {args.projects} projects:  {filtered:7.1f} ms  (target ≤ "
          f"{TARGETS['filter_1000_ms']:g}; portfolio loaded and scored in {load_s:.1f} s)")
    print(f"  baseline mask + sort only:      {mask:7.1f} ms  → filter / mask = {filtered / mask:.1f}×")
    missed = [name for name, value in (("whatif_ms", whatif), ("filter_1000_ms", filtered))
              if value > TARGETS[name]]
    if missed:
        print(f"MISSED: {', '.join(missed)}")
    print(f"whatif_ms={whatif:.1f} filter_1000_ms={filtered:.1f}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
