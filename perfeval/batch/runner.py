"""Run report jobs: in parallel on the local cores (default) or on a Dask distributed cluster.

Local: one process per project, forked from a forkserver that has already imported perfeval,
papermill and nbconvert (so a job starts in milliseconds, not seconds), at most `workers` at a
time. A supervisor loop collects outcomes, kills a job (and its kernel) past `timeout`, and
records a job process that dies without an outcome. Nothing is shared between jobs but the
output folder, and each job writes only its own staging folder.

Dask: the same job runs as ``python -m perfeval.batch.worker`` in a subprocess on a Dask
worker (Dask workers are daemonic and cannot fork children through multiprocessing; a subprocess
also isolates the worker from a crashing kernel). The output folder must be visible to the workers
under the same path (a shared file system), as is usual for a cluster.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait

from perfeval.batch import worker

#: extra seconds a job gets beyond --timeout to report its own cell timeout before it is killed
KILL_GRACE_S = 5.0
#: modules the forkserver imports once, so that forked job processes start warm
PRELOAD = ("perfeval.batch.worker", "perfeval.batch.contain", "perfeval.report", "papermill", "nbconvert",
           "perfeval.evaluate", "matplotlib.pyplot", "jupyter_client", "psutil")
#: enough for reading and scoring (scoring-only batches never run a notebook)
SCAN_PRELOAD = ("perfeval.batch.contain", "perfeval.validate", "perfeval.evaluate")

Outcome = dict
OnOutcome = Callable[[Outcome], None]


def local_context(reports: bool = True) -> mp.context.BaseContext:
    """A forkserver context whose server has imported the report stack (or, for scoring only,
    the scoring stack) once. The preload only counts before the server first starts."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD if reports else SCAN_PRELOAD))
    return ctx


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        family = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in family:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def _timeout_outcome(job: dict, elapsed: float) -> Outcome:
    return {"key": job["key"], "status": "failed", "stage": "超时",
            "reason": f"超过时限 {job['timeout']:g} 秒（已运行 {elapsed:.0f} 秒），已终止",
            "elapsed": round(elapsed, 2)}


def _died_outcome(job: dict, exitcode: int | None, elapsed: float) -> Outcome:
    how = f"被信号 {-exitcode} 终止" if exitcode is not None and exitcode < 0 else f"退出码 {exitcode}"
    return {"key": job["key"], "status": "failed", "stage": "进程",
            "reason": f"生成该项目报告的工作进程意外退出（{how}），未留下结果",
            "elapsed": round(elapsed, 2)}


def run_local(jobs: Iterable[dict], workers: int, on_outcome: OnOutcome,
              ctx: mp.context.BaseContext | None = None) -> None:
    """Run `jobs` with at most `workers` job processes; call `on_outcome` for each, as they end."""
    ctx = ctx or local_context()
    pending = deque(jobs)
    running: dict[int, tuple] = {}  # sentinel -> (process, job, started, connection)
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.popleft()
                receive, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=worker.child_main, args=(job, send),
                                   name=f"perfeval-job-{job['key']}")
                proc.start()
                send.close()
                running[proc.sentinel] = (proc, job, time.monotonic(), receive)
            deadline = min((started + job["timeout"] + KILL_GRACE_S
                            for _, job, started, _ in running.values() if job.get("timeout")),
                           default=None)
            wait_s = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            wait([*running, *(r[3] for r in running.values())], timeout=wait_s)
            now = time.monotonic()
            for sentinel, (proc, job, started, receive) in list(running.items()):
                outcome = None
                with contextlib.suppress(EOFError, OSError):
                    if receive.poll():
                        outcome = receive.recv()
                if outcome is None and not proc.is_alive():
                    with contextlib.suppress(EOFError, OSError):
                        if receive.poll():
                            outcome = receive.recv()
                    if outcome is None:
                        outcome = _died_outcome(job, proc.exitcode, now - started)
                if outcome is None and job.get("timeout") and now - started > job["timeout"] + KILL_GRACE_S:
                    _kill_tree(proc.pid)
                    outcome = _timeout_outcome(job, now - started)
                if outcome is not None:
                    proc.join(timeout=5)
                    if proc.is_alive():
                        _kill_tree(proc.pid)
                        proc.join()
                    receive.close()
                    del running[sentinel]
                    on_outcome({**outcome, "slot": job["slot"]})
    finally:
        for proc, _, _, receive in running.values():  # interrupted: stop every job and kernel
            _kill_tree(proc.pid)
            proc.join(timeout=5)
            receive.close()


# ----------------------------------------------------------------------------- Dask

def run_subprocess(job: dict) -> Outcome:
    """Run one job in a fresh ``python -m perfeval.batch.worker`` process (used on Dask workers)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "perfeval.batch.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            encoding="utf-8")
    limit = job["timeout"] + KILL_GRACE_S if job.get("timeout") else None
    try:
        out, _ = proc.communicate(json.dumps(job, ensure_ascii=False), timeout=limit)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        proc.communicate()
        return _timeout_outcome(job, time.monotonic() - started)
    for line in reversed(out.splitlines()):
        if line.startswith(worker.OUTCOME_MARK):
            return json.loads(line[len(worker.OUTCOME_MARK):])
    return _died_outcome(job, proc.returncode, time.monotonic() - started)


def connect(address: str):
    """A Dask client for `address` (tcp://HOST:PORT); Chinese error when unreachable."""
    from perfeval.errors import PerfevalError

    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise PerfevalError("未安装 dask.distributed，无法使用 --scheduler") from None
    try:
        return Client(address, timeout="5s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise PerfevalError(f"无法连接 Dask 调度器 {address}：{exc}") from None


def run_dask(jobs: Iterable[dict], client, on_outcome: OnOutcome) -> None:
    """Submit every job to the cluster; a task lost with its workers becomes a failure."""
    from distributed import as_completed

    jobs = list(jobs)
    futures = {client.submit(run_subprocess, job, pure=False,
                             key=f"perfeval-{job['key']}-{os.urandom(4).hex()}"): job
               for job in jobs}
    try:
        for future in as_completed(futures, loop=client.loop):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # KilledWorker, CancelledError, …
                outcome = {"key": job["key"], "status": "failed", "stage": "进程",
                           "reason": f"Dask 任务失败（{type(exc).__name__}：{exc}）", "elapsed": 0.0}
            on_outcome({**outcome, "slot": job["slot"]})
    finally:
        for future in futures:
            if not future.done():
                future.cancel()
