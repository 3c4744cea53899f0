"""Read untrusted files where a crash is contained: one file never takes down a batch.

A reader can abort the whole process (a native library that fails to allocate calls `abort()`),
allocate until the machine swaps, or never return. So every input file is read, validated and
scored in a scan worker process with an address-space limit (``RLIMIT_AS``) and a time limit:

* workers are reused (a chunk of files per task, scored in one vectorised pass); before each
  file, and before scoring, a worker tells the supervisor what it is about to do;
* a worker that dies (a signal such as SIGABRT, an exit) or overruns the time limit is killed and
  replaced; the file it was reading is recorded as failed with the reason, and the other files of
  its chunk go back into the queue. A worker that dies while scoring has its chunk split into
  single files, so only the file that cannot be scored fails;
* a `MemoryError` inside the reader is that file's failure (`discover.scan_chunk`).

Limits: `SCAN_MEMORY_MB` of address space beyond what a worker holds when it starts (the
environment variable ``PERFEVAL_SCAN_MEMORY_MB`` overrides it) and `SCAN_TIMEOUT_S` seconds per
file (``PERFEVAL_SCAN_TIMEOUT_S``).

On a Dask cluster each chunk runs as ``python -m perfeval.batch.contain`` (Dask workers cannot
fork through multiprocessing), which contains its files the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from perfeval.batch.discover import Entry, Scan, scan_chunk
from perfeval.batch.status import Stage
from perfeval.errors import PerfevalError, ReaderDied, ReaderTimeout

MEMORY_ENV = "PERFEVAL_SCAN_MEMORY_MB"
TIMEOUT_ENV = "PERFEVAL_SCAN_TIMEOUT_S"
#: address space (MiB) a scan worker may add to what it holds at start
SCAN_MEMORY_MB = 2048
#: seconds a worker may spend on one file (or on scoring one chunk)
SCAN_TIMEOUT_S = 300.0
#: failure stage of a file whose reader died or overran
STAGE = Stage.READ


def memory_limit_mb() -> int:
    """The scan workers' extra address space in MiB (environment override, else `SCAN_MEMORY_MB`)."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else SCAN_MEMORY_MB


def time_limit_s() -> float:
    """Seconds per file (environment override, else `SCAN_TIMEOUT_S`)."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return SCAN_TIMEOUT_S
    return value if value > 0 else SCAN_TIMEOUT_S


def _address_space() -> int:
    """This process's virtual memory size in bytes (0 when /proc is not there)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def limit_memory(extra_mb: int) -> None:
    """Cap this process's address space at its current size plus `extra_mb` MiB."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = _address_space() + extra_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft == resource.RLIM_INFINITY or wanted < soft:
        with contextlib.suppress(ValueError, OSError):  # a platform without RLIMIT_AS support
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def scan_worker(conn, scheme: str | None, memory_mb: int, log: str | None = None, strict: bool = False,
                keep_projects: bool = False) -> None:
    """A scan worker: (task id, files) in, ("step", id, i) progress and ("done", id, Scan) out.
    Its stderr goes to `log` (a reader's last words explain a crash)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides what stops
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
    limit_memory(memory_mb)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the supervisor is gone
            return
        if task is None:
            return
        task_id, files = task
        scan = scan_chunk(files, scheme, strict=strict, on_step=lambda i, t=task_id: conn.send(("step", t, i)),
                          keep_projects=keep_projects)
        conn.send(("done", task_id, scan))


# ----------------------------------------------------------------------------- supervisor

def died_reason(path: Path, exitcode: int | None, memory_mb: int, scoring: bool = False,
                hint: str = "") -> ReaderDied:
    """Why a file failed when its worker died (its text is Chinese and names the file)."""
    return ReaderDied(str(path), exitcode, memory_mb, scoring, hint)


def log_hint(log: Path | None, limit: int = 300) -> str:
    """The telling line of a dead worker's stderr: an allocation failure or the last error."""
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip()] if log else []
    except OSError:
        return ""
    telling = [ln for ln in lines if "memory allocation" in ln or "Error" in ln or "panicked" in ln]
    return telling[-1][:limit] if telling else ""


def timeout_reason(path: Path, seconds: float, scoring: bool = False) -> ReaderTimeout:
    return ReaderTimeout(str(path), seconds, scoring)


def failed_scan(path: Path, failure: PerfevalError | str) -> Scan:
    """A scan holding only `path`, failed at the READ stage for `failure` (its text is the entry's problem)."""
    error = failure if isinstance(failure, PerfevalError) else None
    return Scan([Entry(key=path.stem, source=path, problems=[str(failure)], stage=STAGE, failure=error)], None)


@dataclass
class _Worker:
    proc: object
    conn: object
    log: Path | None = None
    task: tuple[int, list[str]] | None = None
    step: int = -1
    since: float = field(default_factory=time.monotonic)


class _Supervisor:
    def __init__(self, ctx, scheme: str | None, workers: int, memory_mb: int, timeout_s: float,
                 on_chunk: Callable[[int], None] | None, strict: bool = False,
                 log_dir: Path | None = None, keep_projects: bool = False) -> None:
        self.keep_projects = keep_projects
        self.ctx, self.scheme, self.memory_mb, self.timeout_s = ctx, scheme, memory_mb, timeout_s
        self.log_dir = log_dir
        self.strict = strict
        self.workers = workers
        self.on_chunk = on_chunk
        self.pending: deque[list[str]] = deque()
        self.scans: list[Scan] = []
        self.pool: list[_Worker] = []
        self.next_id = 0

    def _spawn(self) -> _Worker:
        receive, send = self.ctx.Pipe(duplex=True)
        fd, log = tempfile.mkstemp(prefix="perfeval-scan-", suffix=".log", dir=self.log_dir)
        os.close(fd)
        proc = self.ctx.Process(target=scan_worker, args=(send, self.scheme, self.memory_mb, log, self.strict,
                                                          self.keep_projects),
                                name="perfeval-scan", daemon=True)
        proc.start()
        send.close()
        return _Worker(proc, receive, Path(log))

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.proc.kill()
        worker.proc.join(timeout=5)
        worker.conn.close()
        if worker.log is not None:
            worker.log.unlink(missing_ok=True)

    def run(self, chunks: Sequence[Sequence[str]]) -> list[Scan]:
        self.pending.extend(list(chunk) for chunk in chunks if chunk)
        try:
            while self.pending or any(w.task for w in self.pool):
                self._assign()
                busy = [w for w in self.pool if w.task]
                if not busy:
                    continue
                deadline = min(w.since for w in busy) + self.timeout_s
                wait([*(w.conn for w in busy), *(w.proc.sentinel for w in busy)],
                     timeout=max(0.0, min(1.0, deadline - time.monotonic())))
                for worker in busy:
                    self._check(worker)
        finally:  # idle workers are told to stop; busy ones (an interrupted run) are killed
            for worker in self.pool:
                with contextlib.suppress(Exception):
                    if worker.task:
                        worker.proc.kill()
                    else:
                        worker.conn.send(None)
            for worker in self.pool:
                worker.proc.join(timeout=2)
                self._stop(worker)
        return self.scans

    def _assign(self) -> None:
        while self.pending:
            idle = next((w for w in self.pool if not w.task), None)
            if idle is None:
                if len(self.pool) >= self.workers:
                    return
                idle = self._spawn()
                self.pool.append(idle)
            files = self.pending.popleft()
            self.next_id += 1
            idle.task, idle.step, idle.since = (self.next_id, files), -1, time.monotonic()
            if idle.log is not None:
                with contextlib.suppress(OSError):
                    os.truncate(idle.log, 0)
            try:
                idle.conn.send(idle.task)
            except OSError:  # died between tasks: its replacement takes the chunk
                self.pending.appendleft(files)
                idle.task = None
                self._replace(idle)

    def _check(self, worker: _Worker) -> None:
        try:
            while worker.task and worker.conn.poll():
                kind, task_id, payload = worker.conn.recv()
                if task_id != worker.task[0]:
                    continue
                if kind == "step":
                    worker.step, worker.since = payload, time.monotonic()
                else:
                    self.scans.append(payload)
                    worker.task = None
                    if self.on_chunk:
                        self.on_chunk(len(self.scans))
        except (EOFError, OSError):
            pass
        if not worker.task:
            return
        if not worker.proc.is_alive():
            hint = log_hint(worker.log)
            self._lost(worker, lambda path, scoring: died_reason(path, worker.proc.exitcode,
                                                                 self.memory_mb, scoring, hint))
        elif time.monotonic() - worker.since > self.timeout_s:
            worker.proc.kill()
            worker.proc.join(timeout=5)
            self._lost(worker, lambda path, scoring: timeout_reason(path, self.timeout_s, scoring))

    def _lost(self, worker: _Worker, reason: Callable[[Path, bool], PerfevalError]) -> None:
        """The worker died or overran: blame the file it was on, requeue the rest, replace it."""
        _, files = worker.task
        step = worker.step
        worker.task = None
        if 0 <= step < len(files):
            self.scans.append(failed_scan(Path(files[step]), reason(Path(files[step]), False)))
            rest = [*files[:step], *files[step + 1:]]
            if rest:
                self.pending.appendleft(rest)
        elif len(files) > 1:  # while scoring (or before starting): find the file one by one
            self.pending.extendleft([f] for f in reversed(files))
        else:
            self.scans.append(failed_scan(Path(files[0]), reason(Path(files[0]), step >= 0)))
        self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        self._stop(worker)
        self.pool.remove(worker)


def scan_contained(chunks: Sequence[Sequence[str]], scheme: str | None, *, workers: int, ctx,
                   on_chunk: Callable[[int], None] | None = None, strict: bool = False,
                   log_dir: Path | None = None, keep_projects: bool = False) -> list[Scan]:
    """Scan every chunk in contained worker processes (at most `workers`, from context `ctx`);
    a file whose reader dies or overruns comes back as a failed entry. Scans in no fixed order.
    The workers' logs go to `log_dir` (a batch's private run folder; default: the temp folder)."""
    supervisor = _Supervisor(ctx, scheme, max(1, workers), memory_limit_mb(), time_limit_s(), on_chunk, strict,
                             log_dir, keep_projects)
    return supervisor.run(chunks)


# ----------------------------------------------------------------------------- Dask

def scan_in_subprocess(files: Sequence[str], scheme: str | None, strict: bool = False,
                       keep_projects: bool = False) -> Scan:
    """Scan one chunk in a fresh ``python -m perfeval.batch.contain`` (used on Dask workers)."""
    with tempfile.TemporaryDirectory(prefix="perfeval-scan-") as tmp:
        out = Path(tmp) / "scan.pickle"
        job = {"files": list(files), "scheme": scheme, "strict": strict, "out": str(out),
               "keep_projects": keep_projects}
        proc = subprocess.run([sys.executable, "-m", "perfeval.batch.contain"], check=False,
                              input=json.dumps(job, ensure_ascii=False), text=True, encoding="utf-8",
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if proc.returncode == 0 and out.is_file():
            with out.open("rb") as handle:
                return pickle.load(handle)
    from perfeval.batch.discover import merge_scans

    reason = f"扫描进程异常退出（退出码 {proc.returncode}）"
    return merge_scans([failed_scan(Path(f), f"{Path(f).name}：{reason}") for f in files])


def main() -> int:
    """Entry point of a Dask chunk: job JSON on stdin, the pickled Scan written to job["out"]."""
    import multiprocessing as mp

    from perfeval.batch.discover import merge_scans

    job = json.loads(sys.stdin.read())
    ctx = mp.get_context("forkserver")
    scans = scan_contained([job["files"]], job["scheme"], workers=1, ctx=ctx, strict=bool(job.get("strict")),
                           keep_projects=bool(job.get("keep_projects")))
    with open(job["out"], "wb") as handle:
        pickle.dump(merge_scans(scans), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
