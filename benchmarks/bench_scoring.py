"""Scoring at the speed of reading: 1,000,000 indicator rows (50,000 projects of 20 indicators) in portfolio
workbooks, read + validated + scored + aggregated end to end, next to a bare calamine read of the same files in
the same run; `evaluate_frames` alone on those rows; and 10,000 separate single-project workbooks, scoring only.

    python3 benchmarks/bench_scoring.py [--projects 50000] [--workbooks 10] [--separate 10000] [--keep DIR]

The workbooks are variants of the bundled reference project (data/reference/AKT2022-001.xlsx: 项目信息 and 指标;
each project's actual value of one indicator and its spending vary), written once per run into a temporary folder
with xlsxwriter (constant_memory, two processes). Writing is not timed as part of anything.

Targets (issue 10): end_to_end ≤ 1.5 × read; evaluate_frames on 1,000,000 rows ≤ 3 s; 10,000 separate workbooks
≤ 30 s. The figures are printed as measured (the machine is shared: the ratio is measured in the same run).

Last line: rows= read_s= end_to_end_s= ratio_to_read= evaluate_1m_s= separate_10k_s= peak_rss_mb=
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

import perfeval
from perfeval.sheets.read import INDICATOR_LABELS
from perfeval.sheets.write import INFO_ORDER, _indicator_rows, cell_value

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
OPTIONS = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
           "constant_memory": True}


def _base() -> tuple[list[str], list[object], list[str], list[list[object]], int]:
    """The reference project's info header and values, indicator header and rows, and the row whose actual
    value each variant changes (the 预算执行率-like numeric row: the first with a numeric target)."""
    base = perfeval.load_project(REFERENCE, field_data=False)
    info_header = [label for label, _ in INFO_ORDER]
    info_values = [cell_value(getattr(base, attr)) for _, attr in INFO_ORDER]
    order = ("level1", "level2", "level3", "name", "weight", "target", "actual", "method", "deduction",
             "deduction_reason", "stated_score", "reason", "measure")
    header = ["项目编号", *(INDICATOR_LABELS[c] for c in order)]
    rows = [[cell_value(v) for v in row] for row in _indicator_rows(base.indicators, order)]
    varied = next(i for i, t in enumerate(base.indicators["target"]) if any(ch.isdigit() for ch in str(t)))
    return info_header, info_values, header, rows, varied


def _variant(i: int, info_values: list[object], rows: list[list[object]], varied: int
             ) -> tuple[list[object], list[list[object]]]:
    info = list(info_values)
    info[0], info[1] = f"B{i:06d}", f"项目{i}"
    info[8] = round(float(info[8]) - (i % 7) * 0.5, 2)  # 执行数
    out = [list(r) for r in rows]
    out[varied][6] = f"{90 + i % 11}%"
    return info, out


def write_portfolio(path: str, first: int, count: int) -> str:
    """Projects first … first+count-1 into one portfolio workbook (项目信息 table + 指标 keyed by 项目编号)."""
    info_header, info_values, header, rows, varied = _base()
    book = xlsxwriter.Workbook(path, OPTIONS)
    info_sheet, ind_sheet = book.add_worksheet("项目信息"), book.add_worksheet("指标")
    info_sheet.write_row(0, 0, info_header)
    ind_sheet.write_row(0, 0, header)
    r = 1
    for k in range(count):
        info, body = _variant(first + k, info_values, rows, varied)
        info_sheet.write_row(k + 1, 0, info)
        for row in body:
            ind_sheet.write_row(r, 0, [info[0], *row])
            r += 1
    book.close()
    return path


def write_singles(folder: str, first: int, count: int) -> int:
    """Single-project workbooks (项目信息 as 字段 | 值 pairs, 指标 without 项目编号)."""
    info_header, info_values, header, rows, varied = _base()
    for k in range(count):
        info, body = _variant(first + k, info_values, rows, varied)
        book = xlsxwriter.Workbook(os.path.join(folder, f"{info[0]}.xlsx"), OPTIONS)
        sheet = book.add_worksheet("项目信息")
        sheet.write_row(0, 0, ["字段", "值"])
        for j, (key, value) in enumerate(zip(info_header, info, strict=True), start=1):
            sheet.write_row(j, 0, [key, value])
        sheet = book.add_worksheet("指标")
        sheet.write_row(0, 0, header[1:])
        for j, row in enumerate(body, start=1):
            sheet.write_row(j, 0, row)
        book.close()
    return count


def bare_read(files: list[Path]) -> int:
    """Every cell of every sheet read with calamine into Python lists: the floor."""
    rows = 0
    for file in files:
        book = CalamineWorkbook.from_path(str(file))
        for name in book.sheet_names:
            rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
    return rows


def end_to_end(files: list[Path]) -> tuple[int, float, dict]:
    """Read + validate + score + aggregate: what `perfeval batch` does before it writes anything."""
    projects = perfeval.load_projects(files)
    t0 = time.perf_counter()
    frames = perfeval.evaluate_frames(projects)
    evaluate_s = time.perf_counter() - t0
    head = frames.projects
    summary = {"grades": head["grade"].value_counts().to_dict(), "mean_total": float(head["total"].mean()),
               "findings": len(frames.findings)}
    return len(frames.indicators), evaluate_s, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--workbooks", type=int, default=10)
    parser.add_argument("--separate", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write (or reuse) the workbooks here instead of a temp folder")
    args = parser.parse_args()
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="bench_scoring_"))
    portfolio, singles = tmp / "portfolio", tmp / "singles"
    try:
        t0 = time.perf_counter()
        per = -(-args.projects // args.workbooks)
        jobs = [(str(portfolio / f"组合{w:02d}.xlsx"), w * per, min(per, args.projects - w * per))
                for w in range(args.workbooks) if args.projects - w * per > 0]
        chunk = -(-args.separate // 20)
        single_jobs = [(str(singles), s, min(chunk, args.separate - s)) for s in range(0, args.separate, chunk)]
        fresh = not (portfolio.is_dir() and singles.is_dir())
        if fresh:
            portfolio.mkdir(parents=True, exist_ok=True)
            singles.mkdir(parents=True, exist_ok=True)
            with ProcessPoolExecutor(2) as pool:
                done = [pool.submit(write_portfolio, *job) for job in jobs]
                done += [pool.submit(write_singles, *job) for job in single_jobs]
                for future in done:
                    future.result()
        write_s = time.perf_counter() - t0
        files = sorted(portfolio.glob("*.xlsx"))
        print(f"workbooks: {len(files)} portfolio workbooks ({args.projects} projects), {args.separate} separate; "
              f"written in {write_s:.1f} s{'' if fresh else ' (reused)'} (not timed below)")

        t0 = time.perf_counter()
        read_rows = bare_read(files)
        read_s = time.perf_counter() - t0
        print(f"bare calamine read: {read_rows} sheet rows in {read_s:.1f} s")

        t0 = time.perf_counter()
        rows, evaluate_s, summary = end_to_end(files)
        end_s = time.perf_counter() - t0
        print(f"end to end (read + validate + score + aggregate): {rows} indicator rows in {end_s:.1f} s "
              f"(of which evaluate_frames {evaluate_s:.1f} s); {summary}")

        t0 = time.perf_counter()
        single_rows, _, _ = end_to_end([singles])
        separate_s = time.perf_counter() - t0
        print(f"{args.separate} separate workbooks, scoring only: {single_rows} indicator rows in {separate_s:.1f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows={rows} read_s={read_s:.1f} end_to_end_s={end_s:.1f} ratio_to_read={end_s / read_s:.2f} "
          f"evaluate_1m_s={evaluate_s:.1f} separate_10k_s={separate_s:.1f} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
