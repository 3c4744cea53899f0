"""One project → executed notebook + HTML / PDF / Word, all written atomically.

Order matters: validate and evaluate first (a bad sheet raises `SheetError` before anything is
written), run the notebook, render every format in memory, and only then write each file to a
temporary name in the output folder and `os.replace` it into place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from perfeval.atomic import temp_beside, write_bytes_atomic
from perfeval.errors import PerfevalError

FORMATS = ("html", "pdf", "docx")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
#: device names Windows reserves in every folder, whatever the case and extension (CON, con.txt, LPT1 …)
_RESERVED = re.compile(r"^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])\s*(\..*)?$", re.IGNORECASE)


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """('html', 'pdf') from 'html,pdf' or a list; unknown names raise a Chinese error."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = [f.strip().lower().lstrip(".") for f in items if f and f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise PerfevalError(f"未知的导出格式「{'、'.join(unknown) or '（空）'}」，可选：{'、'.join(FORMATS)}")
    return tuple(dict.fromkeys(wanted))


def file_stem(project_id: str) -> str:
    """A file name from a 项目编号: characters Windows forbids (and control characters) become '_',
    leading/trailing dots and spaces go, a reserved device name (CON, aux.txt, LPT1 …) gets a '_'
    prefix, and an empty result is 'report'. Not injective: a batch names folders with
    `perfeval.batch.manifest.folder_names`, which is."""
    stem = _UNSAFE.sub("_", str(project_id)).strip(" .")
    if _RESERVED.match(stem):
        stem = "_" + stem
    return stem or "report"


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


def report_time() -> str:
    """Now (or SOURCE_DATE_EPOCH, the reproducible-builds convention, so reports can be byte-identical)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = (datetime.fromtimestamp(int(epoch), tz=UTC) if epoch.isdigit() else datetime.now()).astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


def build_report(workbook: str | Path, out_dir: str | Path, formats: str | Iterable[str] = FORMATS,
                 scheme: str | Path | None = None, project_id: str | None = None,
                 extra_parameters: Mapping | None = None, timeout: float | None = None,
                 kernel_name: str | None = None, *, notebook: Path | None = None,
                 docx_template: str | Path | None = None) -> dict[str, Path]:
    """Run the report notebook for one project and export it.

    Returns {"ipynb": executed notebook, "html"/"pdf"/"docx": export} with file stems equal to
    the 项目编号. `extra_parameters` are further notebook parameters (e.g. {"options": {...}},
    {"generated_at": "2024-01-01 00:00:00+08:00"}); `timeout` limits each notebook cell (s).
    `docx_template` is a firm's Word template (.docx/.dotx) for the Word export; it may also come
    as `extra_parameters["docx_template"]` (how a batch passes it), and is not a notebook parameter.
    Raises `SheetError` (nothing written, no kernel started) for an invalid sheet,
    `PerfevalError` otherwise.
    """
    from perfeval.evaluate import evaluate
    from perfeval.narrative import compose
    from perfeval.report import notebook as nbrun
    from perfeval.report.docx_template import read_template
    from perfeval.scheme import load_scheme
    from perfeval.validate import load_project

    wanted = parse_formats(formats)
    source = notebook or nbrun.notebook_path()
    extra = dict(extra_parameters or {})
    template = docx_template if docx_template is not None else extra.pop("docx_template", None)
    extra.pop("docx_template", None)
    # the template is read and checked first: a bad one stops the run before anything starts
    template_bytes = read_template(template) if template and "docx" in wanted else None
    workbook = Path(workbook).expanduser().resolve()
    # a scheme file is read once here; the kernel gets what loads it again from any folder
    # (a built-in id or the file's absolute path), whatever the file's `id`
    chosen = load_scheme(scheme) if scheme is not None and str(scheme).strip() else None
    project = load_project(workbook, chosen, project_id)  # SheetError before any write
    evaluation = evaluate(project, chosen, extra.get("options") or None)
    generated_at = str(extra.get("generated_at") or report_time())
    out = Path(out_dir).expanduser().resolve()
    parameters = {**extra, "workbook": str(workbook), "scheme": None if chosen is None else chosen.spec,
                  "project_id": project_id, "generated_at": generated_at, "out_dir": str(out),
                  "formats": list(wanted), "export": False}
    # the kernel boots (another process) while this one imports papermill
    with nbrun.Kernel(kernel_name or nbrun.kernel_name_of(source)) as kernel:
        import papermill  # noqa: F401  (on the critical path: load it before anything else)

        out.mkdir(parents=True, exist_ok=True)
        final = out / f"{file_stem(project.id)}.ipynb"
        executed = temp_beside(final)
        doc_text = compose(evaluation, generated_at).text()
        with ThreadPoolExecutor(max_workers=1) as pool:
            # font subset and exporter warm-up run here while the kernel executes the cells
            prepared = pool.submit(_prepare, doc_text, wanted) if {"html", "pdf"} & set(wanted) \
                else None
            nb = _execute(parameters, executed, final, source, timeout, kernel)
            try:
                rendered = _render(nb, wanted, doc_text, prepared, template_bytes, template)
            except BaseException:
                executed.unlink(missing_ok=True)
                raise
    paths = {fmt: write_bytes_atomic(final.with_suffix(f".{fmt}"), rendered[fmt]) for fmt in wanted}
    os.replace(executed, final)
    return {"ipynb": final, **paths}


def _execute(parameters: dict, executed: Path, final: Path, notebook: Path, timeout: float | None,
             kernel):
    from perfeval.report import notebook as nbrun

    try:
        return nbrun.execute(parameters, executed, notebook=notebook, timeout=timeout,
                             kernel=kernel)
    except nbrun.NotebookFailed as exc:
        if executed.exists():  # papermill saved the failed run with its error banner
            kept = final.with_suffix(".failed.ipynb")
            os.replace(executed, kept)
            raise nbrun.NotebookFailed(f"{exc}（执行记录：{kept}）") from None
        raise
    except BaseException:
        executed.unlink(missing_ok=True)
        raise


def _render(nb, wanted: tuple[str, ...], doc_text: str, prepared, template: bytes | None = None,
            template_name: str | Path | None = None) -> dict[str, bytes]:
    """Every requested format as bytes, from the executed notebook."""
    from perfeval.fonts import covers, font_face_css
    from perfeval.report.docx import render_docx
    from perfeval.report.html import export_html
    from perfeval.report.notebook import read_report
    from perfeval.report.pdf import render_pdf

    rendered: dict[str, bytes] = {}
    report, images = read_report(nb)
    if prepared is not None:
        css = prepared.result()
        page = export_html(nb, report.title, css)
        if not covers(doc_text, page):  # the kernel wrote text this process did not foresee
            page = export_html(nb, report.title, font_face_css(doc_text + page))
        if "html" in wanted:
            rendered["html"] = page.encode("utf-8")
        if "pdf" in wanted:
            rendered["pdf"] = render_pdf(page)
    if "docx" in wanted:
        rendered["docx"] = render_docx(report, images, template, str(template_name or "模板"))
    return rendered
