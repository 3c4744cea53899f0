"""Per-project evaluation report: a papermill-run notebook exported to HTML, PDF and Word.

    from perfeval.report import build_report
    paths = build_report("data/reference/csv/AKT2022-001.csv", "reports")
    # {"ipynb": …/AKT2022-001.ipynb, "project": …/AKT2022-001.project.json, "html": …, "pdf": …, "docx": …}

    from perfeval.report.build import build          # the core: from an Evaluation, no sheet read again
    paths = build(evaluation, ("html", "pdf"), "reports")

Modules: `view` (kernel side: shows each report part), `notebook` (papermill run, reading the
report back from outputs; a kernel that can be reused), `snapshot` (the validated project as JSON, which the
notebook shows), `html` (escaped fragments, nbconvert export), `pdf` (WeasyPrint), `docx` (python-docx),
`build` (the whole pipeline, atomic writes: `build(evaluation, …)`, `build_project`, `build_report(path, …)`),
`command` (CLI).
"""

from perfeval.report.build import FORMATS, build_report, parse_formats

__all__ = ["FORMATS", "build_report", "parse_formats"]
