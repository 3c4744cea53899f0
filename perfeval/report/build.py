"""One project → executed notebook + HTML / PDF / Word, all written atomically.

Order matters: validate and evaluate first (a bad sheet raises `SheetError` before anything is
written), run the notebook, render every format in memory, and only then write each file to a
temporary name in the output folder and `os.replace` it into place.
"""

from __future__ import annotations

import contextlib
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


def warm_exporters(wanted: Iterable[str]) -> None:
    """Work that does not need the executed notebook, done while the kernel runs (or, in a batch's job
    process, before its first job): loading the exporters of the formats `wanted` (nbconvert templates,
    WeasyPrint, python-docx) so they start warm. A no-op once warm."""
    wanted = tuple(wanted)
    from perfeval.report.html import warm_up as warm_html

    if {"html", "pdf"} & set(wanted):
        warm_html()
    if "pdf" in wanted:
        from perfeval.report.pdf import warm_up as warm_pdf

        warm_pdf()
    if "docx" in wanted:
        import docx  # noqa: F401


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
    """Read, validate and evaluate one project from its sheet, then `build` its report.

    Returns {"ipynb": executed notebook, "project": the project snapshot it showed,
    "html"/"pdf"/"docx": export} with file stems equal to the 项目编号. `extra_parameters` may hold
    {"options": {...}} (scoring options), {"generated_at": "2024-01-01 00:00:00+08:00"} and
    {"docx_template": path}; `timeout` limits each notebook cell (s). Raises `SheetError` (nothing
    written, no kernel started) for an invalid sheet, `PerfevalError` otherwise.
    """
    from perfeval.report.docx_template import read_template

    wanted = parse_formats(formats)
    extra = dict(extra_parameters or {})
    template = docx_template if docx_template is not None else extra.pop("docx_template", None)
    extra.pop("docx_template", None)
    # the template is read and checked first: a bad one stops the run before anything starts
    template_bytes = read_template(template) if template and "docx" in wanted else None
    evaluation = evaluate_sheet(workbook, scheme, project_id, extra.pop("options", None))  # SheetError before any write
    return build(evaluation, wanted, out_dir, generated_at=extra.pop("generated_at", None),
                 timeout=timeout, kernel=kernel_name, notebook=notebook,
                 docx_template=(template_bytes, str(template)) if template_bytes else None,
                 extra_parameters=extra)


def evaluate_sheet(workbook: str | Path, scheme: str | Path | None = None, project_id: str | None = None,
                   options: Mapping | None = None, *, strict: bool = False):
    """Read, validate and evaluate the one project of `workbook` (or `project_id` of a portfolio): the
    only read of the sheet a report makes. Raises `SheetError` (with `strict`, auditable problems too)."""
    from perfeval.scheme import load_scheme
    from perfeval.scoring.evaluate import evaluate
    from perfeval.sheets.load import load_project

    chosen = load_scheme(scheme) if scheme is not None and str(scheme).strip() else None
    project = load_project(Path(workbook).expanduser().resolve(), chosen, project_id, strict=strict)
    return evaluate(project, chosen, options or None)


def changed_options(evaluation) -> dict:
    """The scoring options of `evaluation` that differ from its scheme's defaults (what re-evaluating
    the project with the same scheme needs to reach the same options)."""
    from dataclasses import fields

    ours, theirs = evaluation.options, evaluation.scheme.options
    return {f.name: getattr(ours, f.name) for f in fields(ours) if getattr(ours, f.name) != getattr(theirs, f.name)}


def build(evaluation, formats: str | Iterable[str], out_dir: str | Path, *, generated_at: str | None = None,
          timeout: float | None = None, kernel=None, notebook: Path | None = None,
          docx_template: tuple[bytes, str] | None = None, extra_parameters: Mapping | None = None
          ) -> dict[str, Path]:
    """One evaluated project → executed notebook + every format in `formats`, written atomically.

    The project is written once as a snapshot (`perfeval.report.snapshot`, ``<项目编号>.project.json``)
    beside the executed notebook; the notebook receives its file name and SHA-256 and shows exactly that
    project with the evaluation's scheme and options, without reading its sheet (or a whole portfolio
    workbook) again. `kernel` is a running `perfeval.report.notebook.Kernel` (a warm one a batch worker
    keeps; it is reset first) or a kernel name (a kernel is started and stopped for this report).
    `docx_template` is (bytes, name) of a Word template already read. `extra_parameters` are further
    notebook parameters. Returns {"ipynb", "project", and each format: path}.
    """
    return build_project(evaluation.project, formats, out_dir, scheme=evaluation.scheme.spec,
                         options=changed_options(evaluation), generated_at=generated_at, timeout=timeout,
                         kernel=kernel, notebook=notebook, docx_template=docx_template,
                         extra_parameters=extra_parameters)


def build_project(project, formats: str | Iterable[str], out_dir: str | Path, *, scheme: str | None = None,
                  options: Mapping | None = None, generated_at: str | None = None, timeout: float | None = None,
                  kernel=None, notebook: Path | None = None, docx_template: tuple[bytes, str] | None = None,
                  extra_parameters: Mapping | None = None) -> dict[str, Path]:
    """`build` for a validated project that this process has not scored: the notebook kernel scores it
    (with `scheme`, a spec every process can load, and `options`), and every export is read from the
    executed notebook. A batch job uses this: its project was read and scored by the batch's scan."""
    from perfeval.report import notebook as nbrun
    from perfeval.report import snapshot

    wanted = parse_formats(formats)
    source = notebook or nbrun.notebook_path()
    generated_at = str(generated_at or report_time())
    out = Path(out_dir).expanduser().resolve()
    stem = file_stem(project.id)
    frozen = snapshot.dumps(project)
    parameters = {**dict(extra_parameters or {}),
                  "workbook": None if project.source is None else str(project.source),
                  "scheme": scheme, "project_id": project.id, "options": dict(options or {}),
                  "generated_at": generated_at, "project_file": f"{stem}{snapshot.SUFFIX}",
                  "project_sha256": snapshot.digest(frozen)}
    template_bytes, template_name = docx_template or (None, None)
    own = kernel is None or isinstance(kernel, str)
    running = nbrun.Kernel(kernel or nbrun.kernel_name_of(source)) if own else kernel
    # a kernel of our own boots (another process) while this one imports papermill
    with running if own else contextlib.nullcontext(running) as active:
        import papermill  # noqa: F401  (on the critical path: load it before anything else)

        out.mkdir(parents=True, exist_ok=True)
        final = out / f"{stem}.ipynb"
        frozen_path = write_bytes_atomic(out / f"{stem}{snapshot.SUFFIX}", frozen)
        executed = temp_beside(final)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # the exporters warm up here while the kernel executes the cells (a no-op once warm)
            warming = pool.submit(warm_exporters, wanted)
            try:
                active.prepare(out)
                nb = _execute(parameters, executed, final, source, timeout, active)
                warming.result()
                rendered = _render(nb, wanted, template_bytes, template_name)
            except BaseException:
                executed.unlink(missing_ok=True)
                frozen_path.unlink(missing_ok=True)
                raise
    paths = {fmt: write_bytes_atomic(final.with_suffix(f".{fmt}"), rendered[fmt]) for fmt in wanted}
    os.replace(executed, final)
    return {"ipynb": final, "project": frozen_path, **paths}


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
            raise exc.kept_at(kept) from None
        raise
    except BaseException:
        executed.unlink(missing_ok=True)
        raise


def _render(nb, wanted: tuple[str, ...], template: bytes | None = None,
            template_name: str | Path | None = None) -> dict[str, bytes]:
    """Every requested format as bytes, from the executed notebook. The embedded font is the subset
    for the report's own text (as the notebook shows it), so a report's bytes depend on it alone."""
    from perfeval.fonts import covers, font_face_css
    from perfeval.report.docx import render_docx
    from perfeval.report.html import export_html
    from perfeval.report.notebook import read_report
    from perfeval.report.pdf import render_pdf

    rendered: dict[str, bytes] = {}
    report, images = read_report(nb)
    if {"html", "pdf"} & set(wanted):
        doc_text = report.text()
        page = export_html(nb, report.title, font_face_css(doc_text))
        if not covers(doc_text, page):  # the notebook shows text the report document does not hold
            page = export_html(nb, report.title, font_face_css(doc_text + page))
        if "html" in wanted:
            rendered["html"] = page.encode("utf-8")
        if "pdf" in wanted:
            rendered["pdf"] = render_pdf(page)
    if "docx" in wanted:
        rendered["docx"] = render_docx(report, images, template, str(template_name or "模板"))
    return rendered
