"""Run the report notebook with papermill and read the report back from its outputs."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import tempfile
from pathlib import Path

from perfeval.errors import KernelUnavailable, PerfevalError
from perfeval.report.document import (
    Part,
    Provenance,
    ReportDoc,
    part_from_dict,
)
from perfeval.report.view import MIME
from perfeval.shipped import shipped_file

NOTEBOOK_NAME = "evaluation.ipynb"


def notebook_path() -> Path:
    """The parameterised report notebook: package data in a wheel install, else the checkout's
    `notebooks/evaluation.ipynb` (source tree or editable install)."""
    found = shipped_file(f"notebooks/{NOTEBOOK_NAME}")
    if found is None:
        raise PerfevalError(f"找不到报告笔记本 {NOTEBOOK_NAME}（应随 perfeval 安装）；请重新安装 perfeval")
    return found


class NotebookFailed(PerfevalError):
    """The report notebook stopped with an error (the executed notebook is kept for review), with
    papermill's fields (`PapermillExecutionError`): the failing cell's `cell_index` in the notebook and
    `exec_count` (the "In [n]" a reader sees), the error's `ename` and `evalue`; `notebook_path` is where
    the executed notebook was kept (None until it is)."""

    def __init__(self, cell_index: int, exec_count: int | None, ename: str, evalue: str,
                 notebook_path: Path | None = None):
        self.cell_index, self.exec_count, self.ename, self.evalue = cell_index, exec_count, ename, evalue
        self.notebook_path = notebook_path
        super().__init__(cell_index, exec_count, ename, evalue, notebook_path)

    @property
    def summary(self) -> str:
        """What failed, without where the executed notebook was kept."""
        return f"报告笔记本第 {self.exec_count} 个单元格执行出错：{self.ename}：{self.evalue}"

    def kept_at(self, notebook_path: Path) -> NotebookFailed:
        """The same failure, with the executed notebook kept at `notebook_path`."""
        return NotebookFailed(self.cell_index, self.exec_count, self.ename, self.evalue, notebook_path)

    def __str__(self) -> str:
        kept = f"（执行记录：{self.notebook_path}）" if self.notebook_path is not None else ""
        return self.summary + kept


def kernel_name_of(notebook: Path) -> str:
    """The kernel the notebook declares (its kernelspec), python3 if none."""
    try:
        meta = json.loads(notebook.read_text("utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return "python3"
    return str(meta.get("kernelspec", {}).get("name") or "python3")


def _shell_reply(client, msg_id: str, timeout: float) -> dict:
    """The execute reply to `msg_id`, read from the shell channel only. Waiting on iopub's idle
    status (as `execute_interactive` does) can miss it: a SUB socket connected just before the
    request may join after the kernel has published (ZeroMQ's slow joiner), and the wait then
    ends in "Timeout waiting for output" although the kernel did the work."""
    import time
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{timeout:g} 秒内没有回复")
        try:
            reply = client.get_shell_msg(timeout=left)
        except Empty:
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return reply


#: how long a new client waits for the next IOPub message while it looks for the idle status of its kernel-info
#: request, before it asks again (jupyter_client's own bound for its IOPub check)
IOPUB_WAIT_S = 0.2


@functools.cache
def _ready_client() -> type:
    """The kernel client class a report kernel hands out (made on first use, as `_client_tracking_manager`)."""
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """jupyter_client's client, whose `wait_for_ready` ends when the kernel has answered on both channels
        instead of after 0.2 s of IOPub quiet.

        jupyter_client's own (8.x) asks for the kernel's info until any IOPub message follows the reply, then
        drains IOPub until it has been quiet for 0.2 s. papermill makes a new client for every notebook, so every
        report in a batch waited those 0.2 s with both of its processes idle (≈ 8 % of a batch's time on 2
        cores). This one asks for the kernel's info until IOPub brings the kernel's idle status for that very
        request (the kernel publishes it after the reply, as the last message of the request; JEP 65's
        readiness check). Messages before it (ipykernel's `iopub_welcome`, an earlier request's) are read and
        dropped, as jupyter_client drains them; nothing of the request can follow it. When the idle status
        does not come within `IOPUB_WAIT_S` of the last message (published before this client's subscription
        reached the kernel: ZeroMQ's slow joiner, seen on a kernel's first client under load), it asks again."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            import time

            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                request = self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                answered = reply is not None and reply["msg_type"] == "kernel_info_reply"
                if answered and await self._idle_after(request):
                    self._handle_kernel_info_reply(reply)
                    return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

        async def _idle_after(self, request: str) -> bool:
            """Read IOPub up to the kernel's idle status for `request` (True), or until it is quiet for
            `IOPUB_WAIT_S` (False)."""
            while True:
                try:
                    msg = await self.iopub_channel.get_msg(timeout=IOPUB_WAIT_S)
                except Empty:
                    return False
                if _is_idle_after(msg, request):
                    return True

    return ReadyClient


def _is_idle_after(msg: dict, request: str) -> bool:
    """Whether `msg` is the kernel's IOPub idle status for the request `request` (the last it publishes for it)."""
    return (msg.get("msg_type") == "status" and msg.get("content", {}).get("execution_state") == "idle"
            and msg.get("parent_header", {}).get("msg_id") == request)


@functools.cache
def _client_tracking_manager() -> type:
    """The kernel manager class (made on first use: jupyter_client is imported only when a report runs)."""
    from jupyter_client.manager import AsyncKernelManager

    class ClientTrackingManager(AsyncKernelManager):
        """A kernel manager that remembers the clients it hands out. papermill (nbclient) never stops the
        channels of a client made from a kernel manager it does not own, so each notebook run on a kept
        kernel left its heartbeat thread and sockets behind (3 threads and 14 file descriptors per report,
        about 6 MB per report in a long-lived batch worker)."""

        def __init__(self, **kwargs) -> None:
            super().__init__(client_factory=_ready_client(), **kwargs)
            self._handed_out: list = []

        def client(self, **kwargs):
            made = super().client(**kwargs)
            self._handed_out.append(made)
            return made

        def close_clients(self) -> None:
            while self._handed_out:
                made = self._handed_out.pop()
                with contextlib.suppress(Exception):
                    made.stop_channels()

    return ClientTrackingManager


#: what `Kernel.prepare` runs in the kernel: IPython's own reset (`InteractiveShell.reset`: every user variable
#: and cached output gone, a new history session, counts from 1 — without a new session IPython prints "ERROR!
#: Session/line number was not unique in database" into the next notebook's first output), without the two full
#: `gc.collect()` passes `%reset -f` adds (its output-cache flush and the magic itself): about 70 ms each in a
#: kernel holding pandas and matplotlib, a sixth of a warm kernel's work per report. One collection remains, after
#: which what survived (modules, caches) is frozen (`gc.freeze`), so this and every later collection walks only
#: what the last project made.
RESET_CODE = """\
def _perfeval_reset(shell, cwd):
    import os
    os.chdir(cwd)
    hook = shell.displayhook
    full, hook.do_full_cache = hook.do_full_cache, False
    try:
        shell.reset(new_session=True)  # the namespace cleared: this function's own name goes with it
    finally:
        hook.do_full_cache = full
        hook._ = hook.__ = hook.___ = ""
    import gc
    gc.collect()  # the earlier project's garbage (only what is not frozen yet: a few ms once warm)
    gc.freeze()  # the rest is modules and caches: later collections no longer walk them
_perfeval_reset(get_ipython(), {cwd!r})
"""


#: what `Kernel.warm_up` runs in a kernel started ahead of its first notebook (a batch's job process does this
#: while the batch still reads its sheets): the modules the report notebook imports, and one small chart drawn
#: and thrown away (`perfeval.report.charts.warm_up`: matplotlib's backend and the CJK face), so the first
#: project's notebook runs as fast as the later ones. Nothing is left in the namespace (and `prepare` resets
#: it before every notebook anyway); what was loaded is frozen out of the collector's sight, as after a reset.
WARM_CODE = """\
def _perfeval_warm():
    import perfeval  # noqa: F401  (load_project, evaluate)
    from IPython.display import display  # noqa: F401
    from perfeval.report import compose, snapshot, view  # noqa: F401
    from perfeval.report.charts import warm_up
    warm_up()
    import gc
    gc.collect()
    gc.freeze()
_perfeval_warm()
del _perfeval_warm
"""


def _run_silently(kernel_name: str, km, code: str, timeout: float, what: str) -> None:
    """Run `code` in the kernel behind `km` (silent, not in its history), waiting for the reply on the shell
    channel only (`_shell_reply`). Raises `PerfevalError` (`what` says what failed) when the kernel does not
    answer or the code fails."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        reply = _shell_reply(client, client.execute(code, silent=True, store_history=False), timeout)
    except Exception as exc:
        raise PerfevalError(f"Jupyter 内核「{kernel_name}」{what}：{type(exc).__name__}：{exc}") from None
    finally:
        client.stop_channels()
    if reply["content"].get("status") != "ok":
        raise PerfevalError(f"Jupyter 内核「{kernel_name}」{what}：{reply['content'].get('evalue', '')}")


class Kernel:
    """A Jupyter kernel started before papermill needs it, so the kernel boots while this
    process imports papermill and validates the sheet. It talks over local IPC sockets in a
    private temporary folder (no TCP port is opened) and is shut down on exit."""

    def __init__(self, name: str):
        self.name = name
        self.km = None
        self._sockets: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Kernel:
        from jupyter_core.utils import run_sync

        self._sockets = tempfile.TemporaryDirectory(prefix="perfeval-kernel-")
        self.km = _client_tracking_manager()(kernel_name=self.name, transport="ipc",
                                             ip=str(Path(self._sockets.name) / "k"))
        try:
            # history in memory: a batch's kernels neither write the user's IPython history nor wait on its lock
            run_sync(self.km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"])
        except Exception as exc:
            self._sockets.cleanup()
            raise KernelUnavailable(self.name, str(exc)) from None
        return self

    def prepare(self, cwd: Path, timeout: float = 60.0) -> None:
        """Make the kernel as a fresh one for the next notebook: an empty namespace (IPython's reset, see
        `RESET_CODE`: no variable of an earlier project survives), execution counts from 1 again, and `cwd`
        (the folder the executed notebook is written to) as its working directory. Imported modules stay
        loaded (that is what keeps the kernel warm). Raises `PerfevalError` when the kernel does not answer."""
        _run_silently(self.name, self.km, RESET_CODE.format(cwd=str(cwd)), timeout, "无法重置")

    def warm_up(self, timeout: float = 120.0) -> None:
        """Load what the report notebook uses into this kernel before its first notebook (`WARM_CODE`).
        Raises `PerfevalError` when the kernel does not answer or the warm-up fails."""
        _run_silently(self.name, self.km, WARM_CODE, timeout, "预热失败")

    def close_clients(self) -> None:
        """Stop the channels of every client papermill made on this kernel (see `_ClientTrackingManager`)."""
        if self.km is not None:
            self.km.close_clients()

    @property
    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and self.km.has_kernel and bool(run_sync(self.km.is_alive)())

    def __exit__(self, *exc_info) -> None:
        from jupyter_core.utils import run_sync

        try:
            if self.km is not None and self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
        finally:
            if self._sockets is not None:
                self._sockets.cleanup()


def execute(parameters: dict, output_path: Path, notebook: Path | None = None,
            timeout: float | None = None, kernel: Kernel | None = None,
            cwd: Path | None = None):
    """Execute the notebook with `parameters` (papermill) in `kernel` (or a fresh one); the
    executed notebook is written to `output_path` (also when a cell fails, with papermill's
    error banner) and returned."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = notebook or notebook_path()
    if kernel is None:
        with Kernel(kernel_name_of(source)) as fresh:
            return execute(parameters, output_path, source, timeout, fresh, cwd)
    try:
        return papermill.execute_notebook(
            str(source), str(output_path), parameters=parameters, kernel_name=kernel.name,
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, cwd=str(cwd) if cwd else None, km=kernel.km,
        )
    except PapermillExecutionError as exc:
        raise NotebookFailed(exc.cell_index, exc.exec_count, exc.ename, exc.evalue) from None
    finally:
        kernel.close_clients()


def read_report(nb) -> tuple[ReportDoc, dict[str, bytes]]:
    """The report and chart PNGs as the executed notebook shows them, in output order."""
    title, facts, provenance = "", (), None
    parts: list[Part] = []
    images: dict[str, bytes] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", ()):
            payload = output.get("data", {}).get(MIME)
            if not payload:
                continue
            kind = payload["kind"]
            if kind == "cover":
                title = payload["title"]
                facts = tuple(tuple(f) for f in payload["facts"])
                parts.append(part_from_dict(payload["part"]))
            elif kind == "part":
                parts.append(part_from_dict(payload["part"]))
                images.update({k: base64.b64decode(v) for k, v in payload["images"].items()})
            elif kind == "provenance":
                provenance = Provenance(**payload["provenance"])
    if provenance is None or not title:
        raise PerfevalError("报告笔记本没有输出完整的报告（缺少封面或生成信息单元格）")
    return ReportDoc(title, facts, tuple(parts), provenance), images
