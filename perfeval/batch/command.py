"""`perfeval batch INPUT... --out DIR`: the CLI plugin (registered through `perfeval.cli.PLUGINS`)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
import time
from pathlib import Path

from perfeval.batch.pipeline import default_workers
from perfeval.batch.status import JobStatus, Status
from perfeval.sheets.info import visible_id

DEFAULT_TIMEOUT_S = 900.0


#: without a terminal, a progress line at least every this many seconds …
PROGRESS_EVERY_S = 10.0
#: … and after every this many projects (at most 20 lines for a large batch)
PROGRESS_LINES = 20


def _eta(done: int, total: int, elapsed: float) -> str:
    if done == 0 or done >= total:
        return "—"
    return _duration(elapsed / done * (total - done))


def progress_line(done: int, failed: int, total: int, elapsed: float) -> str:
    """One plain progress line: finished / total, failed, elapsed and the estimated time left."""
    return (f"进度：{done + failed}/{total}（成功 {done} · 失败 {failed}）"
            f"，已用 {_duration(elapsed)}，预计剩余 {_eta(done + failed, total, elapsed)}")


class Progress:
    """A tqdm bar (done / failed, ETA) on a terminal; without one (a log, nohup, CI) a plain line
    every `every` projects or every `interval` seconds. One line per failure either way.

    A closed stream (``perfeval batch … | head -1``) never stops the batch: writing stops, the
    batch goes on."""

    def __init__(self, stream=None, interval: float = PROGRESS_EVERY_S, every: int | None = None,
                 clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.bar = None
        self.done = self.failed = self.total = 0
        self.interval, self.every, self.clock = interval, every, clock
        self.started = self.last = clock()
        self.closed = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _is_terminal(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def planned(self, jobs: int, settled: list) -> None:
        for status in settled:
            if status.status == Status.FAILED:
                note = "（沿用上次结果）" if status.cached else ""
                self._line(f"✗ {status.entry.key}（{status.stage}）：{status.reason.splitlines()[0]}{note}")
        if jobs == 0:
            return
        self.total = jobs
        self.started = self.last = self.clock()
        if not self._is_terminal():
            self.every = self.every or max(1, -(-jobs // PROGRESS_LINES))
            self._line(f"开始生成 {jobs} 个项目的报告")
            self._ticker = threading.Thread(target=self._tick, name="perfeval-progress", daemon=True)
            self._ticker.start()
            return
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread
        self.bar = tqdm(total=jobs, desc="生成报告", unit="个", file=self.stream, dynamic_ncols=True,
                        mininterval=0.5,
                        bar_format="{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}")
        self.bar.set_postfix_str("完成 0 · 失败 0")

    def _tick(self) -> None:
        while not self._stop.wait(min(1.0, self.interval)):
            with self._lock:
                if self.clock() - self.last >= self.interval:
                    self._report()

    def _report(self) -> None:
        self.last = self.clock()
        self._line(progress_line(self.done, self.failed, self.total, self.last - self.started))

    def outcome(self, outcome: dict) -> None:
        with self._lock:
            if outcome["status"] == JobStatus.OK:
                self.done += 1
            else:
                self.failed += 1
                first = (outcome.get("reason") or "").splitlines()[0] if outcome.get("reason") else ""
                self._line(f"✗ {outcome['key']}（{outcome.get('stage', '')}）：{first}")
            if self.bar is not None:
                with contextlib.suppress(OSError, ValueError):
                    self.bar.set_postfix_str(f"完成 {self.done} · 失败 {self.failed}", refresh=False)
                    self.bar.update(1)
            elif self.every and ((self.done + self.failed) % self.every == 0
                                 or self.done + self.failed == self.total):
                self._report()

    def _line(self, line: str) -> None:
        if self.closed:
            return
        try:
            if self.bar is not None:
                self.bar.write(line, file=self.stream)
            else:
                self.stream.write(line + "\n")
                self.stream.flush()
        except (OSError, ValueError):  # EPIPE: the reader went away; the batch carries on
            self.closed = True
            _silence(self.stream)  # what is still buffered would fail every later flush

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        if self.bar is not None:
            with contextlib.suppress(OSError, ValueError):
                self.bar.close()


class _ForkserverStop:
    """Passes each outcome on to `progress`; after the last one (no job process is needed any more: the command
    runs one batch) stops the forkserver in a thread (`runner.stop_forkserver`), so that it unloads the report
    stack while the summary is written rather than after this process has finished."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.thread: threading.Thread | None = None

    def outcome(self, outcome: dict) -> None:
        self.progress.outcome(outcome)
        if self.thread is None and self.progress.done + self.progress.failed >= self.progress.total:
            from perfeval.batch.runner import stop_forkserver

            self.thread = threading.Thread(target=stop_forkserver, name="perfeval-forkserver-stop")
            self.thread.start()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=10)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为正数（秒）：{text}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"应为正数（秒）：{text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from perfeval.cli import example

    p = subparsers.add_parser(
        "batch", help="批量评价：一批指标表 → 每个项目的报告 + 汇总（index.html、summary.xlsx）",
        description="批量评价项目组合。输入可以是指标表文件、文件夹（含子文件夹）或项目组合工作簿（每行一个项目）。\n"
                    "报告写入 DIR/<年度>/<项目编号>/（与 perfeval report 相同），汇总写入 DIR/index.html 和 "
                    "DIR/summary.xlsx。\n"
                    "重新运行只处理输入有变化或缺少报告的项目。\n"
                    "退出码：0 全部成功，1 有项目失败，2 参数或输入错误。",
        epilog=example("perfeval batch data/reference/AKT2022-001.xlsx data/synthetic --out reports",
                       "perfeval batch 指标表/ --out 汇总 --format none",
                       "perfeval batch 指标表/ --out reports --workers 4 --timeout 600",
                       "perfeval batch 指标表/ --out /共享/reports --scheduler tcp://10.0.0.5:8786"))
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=".xlsx/.csv 指标表、文件夹或项目组合工作簿")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p.add_argument("--format", default="html,pdf,docx", metavar="FORMATS",
                   help="报告格式，逗号分隔：html、pdf、docx（默认全部）；none 只评分并生成汇总")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help=f"本机并行进程数（默认可用 CPU 核数：{default_workers()}）")
    p.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"单个项目的时限（秒，默认 {DEFAULT_TIMEOUT_S:g}）；超时的项目记为失败")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="在 Dask 分布式集群上运行，如 tcp://127.0.0.1:8786（输出文件夹须对各节点可见）")
    p.add_argument("--force", action="store_true", help="忽略上次结果，全部重新生成")
    p.add_argument("--scheme", help="评价方案：third_party、self 或 .toml 文件（默认按表内评价方式）")
    from perfeval.report.command import KERNEL_HELP

    p.add_argument("--kernel", metavar="NAME", help=KERNEL_HELP)
    p.add_argument("--docx-template", metavar="FILE",
                   help="Word 报告所用的机构模板（.docx 或 .dotx）：沿用其样式、页眉页脚，正文内容作封面")
    from perfeval.cli import add_strict

    add_strict(p)
    p.set_defaults(func=run)


def _formats(text: str) -> tuple[str, ...]:
    if text.strip().lower() in ("none", ""):
        return ()
    from perfeval.report.build import parse_formats

    return parse_formats(text)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} 分 {secs} 秒" if minutes else f"{seconds:.1f} 秒"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _say(text: str, stream=None) -> None:
    """Print a line; a closed stdout (``| head -1``) is ignored and silenced, never an exit 0."""
    stream = stream or sys.stdout
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        _silence(stream)


def _silence(stream) -> None:
    """Point a stream whose reader went away at /dev/null, so that flushing at exit stays quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full_message(exc: OSError) -> str:
    where = f"（{exc.filename}）" if exc.filename else ""
    return (f"perfeval：磁盘空间不足，无法继续写入{where}：{exc.strerror or exc}。批量运行已停止："
            f"已完成的报告完整保留，未写完的文件已删除。腾出空间后重新运行同一命令即可继续")


def scheduler_address(text: str | None) -> str | None:
    """The --scheduler address checked before any work (a Chinese error for a wrong scheme)."""
    if not text:
        return None
    from perfeval.batch.runner import check_scheduler_address

    return check_scheduler_address(text)


def run(args: argparse.Namespace) -> int:
    from perfeval.batch.pipeline import run_batch

    formats = _formats(args.format)
    scheduler = scheduler_address(args.scheduler)
    progress = Progress()
    stopping = _ForkserverStop(progress)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly, like Ctrl-C
    try:
        result = run_batch(args.inputs, args.out, formats=formats, workers=args.workers,
                           timeout=args.timeout, scheduler=scheduler, force=args.force,
                           scheme=args.scheme, kernel_name=args.kernel, strict=args.strict,
                           docx_template=args.docx_template,
                           on_planned=progress.planned, on_outcome=stopping.outcome)
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        _say(disk_full_message(exc), sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        progress.close()
        stopping.join()
    counts: dict[str, int] = {}
    for status in result.statuses:
        counts[status.status] = counts.get(status.status, 0) + 1
    parts = [f"{label} {counts[label]} 个" for label in (Status.BUILT, Status.CURRENT, Status.SCORED, Status.FAILED)
             if counts.get(label)]
    mark = "✗" if result.failed else "✓"
    _say(f"{mark} {len(result.statuses)} 个项目：{'，'.join(parts)}（用时 {_duration(result.elapsed)}）")
    for key, name in result.renamed.items():
        _say(f"  注意：项目编号「{visible_id(key)}」不能原样用作文件夹名（含文件名不允许的字符、为系统保留名，"
             f"或与其他编号仅大小写不同），其报告在文件夹「{name}」")
    root = Path(args.out)
    _say(f"  汇总：{root / 'index.html'}　{root / 'summary.xlsx'}")
    if result.failed:
        _say("  失败原因见 summary.xlsx「失败项目」工作表；修正后重新运行同一命令即可只处理这些项目")
    return result.exit_code
