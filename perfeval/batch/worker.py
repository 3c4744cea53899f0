"""One project's report, in a process of its own (a forked child locally, a subprocess on Dask).

The process gets a private working directory and Jupyter runtime directory (so connection files
and relative paths never collide between concurrent jobs), retries once if its kernel fails to
start, builds the report in a staging folder and renames the folder into place when complete.
(`perfeval.report` talks to its kernel over IPC sockets in a private folder, so concurrent
kernels never race for TCP ports — the papermill#511 / jupyter_client#487 failure mode.) It dies with its
parent, taking its kernel with it. The outcome is a plain dict (JSON-safe: its `JobStatus` and `Stage`
are str enums); a failure's stage and reason come from the error's type and fields (`failure_of`).

The report is built by `perfeval.report.build.build_project` from the project the batch's scan read; a
job may name another builder (`job["report_fn"]`, a callable with `build_report`'s signature: tests
substitute one so that resume and failure handling run in seconds).

Run as ``python -m perfeval.batch.worker`` it reads a job (JSON) on stdin and prints the outcome.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from perfeval.batch.manifest import RECORD_NAME, Layout, commit_folder, write_json_atomic
from perfeval.batch.status import JobStatus, Stage
from perfeval.errors import (
    CellTimeout,
    JobTimeout,
    KernelUnavailable,
    PerfevalError,
    SheetError,
    TaskLost,
    WorkerDied,
)

OUTCOME_MARK = "PERFEVAL-OUTCOME "
#: what jupyter_client / nbclient say when a kernel did not come up (their errors carry no fields)
_KERNEL_START_ERRORS = ("Kernel died before replying", "didn't respond", "Address already in use",
                        "DeadKernelError")


def _descendants() -> list:
    import psutil

    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def kill_descendants() -> None:
    """SIGKILL every process below this one (kernels run in their own session)."""
    import psutil

    for child in _descendants():
        with contextlib.suppress(psutil.Error):
            child.kill()


def _watch_parent() -> None:
    """Exit (with the kernel) when the parent process goes away."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                kill_descendants()
                os._exit(70)

    threading.Thread(target=watch, name="perfeval-parent-watch", daemon=True).start()


def _is_kernel_start_failure(exc: BaseException) -> bool:
    if isinstance(exc, KernelUnavailable):
        return True
    text = f"{type(exc).__name__}: {exc}"
    return any(marker in text for marker in _KERNEL_START_ERRORS)


def failure_of(error: BaseException) -> tuple[Stage, str]:
    """Where a job failed and why, from the error's type and fields (never from parsing its text)."""
    from perfeval.report.notebook import NotebookFailed

    if isinstance(error, SheetError):
        return Stage.VALIDATE, "\n".join(str(p) for p in error.problems)
    if isinstance(error, NotebookFailed):
        return Stage.NOTEBOOK, error.summary  # where the notebook was kept is the record's own field
    if isinstance(error, (JobTimeout, CellTimeout)):
        return Stage.TIMEOUT, str(error)
    if isinstance(error, (WorkerDied, TaskLost)):
        return Stage.PROCESS, str(error)
    if isinstance(error, PerfevalError):
        return Stage.RENDER, str(error)
    return Stage.RENDER, f"{type(error).__name__}：{error}"


def failure_outcome(job: dict, error: BaseException, elapsed: float, **extra) -> dict:
    """A failed job's outcome (`extra`: e.g. the kept notebook)."""
    stage, reason = failure_of(error)
    return {"key": job["key"], "status": JobStatus.FAILED, "stage": stage, "reason": reason,
            "elapsed": round(elapsed, 2), **extra}


def use_private_temp(job: dict) -> Path | None:
    """Make the job's private folder (``job["tmp"]``, inside the batch's run folder) this process's
    temporary folder, and its kernels' (TMPDIR): the working directory, the kernel's sockets and
    connection file (with its key) and the log all live there, and the supervisor removes it
    whatever becomes of the job."""
    tmp = job.get("tmp")
    if not tmp:
        return None
    folder = Path(tmp)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    return folder


def cell_timeout(timeout: float | None) -> int | None:
    """A per-cell limit for the notebook client, which takes whole seconds (the project limit itself
    is enforced by the supervisor, to the fraction)."""
    return None if not timeout else max(1, math.ceil(timeout))


class WarmKernel:
    """The Jupyter kernel a job process keeps from one project to the next (a kernel start and the
    kernel's imports cost more than most of a report). Started on first use; a kernel of another name,
    a dead one, or one whose project failed is replaced. `report.build` resets it before each notebook
    (empty namespace, execution counts from 1), so one project never sees another's variables."""

    def __init__(self) -> None:
        self.kernel = None

    def get(self, name: str):
        from perfeval.report.notebook import Kernel

        if self.kernel is not None and (self.kernel.name != name or not self.kernel.alive):
            self.drop()
        if self.kernel is None:
            kernel = Kernel(name)
            kernel.__enter__()
            self.kernel = kernel
        return self.kernel

    def drop(self) -> None:
        if self.kernel is not None:
            with contextlib.suppress(Exception):
                self.kernel.__exit__(None, None, None)
            self.kernel = None


def _build_from_project(job: dict, staging: Path, kernel_name: str | None, warm: WarmKernel | None,
                        timeout: int | None) -> dict:
    """The report built from the project the batch's scan read (`job["project"]`, a snapshot): the sheet
    is not read again. A job without it (an older plan) reads its sheet."""
    from perfeval.report.build import build_project
    from perfeval.report.docx_template import read_template
    from perfeval.report.notebook import kernel_name_of, notebook_path
    from perfeval.report.snapshot import project_from_dict
    from perfeval.sheets.load import load_project

    if job.get("project") is not None:
        project = project_from_dict(job["project"])
    else:
        project = load_project(job["source"], job.get("scheme"), job.get("project_id"))
    extra = dict(job.get("extra_parameters") or {})
    template_path = extra.pop("docx_template", None)
    template = ((read_template(template_path), str(template_path))
                if template_path and "docx" in job["formats"] else None)
    name = kernel_name or kernel_name_of(notebook_path())
    kernel = warm.get(name) if warm is not None else name
    # scored by the scan already: the notebook kernel scores it once more, to show it
    return build_project(project, tuple(job["formats"]), staging, scheme=job.get("scheme"),
                         generated_at=extra.pop("generated_at", None), timeout=timeout, kernel=kernel,
                         docx_template=template, extra_parameters=extra)


def run_job(job: dict, warm: WarmKernel | None = None) -> dict:
    """Build one project's report folder; never raises (the outcome says what happened). With `warm`
    (a long-lived job process) the notebook runs on its kept kernel, which survives a success."""
    started = time.monotonic()
    layout = Layout(Path(job["root"]))
    final = Path(job["folder"])
    work = Path(tempfile.mkdtemp(prefix="perfeval-job-"))
    staging = layout.staging / f"{final.name}-{uuid.uuid4().hex[:12]}"
    if warm is None:
        os.environ["JUPYTER_RUNTIME_DIR"] = str(work / "runtime")
    try:
        before = os.getcwd()
    except FileNotFoundError:  # a folder removed under us: come back to the job's root instead
        before = str(layout.root)
    os.chdir(work)
    kernel = job.get("kernel_name")
    custom = job.get("report_fn")
    ok = False
    try:
        for attempt in (1, 2):
            staging.mkdir(parents=True, exist_ok=True)
            try:
                if custom is not None:
                    paths = custom(
                        job["source"], staging, formats=tuple(job["formats"]), scheme=job.get("scheme"),
                        project_id=job.get("project_id"), extra_parameters=job.get("extra_parameters") or None,
                        timeout=cell_timeout(job.get("timeout")), kernel_name=kernel)
                else:
                    paths = _build_from_project(job, staging, kernel, warm, cell_timeout(job.get("timeout")))
                break
            except Exception as exc:
                if attempt == 1 and _is_kernel_start_failure(exc):
                    if warm is not None:
                        warm.drop()
                    kill_descendants()
                    shutil.rmtree(staging, ignore_errors=True)
                    continue
                raise
        outputs = {}
        for kind, path in sorted(paths.items()):
            if kind == "project":  # the snapshot the notebook showed: kept beside it, not a report format
                continue
            path = Path(path)
            outputs[kind] = {"file": path.name, "size": path.stat().st_size}
        record = {**job["record"], "outputs": outputs}
        write_json_atomic(staging / RECORD_NAME, record)
        commit_folder(staging, final, layout.state / "trash")
        ok = True
        return {"key": job["key"], "status": JobStatus.OK, "outputs": outputs,
                "elapsed": round(time.monotonic() - started, 2)}
    except TimeoutError as exc:  # a cell past the per-cell limit (nbclient's CellTimeoutError)
        return failure_outcome(job, CellTimeout(job.get("timeout"), str(exc)), time.monotonic() - started)
    except Exception as exc:  # a failing sheet, cell, export or kernel is this project's failure only
        return failure_outcome(job, exc, time.monotonic() - started, **_keep_notebook(exc, layout, final))
    finally:
        if warm is None or not ok:  # a failed project's kernel is not reused
            if warm is not None:
                warm.drop()
            kill_descendants()
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):  # never leave the process in the folder removed next
            os.chdir(before)
        shutil.rmtree(work, ignore_errors=True)


def _keep_notebook(exc: Exception, layout: Layout, final: Path) -> dict[str, str]:
    """A failed notebook (`NotebookFailed.notebook_path`, in the staging folder) moved to the batch's
    失败项目 folder: {"notebook": its path relative to the batch's root}, or {} when none was kept."""
    from perfeval.report.notebook import NotebookFailed

    kept = exc.notebook_path if isinstance(exc, NotebookFailed) else None
    if kept is None or not Path(kept).is_file():
        return {}
    layout.failed_notebooks.mkdir(parents=True, exist_ok=True)
    target = layout.failed_notebooks / f"{final.parent.name}-{Path(kept).name}"
    os.replace(kept, target)
    return {"notebook": str(target.relative_to(layout.root))}


def _quiet() -> Path:
    """Send this process's (and its kernel's) stdout/stderr to a log file instead of the terminal."""
    fd, log = tempfile.mkstemp(prefix="perfeval-job-", suffix=".log")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(fd, 2)
    os.close(devnull)
    os.close(fd)
    return Path(log)


def _with_log_tail(outcome: dict, log: Path, lines: int = 8) -> dict:
    """Add the end of the job's stderr to failures that are not otherwise explained."""
    try:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    except OSError:
        tail = []
    finally:
        log.unlink(missing_ok=True)
    if outcome.get("status") == JobStatus.FAILED and outcome.get("stage") == Stage.RENDER and tail:
        outcome = {**outcome, "reason": outcome["reason"] + "\n" + "\n".join(tail)}
    return outcome


def child_main(job: dict, conn) -> None:
    """Entry point of a one-job process (forked from the forkserver)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides what stops
    _watch_parent()
    use_private_temp(job)
    log = _quiet()
    try:
        conn.send(_with_log_tail(run_job(job), log))
    finally:
        conn.close()


def settle_heap() -> None:
    """Collect what the last job left, then freeze the rest (gc.freeze: the imported modules, the warm exporters,
    their caches) out of the collector's sight. WeasyPrint allocates enough to trigger a full collection during
    every PDF, and each one walked the whole heap of a warm job process (papermill, nbconvert, WeasyPrint,
    python-docx): about 0.25 s of a report's 1.3 CPU-s of export. What is frozen was alive; a job's own garbage is
    collected first, so nothing it drops is kept."""
    gc.collect()
    gc.freeze()


#: the key of the message that asks a job process to get ready before its first job (`warm_up_message`)
WARM_UP = "warm_up"


def warm_up_message(kernel_name: str | None, formats) -> dict:
    """What a supervisor sends a job process started ahead of its jobs (`serve`): start the notebook kernel
    `kernel_name` (None: the one the report notebook declares) and load what the notebook uses into it, and
    load the exporters of `formats`, while the batch still reads and scores its sheets."""
    return {WARM_UP: {"kernel_name": kernel_name, "formats": list(formats)}}


def warm_up(warm: WarmKernel, kernel_name: str | None, formats) -> None:
    """Start and warm the kernel (`Kernel.warm_up`) while this process loads its exporters. Never raises: a
    kernel that does not start or warm is dropped, and the first job starts one (and reports a failure as its
    own, located, as without the warm-up)."""
    from concurrent.futures import ThreadPoolExecutor

    from perfeval.report.build import warm_exporters
    from perfeval.report.notebook import kernel_name_of, notebook_path

    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(warm_exporters, tuple(formats))
        try:
            warm.get(kernel_name or kernel_name_of(notebook_path())).warm_up()
        except Exception:
            warm.drop()
            kill_descendants()
        with contextlib.suppress(Exception):
            loading.result()


def serve(conn, tmp: str) -> None:
    """Entry point of a long-lived local job process (forked from the forkserver): jobs in, outcomes out,
    one at a time, on a kernel kept warm between them (`WarmKernel`). `tmp` is its private folder (its
    TMPDIR and its kernels'; the supervisor sweeps what carries it when the process dies or overruns).
    A `warm_up_message` (no reply) gets the process ready before its first job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides what stops
    _watch_parent()
    folder = use_private_temp({"tmp": tmp})
    os.environ["JUPYTER_RUNTIME_DIR"] = str(folder / "runtime")
    warm = WarmKernel()
    settle_heap()  # what the forkserver imported
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):  # the supervisor is gone
                return
            if job is None:
                return
            if WARM_UP in job:
                log = _quiet()
                warm_up(warm, **job[WARM_UP])
                log.unlink(missing_ok=True)
                settle_heap()
                continue
            log = _quiet()
            conn.send(_with_log_tail(run_job(job, warm), log))
            settle_heap()  # the outcome is sent: off the job's clock
    finally:
        warm.drop()
        kill_descendants()
        conn.close()


def main() -> int:
    """Entry point of a job subprocess (Dask): the pickled job on stdin (it may carry a builder), the
    outcome as JSON on stdout."""
    from perfeval.report.startup import lighten_imports

    lighten_imports()  # a process of our own, before the report stack is imported
    _watch_parent()
    job = pickle.load(sys.stdin.buffer)
    use_private_temp(job)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # keep the real stdout for the outcome
    log = _quiet()
    outcome = _with_log_tail(run_job(job), log)
    out.write(OUTCOME_MARK + json.dumps(outcome, ensure_ascii=False) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
