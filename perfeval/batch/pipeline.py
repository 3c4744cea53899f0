"""A whole batch: find and score projects, decide what to (re)build, run, summarise.

    from perfeval.batch import run_batch
    result = run_batch(["data/"], "reports", formats=("html",), workers=2)
    result.exit_code   # 0 all succeeded, 1 some failed
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfeval.batch import discover as disc
from perfeval.batch import manifest as mf
from perfeval.batch.status import JobStatus, Stage, Status
from perfeval.errors import PerfevalError
from perfeval.sheets.info import visible_id
from perfeval.sheets.read import file_sha256

#: a report builder with `perfeval.report.build_report`'s signature (``run_batch(report_fn=…)``); it runs
#: in the job processes, so it must be picklable (a module-level function, or a functools.partial of one)
ReportFn = Callable[..., dict]


@dataclass
class ProjectStatus:
    """What happened to one project in this run."""

    entry: disc.Entry
    status: Status
    stage: Stage | str = ""  # "" unless failed
    reason: str = ""
    folder: Path | None = None
    outputs: dict[str, str] = field(default_factory=dict)   # format -> path relative to DIR
    notebook: str = ""       # kept notebook of a failed run, relative to DIR
    cached: bool = False     # a failure carried over from an earlier run with the same inputs


@dataclass
class BatchResult:
    root: Path
    statuses: list[ProjectStatus]
    scan: disc.Scan
    run_at: str
    built: int = 0
    elapsed: float = 0.0
    summary_files: dict[str, Path] = field(default_factory=dict)
    #: 项目编号 → folder name, for ids whose folder is not named exactly like them (characters a
    #: file name cannot hold, a reserved name, ids differing only in case)
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[ProjectStatus]:
        return [s for s in self.statuses if s.status == Status.FAILED]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def default_workers() -> int:
    """The cores this process may run on (respects CPU affinity / container limits)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _static_parts(formats: Sequence[str], extra: dict) -> dict[str, object]:
    """The parts of every project's fingerprint that do not depend on the project (the scheme
    is each project's own: the hash of its content, `Entry.scheme_digest`)."""
    import perfeval
    from perfeval.report.notebook import notebook_path

    return {"perfeval": perfeval.__version__, "formats": sorted(formats),
            "notebook": file_sha256(notebook_path()), "extra": extra}


def _scheme_spec(scheme: str | Path | None) -> str | None:
    """The --scheme argument as every process can load it: a built-in id or an absolute path.
    Loads it once, so a missing or malformed scheme file stops the batch before any work."""
    if scheme is None or str(scheme).strip() == "":
        return None
    from perfeval.scheme import load_scheme

    return load_scheme(scheme).spec


def builder_name(fn: ReportFn | None) -> str | None:
    """A report builder as a resume fingerprint names it: ``module:qualname`` (with a partial's arguments),
    the same in every run; None for perfeval's own."""
    if fn is None:
        return None
    if isinstance(fn, functools.partial):
        return f"{builder_name(fn.func)}{fn.args!r}{sorted(fn.keywords.items())!r}"
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def plan(scan: disc.Scan, layout: mf.Layout, formats: Sequence[str], *, scheme: str | None,
         timeout: float | None, force: bool, kernel_name: str | None, run_at: str,
         report_fn: ReportFn | None = None, docx_template: tuple[str, str] | None = None
         ) -> tuple[list[ProjectStatus], list[dict], dict[str, disc.Entry]]:
    """Statuses for projects that need no work, the jobs for the rest, and each job's entry
    (by its slot ``<年度>/<项目编号>``). `docx_template` is (path, content digest) of the Word template."""
    template = {"docx_template": docx_template[1]} if docx_template and "docx" in formats else {}
    static = _static_parts(formats, {"kernel": kernel_name, "report_fn": builder_name(report_fn), **template}) \
        if formats else {}
    extra = {"docx_template": docx_template[0]} if template else {}
    cache = mf.read_failures(layout) if not force else {}
    statuses: list[ProjectStatus] = []
    jobs: list[dict] = []
    seen: dict[str, disc.Entry] = {}
    job_entries: dict[str, disc.Entry] = {}
    names = mf.folder_names(e.key for e in scan.entries if e.valid)
    for entry in scan.entries:
        if not entry.valid:
            entry.key = visible_id(entry.key)  # a refused id with control characters, shown escaped
            statuses.append(ProjectStatus(entry, Status.FAILED, Stage(entry.stage), "\n".join(entry.problems)))
            continue
        folder = layout.project_dir(entry.year, names[entry.key])
        slot = str(folder.relative_to(layout.root))
        if slot in seen:
            first = seen[slot]
            named = entry.key == entry.source.stem  # a table without 项目编号 takes its file's name
            hint = "；两表均未填写项目编号（编号取自文件名），请在表中填写项目编号或将文件改名" if named else ""
            statuses.append(ProjectStatus(
                entry, Status.FAILED, Stage.DUPLICATE,
                f"项目编号 {entry.key}（{entry.year}年度）重复：已由 {first.source} 中的同编号项目使用，"
                f"本项目（{entry.source}）未生成报告{hint}"))
            continue
        seen[slot] = entry
        if not formats:
            statuses.append(ProjectStatus(entry, Status.SCORED, folder=None))
            continue
        wanted = mf.fingerprint({**static, "project": entry.digest, "scheme": entry.scheme_digest})
        if not force and mf.record_is_current(folder, wanted):
            statuses.append(_done_status(entry, folder, layout, Status.CURRENT))
            continue
        old = cache.get(slot)
        if old and old.get("fingerprint") == wanted and old.get("stage") in mf.CACHEABLE_STAGES:
            statuses.append(ProjectStatus(entry, Status.FAILED, Stage(old["stage"]), old["reason"],
                                          notebook=old.get("notebook", ""), cached=True))
            continue
        job_entries[slot] = entry
        frozen = None
        if entry.project is not None and not report_fn:  # built from the project read by the scan
            from perfeval.report.snapshot import project_to_dict

            frozen = project_to_dict(entry.project)
        jobs.append({
            "key": entry.key, "slot": slot, "root": str(layout.root), "folder": str(folder),
            "source": str(entry.source), "project_id": entry.key if entry.in_portfolio else None,
            "formats": list(formats), "scheme": scheme, "timeout": timeout,
            "kernel_name": kernel_name, "report_fn": report_fn,
            "extra_parameters": {"generated_at": run_at, **extra}, "project": frozen,
            "record": {"fingerprint": wanted, "key": entry.key, "year": entry.year,
                       "source": entry.source.name, "scheme": entry.scheme,
                       "perfeval": static["perfeval"]},
        })
    return statuses, jobs, job_entries


def _done_status(entry: disc.Entry, folder: Path, layout: mf.Layout, status: Status) -> ProjectStatus:
    record = mf.read_record(folder) or {}
    outputs = {kind: str((folder / item["file"]).relative_to(layout.root))
               for kind, item in sorted(record.get("outputs", {}).items())}
    return ProjectStatus(entry, status, folder=folder, outputs=outputs)


def run_batch(inputs: Iterable[str | Path], out: str | Path, *,
              formats: Sequence[str] = ("html", "pdf", "docx"), workers: int | None = None,
              timeout: float | None = None, scheduler: str | None = None, force: bool = False,
              scheme: str | None = None, kernel_name: str | None = None,
              report_fn: ReportFn | None = None, strict: bool = False, docx_template: str | Path | None = None,
              on_planned: Callable[[int, list[ProjectStatus]], None] | None = None,
              on_outcome: Callable[[dict], None] | None = None) -> BatchResult:
    """Run a batch into `out`; see `perfeval batch -h`. Raises PerfevalError for unusable input.
    `report_fn` replaces perfeval's report builder (`ReportFn`; tests pass a fast stand-in)."""
    if report_fn is not None and not callable(report_fn):
        raise TypeError(f"report_fn must be a callable with build_report's signature, not {report_fn!r}")
    started = time.monotonic()
    root = Path(out).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise PerfevalError(f"输出位置 {root} 已存在且不是文件夹")
    layout = mf.Layout(root)
    files = disc.input_files(inputs, exclude=root)
    if not files:
        raise PerfevalError("输入中没有 .xlsx 或 .csv 指标表")
    workers = max(1, workers or default_workers())
    scheme = _scheme_spec(scheme)
    from perfeval.report.build import report_time
    from perfeval.report.docx_template import template_spec

    template = template_spec(docx_template)  # read and checked once, before any work

    run_at = report_time()  # now, or SOURCE_DATE_EPOCH
    client = None
    try:
        if scheduler:
            from perfeval.batch.runner import connect

            client = connect(scheduler)
        with mf.exclusive_run(layout), _job_pool(layout, formats, client, force, kernel_name, report_fn) as pool:
            run_tmp = mf.fresh_run_temp_dir(layout)
            scan = _scan(files, scheme, workers, client, reports=bool(formats), strict=strict, log_dir=run_tmp,
                         pool=pool)
            statuses, jobs, entries = plan(scan, layout, formats, scheme=scheme, timeout=timeout,
                                           force=force, kernel_name=kernel_name, run_at=run_at,
                                           report_fn=report_fn, docx_template=template)
            for entry in scan.entries:  # the jobs carry what they need; the scan keeps only its frames
                entry.project = None
            for number, job in enumerate(jobs):
                job["tmp"] = str(run_tmp / f"j{number}")
            if on_planned:
                on_planned(len(jobs), statuses)
            by_slot = {job["slot"]: job for job in jobs}
            failures = mf.read_failures(layout)
            results: list[ProjectStatus] = []

            def record(outcome: dict) -> None:
                job = by_slot[outcome["slot"]]
                entry, folder = entries[job["slot"]], Path(job["folder"])
                if outcome["status"] == JobStatus.OK:
                    results.append(_done_status(entry, folder, layout, Status.BUILT))
                    if failures.pop(job["slot"], None) is not None:
                        mf.write_failures(layout, failures)
                else:
                    results.append(ProjectStatus(entry, Status.FAILED, Stage(outcome["stage"]),
                                                 outcome["reason"], notebook=outcome.get("notebook", "")))
                    failures[job["slot"]] = {"fingerprint": job["record"]["fingerprint"],
                                             "stage": Stage(outcome["stage"]), "reason": outcome["reason"],
                                             "notebook": outcome.get("notebook", "")}
                    mf.write_failures(layout, failures)
                if on_outcome:
                    on_outcome(outcome)

            try:
                if jobs and client is not None:
                    from perfeval.batch.runner import run_dask

                    run_dask(jobs, client, record)
                elif jobs:
                    from perfeval.batch.runner import run_local

                    run_local(jobs, workers, record, pool=pool, on_drained=_ready_summary)
            except BaseException:  # interrupted, a full disk …: every job is stopped
                mf.clear_leftovers(layout)  # drop their staging folders
                raise
            finally:
                if pool is not None:
                    pool.close()  # no process is left running while the summary is written
            done = {id(s.entry): s for s in [*statuses, *results]}
            ordered = [done[id(e)] for e in scan.entries if id(e) in done]
            result = BatchResult(root, ordered, scan, run_at, built=len(results))
            names = mf.folder_names(e.key for e in scan.entries if e.valid)
            result.renamed = {key: name for key, name in names.items() if name != key}
            from perfeval.batch.summary import write_summary

            result.summary_files = write_summary(result)
            result.elapsed = time.monotonic() - started
            return result
    finally:
        if client is not None:
            client.close()


def _builds_every_project(layout: mf.Layout, force: bool) -> bool:
    """Every valid project of this run will be built: --force, or no report was ever recorded in the folder and no
    failure is kept there (a first run: nothing is current, no failure is carried over)."""
    return force or not (any(layout.root.glob(f"*/*/{mf.RECORD_NAME}")) or mf.read_failures(layout))


@contextlib.contextmanager
def _job_pool(layout: mf.Layout, formats: Sequence[str], client, force: bool, kernel_name: str | None,
              report_fn: ReportFn | None) -> Iterator[object]:
    """The job processes of a local batch that will build reports for every project it reads
    (`_builds_every_project`), or None: its forkserver starts now (importing the report stack while the sheets
    are read), its job processes as soon as the reading is under way (`_scan`), each starting its kernel and
    loading its exporters (`worker.warm_up_message`) before its first job. Whatever happens next (a scan that
    fails, an interrupted run) every process it started is stopped when the block ends."""
    if not formats or client is not None or not _builds_every_project(layout, force):
        yield None
        return
    from perfeval.batch import runner, worker

    ctx = runner.local_context()
    runner.start_forkserver(ctx)
    warm = worker.warm_up_message(kernel_name, formats) if report_fn is None else None
    pool = runner.JobPool(ctx, str(mf.run_temp_dir(layout)), warm)
    try:
        yield pool
    finally:
        pool.close()


def _ready_summary() -> None:
    """Load what writing the summary needs (matplotlib with the CJK face, xlsxwriter) while the last reports are
    built: called when no job is left to hand out, so a core is free. Only loads modules: the summary itself is
    written from the finished results."""
    with contextlib.suppress(Exception):
        import xlsxwriter  # noqa: F401
        from matplotlib.backends import backend_agg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401

        from perfeval.batch import summary  # noqa: F401
        from perfeval.fonts import register_cjk_font

        register_cjk_font()


def _scan_context(reports: bool):
    """Where the scan workers come from: forked from this process when it runs no other thread (it has imported
    what reading and scoring need; the sheets are read while the forkserver, if the batch starts one, imports the
    report stack, and a run with nothing to build never waits for that import); otherwise from the forkserver
    (with the report stack when the batch builds `reports`), as before."""
    import multiprocessing as mp
    import threading

    from perfeval.batch.runner import local_context

    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return local_context(reports=reports)


def _scan(files: Sequence[Path], scheme: str | None, workers: int, client,
          reports: bool = True, strict: bool = False, log_dir: Path | None = None, pool=None) -> disc.Scan:
    """Every project in `files`, each file read where a crash is contained (`contain`). With `pool`
    (`_job_pool`), its job processes are started once the first chunk of files is read."""
    from perfeval.batch import contain

    if client is not None:
        threads = sum(client.nthreads().values()) or 1
        chunks = disc.chunk_files(files, 2 * threads)
        futures = [client.submit(contain.scan_in_subprocess, chunk, scheme, strict, reports, pure=False)
                   for chunk in chunks]
        scans = [future.result() for future in futures]
    else:
        on_chunk = None
        if pool is not None:  # one chunk per worker: a worker never waits for its next chunk while they start
            chunks = disc.chunk_files(files, workers)

            def on_chunk(done: int) -> None:
                if done == 1:
                    pool.start(min(workers, len(files)))
        else:
            chunks = disc.chunk_files(files, 2 * workers if workers > 1 else 1)
        scans = contain.scan_contained(chunks, scheme, workers=min(workers, len(chunks)), ctx=_scan_context(reports),
                                       strict=strict, log_dir=log_dir, keep_projects=reports, on_chunk=on_chunk)
    return disc.in_input_order(disc.merge_scans(scans), files)
