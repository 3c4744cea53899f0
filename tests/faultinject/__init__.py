"""Deliberate faults for the batch's failure-isolation tests. Nothing in perfeval knows about them.

    from faultinject import faults

    with faults({"<项目编号>": "crash"}):   # "cell" | "crash" | "hang"
        run_batch(...)                      # or main(["batch", ...]) in this process
    inject(monkeypatch, {"<项目编号>": "cell"})   # the same, for the rest of a test

Inside the block, every local job process the batch starts (`perfeval.batch.runner` forks it with the
target `worker.serve`) runs `serve` below instead: the real `worker.serve`, with that process's
`worker.run_job` wrapped so that a job for a named project suffers its fault first:

* ``crash`` — the job process kills itself with SIGKILL (a worker that dies);
* ``hang`` — the job process sleeps forever (the supervisor's --timeout must stop it);
* ``cell`` — the report notebook runs on a kernel that loads `faultinject.cell` as an IPython
  extension: the first cell after papermill's injected parameters raises. A real failing cell
  (papermill's execution error, the executed notebook kept), with no change to the notebook.

The fault map travels with the process's target (a `functools.partial`, pickled to the forkserver), so
it reaches processes forked long after the test set it, and nothing is read from the environment.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

KINDS = ("cell", "crash", "hang")
KERNEL_NAME = "perfeval-fault-cell"
MESSAGE = "测试注入的故障：本单元格按测试的设置失败"
#: the folder holding this package: the fault kernel imports `faultinject.cell` from it
TESTS = Path(__file__).resolve().parents[1]


def install_kernel(jupyter_data_dir: Path) -> str:
    """Write the fault kernelspec under `jupyter_data_dir` (put it on JUPYTER_PATH); returns its name."""
    folder = jupyter_data_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext=faultinject.cell"],
        "display_name": "perfeval（故障注入）",
        "language": "python",
        "env": {"PYTHONPATH": path},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return KERNEL_NAME


def run_job_with_fault(run_job, faults: Mapping[str, str], job: dict, warm=None) -> dict:
    """`run_job(job, warm)`, after the fault `faults` names for the job's project (if any)."""
    fault = faults.get(job["key"])
    if fault == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "hang":
        while True:
            time.sleep(3600)
    if fault != "cell":
        return run_job(job, warm)
    data = Path(tempfile.mkdtemp(prefix="perfeval-fault-"))
    saved = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(data), saved or "") if p)
    try:
        return run_job({**job, "kernel_name": install_kernel(data)}, warm)
    finally:
        if saved is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = saved
        import shutil

        shutil.rmtree(data, ignore_errors=True)


def serve(faults: Mapping[str, str], conn, tmp: str) -> None:
    """A long-lived job process (`worker.serve`) whose jobs suffer `faults`."""
    from perfeval.batch import worker

    worker.run_job = functools.partial(run_job_with_fault, worker.run_job, dict(faults))
    worker.serve(conn, tmp)


def _faulty_serve(planned: Mapping[str, str]) -> functools.partial:
    unknown = {kind for kind in planned.values() if kind not in KINDS}
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}; known: {KINDS}")
    return functools.partial(serve, dict(planned))


@contextlib.contextmanager
def faults(planned: Mapping[str, str]) -> Iterator[None]:
    """Inside the block, local batch jobs of the projects `planned` names suffer their fault."""
    from perfeval.batch import worker

    original, worker.serve = worker.serve, _faulty_serve(planned)
    try:
        yield
    finally:
        worker.serve = original


def inject(monkeypatch, planned: Mapping[str, str]) -> None:
    """`faults` for the rest of a test (undone with the test's `monkeypatch`)."""
    from perfeval.batch import worker

    monkeypatch.setattr(worker, "serve", _faulty_serve(planned))
