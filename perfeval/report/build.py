"""One project → executed notebook + HTML / PDF / Word, all written atomically.

Order matters: validate and evaluate first (a bad sheet raises `SheetError` before anything is
written), run the notebook, render every format in memory, and only then write each file to a
temporary name in the output folder and `os.replace` it into place.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from perfeval.errors import PerfevalError

FORMATS = ("html", "pdf", "docx")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """('html', 'pdf') from 'html,pdf' or a list; unknown names raise a Chinese error."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = [f.strip().lower().lstrip(".") for f in items if f and f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise PerfevalError(f"未知的导出格式「{'、'.join(unknown) or '（空）'}」，可选：{'、'.join(FORMATS)}")
    return tuple(dict.fromkeys(wanted))


def file_stem(project_id: str) -> str:
    """A file name from a 项目编号 (characters Windows forbids become '_')."""
    stem = _UNSAFE.sub("_", str(project_id)).strip(" .")
    return stem or "report"


def temp_path(path: Path) -> Path:
    """A fresh hidden name beside `path` with the same suffix (`.AKT-001.3f9a….html`)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(6)}{path.suffix}")


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    tmp = temp_path(path)
    try:
        with open(tmp, "xb") as handle:  # mode from the umask, like any new file
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _prepare(doc_text: str, wanted: tuple[str, ...]) -> str:
    """Work that does not need the executed notebook, done while the kernel runs: the font
    subset, and loading the exporters (nbconvert templates, WeasyPrint) so they start warm."""
    from perfeval.fonts import font_face_css
    from perfeval.report.html import warm_up as warm_html

    css = font_face_css(doc_text)
    warm_html()
    if "pdf" in wanted:
        from perfeval.report.pdf import warm_up as warm_pdf

        warm_pdf()
    if "docx" in wanted:
        import docx  # noqa: F401
    return css


def build_report(workbook: str | Path, out_dir: str | Path, formats: str | Iterable[str] = FORMATS,
                 scheme: str | Path | None = None, project_id: str | None = None,
                 extra_parameters: Mapping | None = None, timeout: float | None = None,
                 kernel_name: str | None = None, *, notebook: Path | None = None
                 ) -> dict[str, Path]:
    """Run the report notebook for one project and export it.

    Returns {"ipynb": executed notebook, "html"/"pdf"/"docx": export} with file stems equal to
    the 项目编号. `extra_parameters` are further notebook parameters (e.g. {"options": {...}},
    {"generated_at": "2024-01-01 00:00:00+08:00"}); `timeout` limits each notebook cell (s).
    Raises `SheetError` (nothing written) for an invalid sheet, `PerfevalError` otherwise.
    """
    from perfeval.evaluate import evaluate
    from perfeval.fonts import covers, font_face_css
    from perfeval.narrative import compose
    from perfeval.report import notebook as nbrun
    from perfeval.report.docx import render_docx
    from perfeval.report.html import export_html
    from perfeval.report.pdf import render_pdf
    from perfeval.validate import load_project

    wanted = parse_formats(formats)
    workbook = Path(workbook).expanduser().resolve()
    extra = dict(extra_parameters or {})
    project = load_project(workbook, scheme, project_id)  # SheetError before any write
    evaluation = evaluate(project, scheme, extra.get("options") or None)
    generated_at = str(extra.get("generated_at") or
                       datetime.now().astimezone().isoformat(sep=" ", timespec="seconds"))
    doc_text = compose(evaluation, generated_at).text()

    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(project.id)
    parameters = {**extra, "workbook": str(workbook), "scheme": None if scheme is None else str(scheme),
                  "project_id": project_id, "generated_at": generated_at, "out_dir": str(out),
                  "formats": list(wanted), "export": False}
    final = out / f"{stem}.ipynb"
    executed = temp_path(final)
    needs_page = "html" in wanted or "pdf" in wanted
    with ThreadPoolExecutor(max_workers=1) as pool:
        # subset the font while the kernel runs (fontTools releases little, the kernel is another
        # process, so the two overlap on a 2-core machine)
        font_css = pool.submit(_prepare, doc_text, wanted) if needs_page else None
        try:
            nb = nbrun.execute(parameters, executed, notebook=notebook, timeout=timeout,
                               kernel_name=kernel_name)
        except nbrun.NotebookFailed as exc:
            if executed.exists():  # papermill saved the failed run with its error banner
                kept = out / f"{stem}.failed.ipynb"
                os.replace(executed, kept)
                raise nbrun.NotebookFailed(f"{exc}（执行记录：{kept}）") from None
            raise
        except BaseException:
            executed.unlink(missing_ok=True)
            raise
        try:
            rendered: dict[str, bytes] = {}
            report, images = nbrun.read_report(nb)
            if needs_page:
                css = font_css.result()  # type: ignore[union-attr]
                page = export_html(nb, report.title, css)
                if not covers(doc_text, page):  # the kernel wrote text the parent did not foresee
                    css = font_face_css(doc_text + page)
                    page = export_html(nb, report.title, css)
                if "html" in wanted:
                    rendered["html"] = page.encode("utf-8")
                if "pdf" in wanted:
                    rendered["pdf"] = render_pdf(page)
            if "docx" in wanted:
                rendered["docx"] = render_docx(report, images)
        except BaseException:
            executed.unlink(missing_ok=True)
            raise
    paths = {fmt: write_atomic(out / f"{stem}.{fmt}", rendered[fmt]) for fmt in wanted}
    os.replace(executed, final)
    return {"ipynb": final, **paths}
