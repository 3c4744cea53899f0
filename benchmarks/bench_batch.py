"""Benchmark: `perfeval batch` against the naive per-project loop, and a 10,000-project scoring run.

    python3 benchmarks/bench_batch.py [--projects 40] [--scoring 10000] [--workers N]

Measures, in the same run and on the same synthetic inputs (`perfeval synth`, no broken sheets):
  * batch_s   — `perfeval batch IN --out OUT --format html` (the CLI, start-up included);
  * naive_s   — baseline: for each project, the `papermill` CLI on notebooks/evaluation.ipynb,
    then the `jupyter nbconvert --to html --no-input` CLI on the executed notebook;
  * speedup_vs_naive = naive_s / batch_s (target >= 3);
  * scoring_only_10k_s — `perfeval batch IN --out OUT --format none` over 10,000 projects held
    in 20 portfolio workbooks of 500 (target <= 30 s), and peak_rss_mb, the largest resident
    memory of that command's whole process tree, sampled every 50 ms (target <= 2048).
Exit code 1 when a target is missed. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "evaluation.ipynb"
GENERATED_AT = "2024-01-01 00:00:00+08:00"
TARGETS = {"speedup_vs_naive": 3.0, "scoring_only_10k_s": 30.0, "peak_rss_mb": 2048.0}


def _bin(name: str) -> str:
    found = shutil.which(name, path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if not found:
        raise SystemExit(f"{name} not found")
    return found


def run_timed(command: list[str], **kw) -> tuple[float, float, int]:
    """(seconds, peak RSS of the process tree in MB, exit code)."""
    import psutil

    peak = 0.0
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                total = 0
                for p in tree:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                peak = max(peak, total / 2**20)
            except psutil.Error:
                pass
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return elapsed, peak, proc.returncode


def bench_reports(work: Path, n: int, workers: int | None) -> tuple[float, float]:
    from perfeval import synth

    inputs = work / "inputs"
    files = synth.write_portfolio(inputs, n, seed=2024, broken_share=0.0)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1704038400"}
    command = [sys.executable, "-m", "perfeval.cli", "batch", str(inputs), "--out", str(work / "batch"),
               "--format", "html"]
    if workers:
        command += ["--workers", str(workers)]
    batch_s, _, code = run_timed(command, env=env)
    if code != 0:
        raise SystemExit(f"perfeval batch failed (exit {code})")
    print(f"batch: {n} projects in {batch_s:.1f} s", flush=True)

    naive = work / "naive"
    naive.mkdir()
    papermill, jupyter = _bin("papermill"), _bin("jupyter")
    start = time.perf_counter()
    for f in files:
        executed = naive / f"{f.stem}.ipynb"
        subprocess.run([papermill, str(NOTEBOOK), str(executed), "-p", "workbook", str(f),
                        "-p", "generated_at", GENERATED_AT, "--no-progress-bar"],
                       check=True, capture_output=True, cwd=naive)
        subprocess.run([jupyter, "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, capture_output=True, cwd=naive)
    naive_s = time.perf_counter() - start
    print(f"naive: {n} projects in {naive_s:.1f} s", flush=True)
    return batch_s, naive_s


def bench_scoring(work: Path, n: int, per_book: int = 500) -> tuple[float, float]:
    from perfeval import synth

    inputs = work / "scoring"
    books = max(1, n // per_book)
    start = time.perf_counter()
    projects = synth.generate(n, seed=10_000, broken_share=0.0)
    for i in range(books):
        synth.write_portfolio_workbook(projects[i * per_book:(i + 1) * per_book],
                                       inputs / f"组合-{i + 1:02d}.xlsx")
    print(f"scoring inputs: {n} projects in {books} workbooks ({time.perf_counter() - start:.0f} s to make)",
          flush=True)
    seconds, peak, code = run_timed([sys.executable, "-m", "perfeval.cli", "batch", str(inputs),
                                     "--out", str(work / "scored"), "--format", "none"])
    if code != 0:
        raise SystemExit(f"perfeval batch --format none failed (exit {code})")
    print(f"scoring only: {n} projects in {seconds:.1f} s, peak RSS {peak:.0f} MB", flush=True)
    return seconds, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--scoring", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfeval-bench-batch-") as tmp:
        work = Path(tmp)
        batch_s, naive_s = bench_reports(work, args.projects, args.workers)
        scoring_s, peak = bench_scoring(work, args.scoring)
    figures = {"projects": args.projects, "batch_s": round(batch_s, 1), "naive_s": round(naive_s, 1),
               "speedup_vs_naive": round(naive_s / batch_s, 2),
               "scoring_only_10k_s": round(scoring_s, 1), "peak_rss_mb": round(peak)}
    missed = [k for k, target in TARGETS.items()
              if (figures[k] < target if k == "speedup_vs_naive" else figures[k] > target)]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
