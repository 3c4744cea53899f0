"""The bounded xlsx pre-scan (`perfeval.sheets.xlsx_guard.scan_xlsx`) next to the calamine read it guards, in the
same run: a portfolio workbook of 5,000 projects (100,000 indicator rows + a 5,000-row 项目信息) and 1,000
single-project workbooks (2 sheets, ~20 rows each).

    python3 benchmarks/bench_xlsx_guard.py [--data DIR] [--projects 5000] [--singles 1000] [--runs 3]

The workbooks are written once into a temporary folder with the writers of bench_scoring.py (not timed); with
--data DIR, DIR/portfolio/*.xlsx (the first file) and DIR/singles/*.xlsx are used (and written there when
missing). The calamine read is `CalamineWorkbook.from_path` + `get_sheet_by_name(name).to_python(
skip_empty_area=False)` for every sheet, as sheets/read.py does. Best of --runs. `book_passes_s` is the same
scan with the multi-pass sheet scan (`_scan_sheet_in_passes`, the definition the single pass decides like).

Targets (issue 10, helper brief): the scan ≤ 25 % of the calamine read on the portfolio; ≤ 0.5 ms per small
workbook.

Last line: book_scan_s= book_read_s= ratio= small_scan_ms= (then book_passes_s= small_read_ms= cpu_ratio=
small_scan_cpu_ms=)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scoring import write_portfolio, write_singles  # noqa: E402

import perfeval.sheets.xlsx_guard as guard  # noqa: E402

CPU: dict[int, float] = {}  # id(work) -> its best CPU seconds


def best(work: Callable[[], object], runs: int) -> float:
    """Best wall seconds of `runs` runs (the best CPU seconds go to CPU[id(work)]: on a shared machine wall
    time measures the neighbours too)."""
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[id(work)] = min(cpu)
    return min(times)


def calamine_read(path: Path) -> None:
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def prepare(folder: Path, projects: int, singles: int) -> tuple[Path, list[Path]]:
    portfolio, single_dir = folder / "portfolio", folder / "singles"
    if not any(portfolio.glob("*.xlsx")):
        portfolio.mkdir(parents=True, exist_ok=True)
        write_portfolio(str(portfolio / "组合00.xlsx"), 0, projects)
    if not any(single_dir.glob("*.xlsx")):
        single_dir.mkdir(parents=True, exist_ok=True)
        write_singles(str(single_dir), 0, singles)
    return sorted(portfolio.glob("*.xlsx"))[0], sorted(single_dir.glob("*.xlsx"))[:singles]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with portfolio/ and singles/ (written when missing)")
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        book, singles = prepare(args.data or Path(tmp), args.projects, args.singles)
        print(f"portfolio {book.name}: {book.stat().st_size / 1e6:.1f} MB; {len(singles)} single workbooks")
        scan, read = (lambda: guard.scan_xlsx(book)), (lambda: calamine_read(book))
        scan_s, read_s = best(scan, args.runs), best(read, args.runs)
        scan_cpu, read_cpu = CPU[id(scan)], CPU[id(read)]
        single_pass = guard._scan_sheet
        guard._scan_sheet = guard._scan_sheet_in_passes
        try:
            passes_s = best(lambda: guard.scan_xlsx(book), args.runs)
        finally:
            guard._scan_sheet = single_pass
        small = lambda: [guard.scan_xlsx(p) for p in singles]  # noqa: E731
        small_scan = best(small, args.runs) / len(singles)
        small_cpu = CPU[id(small)] / len(singles)
        small_read = best(lambda: [calamine_read(p) for p in singles], args.runs) / len(singles)
    ratio = scan_s / read_s
    print(f"portfolio: scan {scan_s:.3f} s (multi-pass {passes_s:.3f} s), calamine read {read_s:.3f} s, "
          f"ratio {ratio:.3f} (target ≤ 0.25: {'met' if ratio <= 0.25 else 'MISSED'}); CPU seconds: scan "
          f"{scan_cpu:.3f}, read {read_cpu:.3f}, ratio {scan_cpu / read_cpu:.3f}")
    print(f"small workbooks: scan {small_scan * 1e3:.3f} ms, calamine read {small_read * 1e3:.3f} ms "
          f"(target ≤ 0.5 ms: {'met' if small_scan <= 0.0005 else 'MISSED'}); CPU {small_cpu * 1e3:.3f} ms")
    print(f"book_scan_s={scan_s:.3f} book_read_s={read_s:.3f} ratio={ratio:.3f} small_scan_ms={small_scan * 1e3:.3f} "
          f"book_passes_s={passes_s:.3f} small_read_ms={small_read * 1e3:.3f} cpu_ratio={scan_cpu / read_cpu:.3f} "
          f"small_scan_cpu_ms={small_cpu * 1e3:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
