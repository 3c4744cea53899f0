"""`evaluate_frames` alone on N projects of 20 indicators (variants of the bundled reference project), next to
the naive per-project `perfeval.evaluate` loop in the same run.

    python3 benchmarks/bench_evaluate.py [--projects 50000] [--baseline 300] [--repeat 3]

Each project is its own frame, as a loader makes them: the reference project with its id, one indicator's actual
value (90%…100%) and its 执行数 varied, as in bench_scoring.py. evaluate_s is the best of `--repeat` runs, each on new
Project objects (so each infers the rules afresh, as a first evaluation does); the CPU time of each run is shown too
(a steadier measure on a shared machine). The
baseline loop runs on `--baseline` projects and is scaled to N (it is linear in the number of projects).

Last line: rows= evaluate_s= baseline_s= speedup=
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import perfeval
from perfeval.model import Project
from perfeval.scoring.evaluate import evaluate_frames

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def projects(n: int) -> list[Project]:
    """n variants of the reference project, each with frames of its own."""
    base = perfeval.load_project(REFERENCE, field_data=False)
    varied = next(i for i, t in enumerate(base.indicators["target"]) if any(ch.isdigit() for ch in str(t)))
    out = []
    for i in range(n):
        indicators = base.indicators.copy()
        indicators.loc[indicators.index[varied], "actual"] = f"{90 + i % 11}%"
        out.append(base.replace(id=f"B{i:06d}", name=f"项目{i}", spent=round(base.spent - (i % 7) * 0.5, 2),
                                indicators=indicators, stated=base.stated.copy()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ps = projects(args.projects)
    rows = sum(len(p.indicators) for p in ps)
    times, cpu = [], []
    for _ in range(args.repeat):
        fresh = [p.replace() for p in ps]  # new Project objects: each run infers the rules (`Project.rules`) afresh
        start, start_cpu = time.perf_counter(), time.process_time()
        frames = evaluate_frames(fresh)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        del frames, fresh
    sample = ps[: min(args.baseline, len(ps))]
    start = time.perf_counter()
    for p in sample:
        perfeval.evaluate(p)
    baseline = (time.perf_counter() - start) * len(ps) / len(sample)
    best = min(times)
    print(f"load average {os.getloadavg()[0]:.2f}; evaluate_frames runs {', '.join(f'{t:.2f}' for t in times)} s "
          f"(CPU {', '.join(f'{t:.2f}' for t in cpu)} s); "
          f"baseline: {len(sample)} × evaluate scaled to {len(ps)} projects")
    print(f"rows={rows} evaluate_s={best:.2f} baseline_s={baseline:.1f} speedup={baseline / best:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
