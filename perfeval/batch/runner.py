"""Run report jobs: in parallel on the local cores (default) or on a Dask distributed cluster.

Local: `workers` long-lived job processes, forked from a forkserver that has already imported
perfeval, papermill and nbconvert; each runs one project at a time on a Jupyter kernel it keeps warm
between projects (reset before each notebook; replaced after a failure), so a project pays neither a
process nor a kernel start. A supervisor loop hands out jobs, collects outcomes, kills a job process
(and its kernel) past the job's `timeout`, records a process that dies without an outcome, and starts
a new one in its place. Each job writes only its own staging folder.

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
import pickle
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait

from perfeval.batch import worker
from perfeval.errors import JobTimeout, TaskLost, WorkerDied

#: seconds to connect to (and hear back from) a Dask scheduler before giving up
CONNECT_TIMEOUT_S = 10.0
#: address schemes a scheduler may be given with (a plain TCP Dask scheduler)
SCHEDULER_SCHEMES = ("tcp",)
#: modules the forkserver imports once, so that forked job processes start warm: first the set-up of a process
#: perfeval owns (`perfeval.report.startup`: papermill without jsonschema's 1.4 s RFC 3987 grammar), then what a
#: job process uses (not matplotlib: the charts are drawn in the notebook kernel)
PRELOAD = ("perfeval.report.startup", "perfeval.batch.worker", "perfeval.batch.contain", "perfeval.report",
           "papermill", "nbconvert", "perfeval.scoring.evaluate", "jupyter_client", "psutil",
           "perfeval.report.preload")
#: enough for reading and scoring (scoring-only batches never run a notebook)
SCAN_PRELOAD = ("perfeval.batch.contain", "perfeval.sheets.load", "perfeval.scoring.evaluate")

#: a long-lived job process is replaced after this many projects (what an exporter caches per document,
#: such as fonts registered by WeasyPrint, is then given back)
JOBS_PER_PROCESS = 25

Outcome = dict
OnOutcome = Callable[[Outcome], None]


def local_context(reports: bool = True) -> mp.context.BaseContext:
    """A forkserver context whose server has imported the report stack (or, for scoring only,
    the scoring stack) once. The preload only counts before the server first starts."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD if reports else SCAN_PRELOAD))
    return ctx


def start_forkserver(ctx: mp.context.BaseContext) -> None:
    """Start `ctx`'s forkserver now, without waiting for it: it imports its preload in a process of its own
    while this one goes on (the first process forked from it waits until the preload is done)."""
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def stop_forkserver() -> None:
    """Stop the forkserver of this process and wait for it to end (multiprocessing would keep it until this
    process exits, and it then takes a few tenths of a second to unload the report stack it imported, holding
    this process's stdout and stderr open meanwhile). The next batch in this process starts a new one. Uses the
    method the standard library keeps for its own tests (`ForkServer._stop`): where that is missing or fails, the
    forkserver is left to end with this process, as before."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        with contextlib.suppress(Exception):
            stop()


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


def kill_job_leftovers(job: dict, sweep: bool = True) -> None:
    """Remove the job's private temporary folder; with `sweep`, first stop what a job that died left
    running (its kernel runs in a session of its own, and carries the job's TMPDIR)."""
    import psutil

    tmp = job.get("tmp")
    if not tmp:
        return
    if sweep:
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if proc.pid != os.getpid() and proc.environ().get("TMPDIR") == tmp:
                    proc.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def _timeout_outcome(job: dict, elapsed: float) -> Outcome:
    return worker.failure_outcome(job, JobTimeout(job["timeout"], elapsed), elapsed)


def _died_outcome(job: dict, exitcode: int | None, elapsed: float) -> Outcome:
    return worker.failure_outcome(job, WorkerDied(exitcode), elapsed)


class _Slot:
    """One long-lived job process (`worker.serve`) and the job it is running."""

    def __init__(self, ctx: mp.context.BaseContext, tmp: str, number: int, warm_up: dict | None = None):
        self.conn, child = ctx.Pipe(duplex=True)
        self.tmp = tmp
        self.proc = ctx.Process(target=worker.serve, args=(child, tmp), name=f"perfeval-job-{number}")
        self.proc.start()
        child.close()
        self.job: dict | None = None
        self.started = 0.0
        self.done = 0
        self.released = False
        if warm_up is not None:
            self.conn.send(warm_up)

    def assign(self, job: dict) -> bool:
        """Hand `job` to the process; False (the job not taken) when the process is gone."""
        try:
            self.conn.send(job)
        except (OSError, ValueError):
            return False
        self.job, self.started = job, time.monotonic()
        self.done += 1
        return True

    def receive(self) -> Outcome | None:
        """The job's outcome when it has come, else None."""
        with contextlib.suppress(EOFError, OSError):
            if self.conn.poll():
                return self.conn.recv()
        return None

    def kill(self) -> None:
        _kill_tree(self.proc.pid)
        self.proc.join(timeout=5)
        with contextlib.suppress(OSError):
            self.conn.close()
        kill_job_leftovers({"tmp": self.tmp})  # its kernel runs in a session of its own

    def release(self) -> None:
        """Tell the idle process to stop (it shuts its kernel down) without waiting for it: `stop` waits."""
        if not self.released:
            self.released = True
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)

    def stop(self) -> None:
        self.release()
        self.proc.join(timeout=10)
        self.kill()


class JobPool:
    """The long-lived job processes of a local batch (`_Slot`), started as soon as the batch knows it will build
    reports (`start`), possibly before its jobs are planned: each gets `warm_up` (`worker.warm_up_message`) first
    and starts its kernel and loads its exporters while the batch reads its sheets. `run_local` runs the jobs on
    them; `close` stops every process (an idle one is told to stop, a busy one is killed with its kernel) and is
    safe to call more than once, from wherever the batch stops (a failing scan, Ctrl-C)."""

    def __init__(self, ctx: mp.context.BaseContext, folder: str, warm_up: dict | None = None):
        self.ctx, self.folder, self.warm_up = ctx, folder, warm_up
        self.slots: list[_Slot] = []
        self.stopping: list[_Slot] = []  # told to stop (`retire`), joined by `close`
        self.spawned = 0

    def spawn(self) -> _Slot:
        slot = _Slot(self.ctx, os.path.join(self.folder, f"w{self.spawned}"), self.spawned, self.warm_up)
        self.spawned += 1
        self.slots.append(slot)
        return slot

    def start(self, count: int) -> None:
        """At least `count` job processes running (started now when fewer are)."""
        while len(self.slots) < count:
            self.spawn()

    def remove(self, slot: _Slot) -> None:
        if slot in self.slots:
            self.slots.remove(slot)

    def retire(self, slot: _Slot) -> None:
        """An idle process no longer needed: told to stop now, waited for by `close`; one that never ran a job
        (it may still be getting ready) is killed with its kernel at once."""
        self.remove(slot)
        if slot.done == 0:
            slot.kill()
            return
        slot.release()
        self.stopping.append(slot)

    def close(self) -> None:
        slots, self.slots = [*self.stopping, *self.slots], []
        self.stopping = []
        for slot in slots:  # every idle process is told first: their kernels shut down side by side
            if slot.job is None:
                slot.release()
        for slot in slots:
            if slot.job is None and slot.done:
                slot.stop()
            else:  # busy, or never given a job (perhaps still getting ready): nothing of it is kept
                slot.kill()


def _slot_folder(jobs: list[dict]) -> str:
    """The folder of the job processes' private folders: beside the jobs' own folders (the batch's run folder)."""
    import tempfile

    return next((os.path.dirname(j["tmp"]) for j in jobs if j.get("tmp")), None) or tempfile.mkdtemp(
        prefix="perfeval-run-")


def run_local(jobs: Iterable[dict], workers: int, on_outcome: OnOutcome,
              ctx: mp.context.BaseContext | None = None, pool: JobPool | None = None,
              on_drained: Callable[[], None] | None = None) -> None:
    """Run `jobs` on at most `workers` long-lived job processes, each keeping its notebook kernel warm
    between projects (`worker.serve`); call `on_outcome` for each job as it ends. A job process that
    dies or overruns its job's `timeout` is killed with its kernel and replaced.

    `pool` holds job processes started earlier (`JobPool`; more are started as needed, those beyond the jobs'
    number are stopped at once); without one, a pool of this run's own is made from `ctx`. Every process of the
    pool is stopped when this returns or raises. Once no job waits to be handed out, an idle process is stopped
    at once (its core is free for the others and for the batch's own work) and `on_drained` is called, once."""
    jobs = list(jobs)
    pool = pool or JobPool(ctx or local_context(), _slot_folder(jobs))
    slots = pool.slots  # the pool's own list: what it spawns and removes shows here
    pending = deque(jobs)
    spares = [2 * workers]  # processes that may die before taking their job without failing it
    drained = False

    def hand_back(job: dict) -> bool:
        """A job that could not be handed to its process (gone already: it died while getting ready) goes to
        another process; False when too many processes were lost that way (the job's failure is then recorded,
        so a batch whose processes cannot start still ends). A job handed over is the job's own: if its process
        dies, the job fails (`WorkerDied`), as it always did."""
        if spares[0] <= 0:
            return False
        spares[0] -= 1
        pending.appendleft(job)
        return True

    def hand_out(slot: _Slot) -> None:
        job = pending.popleft()
        if slot.assign(job):
            return
        slot.kill()
        pool.remove(slot)
        if not hand_back(job):
            on_outcome({**_died_outcome(job, slot.proc.exitcode, 0.0), "slot": job["slot"]})

    try:
        for slot in [s for s in slots if s.job is None][len(jobs):]:  # started ahead, more than the jobs
            pool.retire(slot)
        while pending or any(slot.job for slot in slots):
            for slot in list(slots):
                if slot.job is None and pending and slot.done >= JOBS_PER_PROCESS:  # recycled
                    slot.stop()
                    pool.remove(slot)
                elif slot.job is None and pending:
                    hand_out(slot)
            while pending and len(slots) < workers:
                hand_out(pool.spawn())
            if not pending:
                for slot in [s for s in slots if s.job is None]:  # nothing left for it: it stops now
                    pool.retire(slot)
                if not drained:
                    drained = True
                    if on_drained is not None:
                        on_drained()
            busy = [slot for slot in slots if slot.job]
            if not busy:
                continue
            deadline = min((slot.started + slot.job["timeout"] for slot in busy if slot.job.get("timeout")),
                           default=None)
            wait_s = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            wait([*(s.proc.sentinel for s in busy), *(s.conn for s in busy)], timeout=wait_s)
            now = time.monotonic()
            for slot in busy:
                job = slot.job
                outcome = slot.receive()
                if outcome is None and not slot.proc.is_alive():
                    outcome = slot.receive()
                    if outcome is None:
                        outcome = _died_outcome(job, slot.proc.exitcode, now - slot.started)
                        slot.kill()
                        pool.remove(slot)
                elif outcome is None and job.get("timeout") and now - slot.started >= job["timeout"]:
                    outcome = _timeout_outcome(job, now - slot.started)
                    slot.kill()
                    pool.remove(slot)
                if outcome is not None:
                    slot.job = None
                    on_outcome({**outcome, "slot": job["slot"]})
    finally:  # done or interrupted: every job process and kernel stops
        pool.close()


# ----------------------------------------------------------------------------- Dask

def run_subprocess(job: dict) -> Outcome:
    """Run one job in a fresh ``python -m perfeval.batch.worker`` process (used on Dask workers)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "perfeval.batch.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        raw, _ = proc.communicate(pickle.dumps(job), timeout=job.get("timeout") or None)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        proc.communicate()
        kill_job_leftovers(job)
        return _timeout_outcome(job, time.monotonic() - started)
    finally:
        if proc.returncode is not None and proc.returncode != 0:
            kill_job_leftovers(job)
    for line in reversed(raw.decode("utf-8", errors="replace").splitlines()):
        if line.startswith(worker.OUTCOME_MARK):
            return json.loads(line[len(worker.OUTCOME_MARK):])
    return _died_outcome(job, proc.returncode, time.monotonic() - started)


def check_scheduler_address(address: str) -> str:
    """`address` when it names a TCP Dask scheduler (tcp://HOST:PORT); a Chinese error otherwise."""
    from urllib.parse import urlsplit

    from perfeval.errors import PerfevalError

    example = "如 tcp://127.0.0.1:8786"
    text = address.strip()
    scheme, sep, _ = text.partition("://")
    if not sep:
        raise PerfevalError(f"--scheduler 应为调度器地址，{example}（收到「{address}」）")
    if scheme.lower() not in SCHEDULER_SCHEMES:
        raise PerfevalError(f"--scheduler 不支持「{scheme}://」地址：Dask 调度器的地址以 tcp:// 开头，{example}"
                            f"（收到「{address}」）")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or not parts.hostname or port is None or parts.path not in ("", "/") or parts.query:
        raise PerfevalError(f"--scheduler 地址应为 tcp://主机:端口，{example}（收到「{address}」）")
    return f"tcp://{parts.netloc}"


async def _identity(address: str, timeout: float) -> dict:
    """The scheduler's identity, asked over one comm (bounded by `timeout` at every step)."""
    import asyncio

    from distributed.comm import connect as comm_connect

    comm = await asyncio.wait_for(comm_connect(address, timeout=timeout), timeout + 1)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
        return await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()


def _ask_scheduler(address: str, timeout: float) -> dict:
    """Reach the port first (a refused or unreachable one fails at once, without the Dask client's
    retries), then ask who is listening."""
    import asyncio
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
        pass
    return asyncio.run(_identity(address, timeout))


def _bounded(fn: Callable[[], object], seconds: float):
    """fn() in a daemon thread; TimeoutError when it has not returned within `seconds` (the thread is
    left behind: nothing it holds is needed, and a daemon thread never delays exit)."""
    import threading

    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="perfeval-scheduler-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}：{text}" if text else type(exc).__name__


def connect(address: str, timeout: float | None = None):
    """A Dask client for `address` (tcp://HOST:PORT). Within about `timeout` (default `CONNECT_TIMEOUT_S`)
    seconds (twice at most: the scheduler is asked who it is, then the client connects) it is connected or a Chinese
    `PerfevalError` says why: a wrong address, nothing listening, something that is not a Dask
    scheduler (an HTTP server, a port that never answers)."""

    from perfeval.errors import PerfevalError

    address = check_scheduler_address(address)
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise PerfevalError("未安装 dask.distributed，无法使用 --scheduler") from None
    where = f"无法使用 Dask 调度器 {address}"
    try:
        reply = _bounded(lambda: _ask_scheduler(address, timeout), timeout + 3)
    except TimeoutError:
        raise PerfevalError(f"{where}：{timeout:g} 秒内没有得到 Dask 调度器的应答（该端口上可能不是 Dask 调度器，"
                            f"或网络不通）") from None
    except OSError as exc:
        import socket

        why = ("连接被拒绝，该端口上没有程序在监听" if isinstance(exc, ConnectionRefusedError)
               else "无法解析主机名" if isinstance(exc, socket.gaierror) else _describe(exc))
        raise PerfevalError(f"{where}：无法连接（{why}）；请确认调度器已启动、地址和端口正确") from None
    except Exception as exc:
        raise PerfevalError(f"{where}：该地址上的服务不是 Dask 调度器（{_describe(exc)}）") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise PerfevalError(f"{where}：该地址上的服务不是 Dask 调度器（应答为 {str(reply)[:80]}）")
    try:
        return _bounded(lambda: Client(address, timeout=f"{timeout:g}s", set_as_default=False), timeout + 5)
    except TimeoutError:
        raise PerfevalError(f"{where}：{timeout:g} 秒内未能建立连接") from None
    except Exception as exc:
        raise PerfevalError(f"{where}：{_describe(exc)}") from None


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
                outcome = worker.failure_outcome(job, TaskLost(type(exc).__name__, str(exc)), 0.0)
            on_outcome({**outcome, "slot": job["slot"]})
    finally:
        for future in futures:
            if not future.done():
                future.cancel()
