"""One project's report, in a process of its own (a forked child locally, a subprocess on Dask).

The process gets a private working directory and Jupyter runtime directory (so connection files
and relative paths never collide), serialises kernel *start-up* across processes on the machine
(the window in which jupyter_client has picked TCP ports that the kernel has not bound yet —
papermill#511, jupyter_client#487), retries once if a kernel still fails to start, builds the
report in a staging folder and renames the folder into place when complete. It dies with its
parent, taking its kernel with it. The outcome is a plain dict (JSON-safe).

Run as ``python -m perfeval.batch.worker`` it reads a job (JSON) on stdin and prints the outcome.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from perfeval.batch.manifest import RECORD_NAME, Layout, commit_folder, write_json_atomic

OUTCOME_MARK = "PERFEVAL-OUTCOME "
#: how long one process may hold the machine-wide kernel start-up lock
START_GATE_MAX_S = 20.0
_KERNEL_START_ERRORS = ("Kernel died before replying", "didn't respond", "Address already in use",
                        "DeadKernelError", "Kernel didn't respond", "kernel_info")


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


def _kernel_listening() -> bool:
    """Whether some descendant (the kernel) has bound its five ZMQ sockets."""
    import psutil

    for child in _descendants():
        try:
            listening = [c for c in child.net_connections("inet") if c.status == psutil.CONN_LISTEN]
        except psutil.Error:
            continue
        if len(listening) >= 5:
            return True
    return False


@contextlib.contextmanager
def kernel_start_gate(lock_path: Path | None = None) -> Iterator[None]:
    """Hold a machine-wide lock from before the kernel's ports are chosen until it has bound them.

    A watcher thread releases the lock as soon as the kernel listens (or after
    `START_GATE_MAX_S`), so only start-ups are serialised, never executions."""
    path = lock_path or Path(tempfile.gettempdir()) / "perfeval-kernel-start.lock"
    handle = path.open("a+")
    released = threading.Event()
    lock = threading.Lock()

    def release() -> None:
        with lock:
            if not released.is_set():
                released.set()
                with contextlib.suppress(OSError, ValueError):
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                handle.close()

    deadline = time.monotonic() + START_GATE_MAX_S
    while True:  # bounded wait: never hang a job on a stuck lock holder
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)

    def watch() -> None:
        while not released.is_set() and time.monotonic() < deadline + START_GATE_MAX_S:
            if _kernel_listening():
                break
            time.sleep(0.02)
        release()

    threading.Thread(target=watch, name="perfeval-start-gate", daemon=True).start()
    try:
        yield
    finally:
        release()


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
    text = f"{type(exc).__name__}: {exc}"
    return any(marker in text for marker in _KERNEL_START_ERRORS)


def _report_function(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _failure(job: dict, stage: str, reason: str, started: float, **extra) -> dict:
    return {"key": job["key"], "status": "failed", "stage": stage, "reason": reason,
            "elapsed": round(time.monotonic() - started, 2), **extra}


def run_job(job: dict) -> dict:
    """Build one project's report folder; never raises (the outcome says what happened)."""
    started = time.monotonic()
    fault = job.get("fault")
    if fault == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "hang":
        while True:
            time.sleep(3600)
    from perfeval.errors import PerfevalError, SheetError

    layout = Layout(Path(job["root"]))
    final = Path(job["folder"])
    work = Path(tempfile.mkdtemp(prefix="perfeval-job-"))
    staging = layout.staging / f"{final.name}-{uuid.uuid4().hex[:12]}"
    os.environ["JUPYTER_RUNTIME_DIR"] = str(work / "runtime")
    os.chdir(work)
    kernel = job.get("kernel_name")
    if fault == "cell":
        from perfeval.batch import faults

        data = work / "jupyter"
        kernel = faults.install_kernel(data)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(data), os.environ.get("JUPYTER_PATH", "")) if p)
    build = _report_function(job.get("report_fn") or "perfeval.report:build_report")
    try:
        for attempt in (1, 2):
            staging.mkdir(parents=True, exist_ok=True)
            try:
                with kernel_start_gate():
                    paths = build(job["source"], staging, formats=tuple(job["formats"]),
                                  scheme=job.get("scheme"), project_id=job.get("project_id"),
                                  extra_parameters=job.get("extra_parameters") or None,
                                  timeout=job.get("timeout"), kernel_name=kernel)
                break
            except Exception as exc:
                if attempt == 1 and _is_kernel_start_failure(exc):
                    kill_descendants()
                    shutil.rmtree(staging, ignore_errors=True)
                    continue
                raise
        outputs = {}
        for kind, path in sorted(paths.items()):
            path = Path(path)
            outputs[kind] = {"file": path.name, "size": path.stat().st_size}
        record = {**job["record"], "outputs": outputs}
        write_json_atomic(staging / RECORD_NAME, record)
        commit_folder(staging, final, layout.state / "trash")
        return {"key": job["key"], "status": "ok", "outputs": outputs,
                "elapsed": round(time.monotonic() - started, 2)}
    except SheetError as exc:
        return _failure(job, "校验", "\n".join(str(p) for p in exc.problems), started)
    except PerfevalError as exc:
        kept = next(iter(staging.glob("*.failed.ipynb")), None) if staging.exists() else None
        extra = {}
        if kept is not None:
            layout.failed_notebooks.mkdir(parents=True, exist_ok=True)
            target = layout.failed_notebooks / f"{final.parent.name}-{kept.name}"
            os.replace(kept, target)
            extra["notebook"] = str(target.relative_to(layout.root))
        stage = "笔记本" if type(exc).__name__ == "NotebookFailed" else "生成"
        reason = str(exc).split("（执行记录：")[0]
        return _failure(job, stage, reason, started, **extra)
    except TimeoutError as exc:
        return _failure(job, "超时", f"单元格执行超过 {job.get('timeout')} 秒：{exc}", started)
    except Exception as exc:  # a failing export or kernel is this project's failure only
        return _failure(job, "生成", f"{type(exc).__name__}：{exc}", started)
    finally:
        kill_descendants()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def child_main(job: dict, conn) -> None:
    """Entry point of a local job process (forked from the forkserver)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides what stops
    _watch_parent()
    try:
        conn.send(run_job(job))
    finally:
        conn.close()


def main() -> int:
    """Entry point of a job subprocess (Dask): job JSON on stdin, outcome on stdout."""
    _watch_parent()
    job = json.loads(sys.stdin.read())
    outcome = run_job(job)
    sys.stdout.write(OUTCOME_MARK + json.dumps(outcome, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
