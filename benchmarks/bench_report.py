"""Benchmark: one project report in HTML + PDF + Word, against the naive notebook route.

    python3 benchmarks/bench_report.py [WORKBOOK] [--repeat N]

Measures, on the same input in the same run (median of N repeats):
  * html_pdf_docx_s — `perfeval report WORKBOOK --out DIR` as a fresh process, end to end
    (interpreter start, imports, validation, papermill run, all three exports, atomic writes);
  * build_warm_s    — `build_report` called again in a process that has already made one report
    (what a batch worker pays per project);
  * pdf_warm_s      — the PDF step alone (WeasyPrint on the exported HTML) once warm;
  * naive_html_s    — `papermill` CLI then `jupyter nbconvert --to html --no-input` CLI on the
    same notebook and input (HTML only);
  * chromium_pdf_cold_s / chromium_pdf_warm_s — the same HTML printed by headless Chromium
    (a fresh `chromium --print-to-pdf` process, and page.pdf() in a running browser via
    Playwright), when a Chromium is installed: the alternative PDF route.
Targets: html_pdf_docx_s <= 6, pdf_warm_s <= 1.5. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "csv" / "AKT2022-001.csv"
NOTEBOOK = ROOT / "notebooks" / "evaluation.ipynb"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cli_report(workbook: Path, out: Path) -> float:
    return _timed(lambda: _run([sys.executable, "-m", "perfeval.cli", "report", str(workbook),
                                "--out", str(out)]))


def naive_html(workbook: Path, out: Path) -> float:
    executed = out / "naive.ipynb"

    def route() -> None:
        _run([sys.executable, "-m", "papermill", str(NOTEBOOK), str(executed),
              "-p", "workbook", str(workbook), "--no-progress-bar"])
        _run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--no-input",
              str(executed)])

    return _timed(route)


def import_cost(module: str) -> float:
    """Wall time of a fresh interpreter importing `module` (fixed cost of every CLI run)."""
    return _timed(lambda: _run([sys.executable, "-c", f"import {module}"]))


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking"]


def chromium_cold(binary: str, html: Path, out: Path) -> float:
    return _timed(lambda: _run([binary, *CHROMIUM_FLAGS, "--no-pdf-header-footer",
                                f"--print-to-pdf={out / 'chromium.pdf'}", html.as_uri()]))


def chromium_warm(binary: str, html: Path, repeat: int) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=binary, args=CHROMIUM_FLAGS[1:])
        page = browser.new_page()
        content = html.read_text("utf-8")

        def once() -> None:
            page.set_content(content, wait_until="load")
            page.pdf(format="A4", display_header_footer=True,
                     footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                                     '<span class="pageNumber"></span></div>')

        once()
        times = [_timed(once) for _ in range(repeat)]
        browser.close()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", default=str(REFERENCE))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    workbook = Path(args.workbook).resolve()

    from perfeval.report import build_report
    from perfeval.report.pdf import render_pdf

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        tmp_path = Path(tmp)
        full = [cli_report(workbook, tmp_path / f"cli{i}") for i in range(args.repeat)]
        naive = [naive_html(workbook, tmp_path) for _ in range(args.repeat)]

        bare = statistics.median(import_cost("sys") for _ in range(args.repeat))
        papermill_import = statistics.median(import_cost("papermill") for _ in range(args.repeat))
        print(f"fixed costs of a fresh process: interpreter {bare:.2f} s, "
              f"import papermill {papermill_import - bare:.2f} s", end="")
        try:
            import importlib.util

            if importlib.util.find_spec("rfc3987_syntax"):
                rfc = statistics.median(import_cost("rfc3987_syntax") for _ in range(args.repeat))
                print(f" (of which jsonschema's optional rfc3987_syntax {rfc - bare:.2f} s)", end="")
        finally:
            print()

        build_report(workbook, tmp_path / "warm0")  # this process is now warm
        warm = [_timed(lambda i=i: build_report(workbook, tmp_path / f"warm{i + 1}"))
                for i in range(args.repeat)]
        html_path = tmp_path / "warm1" / next((tmp_path / "warm1").glob("*.html")).name
        page = html_path.read_text("utf-8")
        render_pdf(page)
        pdf = [_timed(lambda: render_pdf(page)) for _ in range(args.repeat)]

        binary = chromium_binary()
        if binary:
            cold = [chromium_cold(binary, html_path, tmp_path) for _ in range(args.repeat)]
            warm_chromium = chromium_warm(binary, html_path, args.repeat)
            print(f"chromium_pdf_cold_s={statistics.median(cold):.2f} chromium_pdf_warm_s="
                  + (f"{warm_chromium:.2f}" if warm_chromium is not None else "n/a"))
        else:
            print("chromium: not installed (apt package chromium) — WeasyPrint only")

    med = {name: statistics.median(values) for name, values in
           (("full", full), ("naive", naive), ("warm", warm), ("pdf", pdf))}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"runs per figure: {args.repeat} (median); input: {workbook.name}; "
          f"load average {load} on {os.cpu_count()} cores")
    print(f"all formats (CLI, fresh process): {', '.join(f'{x:.2f}' for x in full)} s")
    print(f"all formats (warm process):       {', '.join(f'{x:.2f}' for x in warm)} s")
    print(f"naive papermill+nbconvert (HTML): {', '.join(f'{x:.2f}' for x in naive)} s")
    print(f"pdf step (warm):                  {', '.join(f'{x:.2f}' for x in pdf)} s")
    print(f"ratio all-formats / naive-html: {med['full'] / med['naive']:.2f}; targets: "
          f"all formats <= 6 s ({'met' if med['full'] <= 6 else 'NOT met'}), "
          f"pdf warm <= 1.5 s ({'met' if med['pdf'] <= 1.5 else 'NOT met'})")
    print(f"build_warm_s={med['warm']:.2f}")
    print(f"html_pdf_docx_s={med['full']:.2f} pdf_warm_s={med['pdf']:.2f} "
          f"naive_html_s={med['naive']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
