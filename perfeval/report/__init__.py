"""Per-project evaluation report: a papermill-run notebook exported to HTML, PDF and Word.

    from perfeval.report import build_report
    paths = build_report("data/reference/csv/AKT2022-001.csv", "reports")
    # {"ipynb": …/AKT2022-001.ipynb, "html": …, "pdf": …, "docx": …}

Modules: `view` (kernel side: shows each report part), `notebook` (papermill run, reading the
report back from outputs), `html` (escaped fragments, nbconvert export), `pdf` (WeasyPrint),
`docx` (python-docx), `build` (the whole pipeline, atomic writes), `command` (CLI).
"""

from perfeval.report.build import FORMATS, build_report, parse_formats

__all__ = ["FORMATS", "build_report", "parse_formats"]
