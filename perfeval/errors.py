"""Located input problems.

Every problem found in an input names the file, sheet, row, column and value, and says
what was expected, so an evaluator can go straight to the cell in Excel.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

#: problem codes of a table that can still be read and scored as written: `load_project` keeps the
#: project and carries these as error findings (`Project.sheet_findings`); `strict=True` refuses instead
AUDITABLE_CODES = frozenset({
    "weights",              # the items' weights do not add up to the scheme's total
    "level_weight",         # a 一级指标 header declares a weight its items do not add up to
    "duplicate_indicator",  # the same indicator row appears twice
})


@dataclass(frozen=True)
class Problem:
    """One problem in an input file (all user-facing text is Chinese).

    `code` is machine-readable (e.g. "weights", "duplicate_indicator"; "" for most reading problems).
    `severity` is "error" for a problem; a reader's note about how it read a table ("warning"/"info", e.g. the
    table's own indicator system was used) never refuses the table and travels with the project's findings."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    expected: str
    code: str = ""
    severity: str = "error"

    @property
    def auditable(self) -> bool:
        """True when the table can still be scored as written (the problem becomes a finding)."""
        return self.code in AUDITABLE_CODES or self.severity != "error"

    @property
    def location(self) -> str:
        return " ".join([Path(self.file).name, *self._places()])

    @property
    def place(self) -> str:
        """The location inside the file (sheet, row, column), without the file name."""
        return " ".join(self._places())

    def _places(self) -> list[str]:
        parts: list[str] = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列「{self.column}」")
        return parts

    def __str__(self) -> str:
        shown = "" if self.value in (None, "") else f"：值「{self.value}」"
        return f"{self.location}{shown}——{self.expected}"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "auditable": self.auditable}


class PerfevalError(Exception):
    """Base class for errors perfeval reports to users without a traceback."""


class SheetError(PerfevalError):
    """An input could not be turned into a valid project; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SchemeError(PerfevalError):
    """A scheme file is missing or malformed."""


class KernelUnavailable(PerfevalError):
    """A Jupyter kernel could not be started: which kernel (`kernel_name`) and why (`reason`, the
    underlying error's text)."""

    def __init__(self, kernel_name: str, reason: str):
        self.kernel_name, self.reason = kernel_name, reason
        super().__init__(kernel_name, reason)

    def __str__(self) -> str:
        return f"无法启动 Jupyter 内核「{self.kernel_name}」：{self.reason}"


class JobTimeout(PerfevalError):
    """A batch job ran past its time limit (`seconds`) and was stopped after `elapsed` seconds."""

    def __init__(self, seconds: float, elapsed: float):
        self.seconds, self.elapsed = seconds, elapsed
        super().__init__(seconds, elapsed)

    def __str__(self) -> str:
        return f"超过时限 {self.seconds:g} 秒（已运行 {self.elapsed:.1f} 秒），已终止"


class CellTimeout(PerfevalError):
    """A notebook cell ran past the per-cell limit (`seconds`, as the job gave it); `detail` is the
    notebook client's own message."""

    def __init__(self, seconds: float | None, detail: str):
        self.seconds, self.detail = seconds, detail
        super().__init__(seconds, detail)

    def __str__(self) -> str:
        return f"单元格执行超过 {self.seconds} 秒：{self.detail}"


class WorkerDied(PerfevalError):
    """A batch job's process ended without an outcome: `exitcode` as multiprocessing reports it
    (negative: killed by signal ``-exitcode``; None: unknown)."""

    def __init__(self, exitcode: int | None):
        self.exitcode = exitcode
        super().__init__(exitcode)

    @property
    def signal(self) -> int | None:
        """The signal that killed the process, if one did."""
        return -self.exitcode if self.exitcode is not None and self.exitcode < 0 else None

    def __str__(self) -> str:
        how = f"被信号 {self.signal} 终止" if self.signal is not None else f"退出码 {self.exitcode}"
        return f"生成该项目报告的工作进程意外退出（{how}），未留下结果"


class TaskLost(PerfevalError):
    """A job's Dask task failed as a task (its worker was lost, it was cancelled …): the error's type
    name (`kind`) and text (`detail`)."""

    def __init__(self, kind: str, detail: str):
        self.kind, self.detail = kind, detail
        super().__init__(kind, detail)

    def __str__(self) -> str:
        return f"Dask 任务失败（{self.kind}：{self.detail}）"


class ReaderDied(PerfevalError):
    """The process reading an input file (`path`) ended without a result: `exitcode` as
    multiprocessing reports it (negative: killed by signal ``-exitcode``), the address-space limit it
    ran under (`memory_mb`), whether it was scoring rather than reading (`scoring`) and the telling
    line of its stderr (`hint`)."""

    def __init__(self, path: str, exitcode: int | None, memory_mb: int, scoring: bool = False, hint: str = ""):
        self.path, self.exitcode, self.memory_mb, self.scoring, self.hint = path, exitcode, memory_mb, scoring, hint
        super().__init__(path, exitcode, memory_mb, scoring, hint)

    @property
    def signal(self) -> int | None:
        """The signal that killed the reader, if one did."""
        return -self.exitcode if self.exitcode is not None and self.exitcode < 0 else None

    def __str__(self) -> str:
        if self.signal is not None:
            try:
                name = f"，{signal.Signals(self.signal).name}"
            except ValueError:
                name = ""
            how = f"信号 {self.signal}{name}"
        else:
            how = f"退出码 {self.exitcode}"
        doing = "评分" if self.scoring else "读取文件"
        said = f"\n进程最后的输出：{self.hint}" if self.hint else ""
        return (f"{Path(self.path).name}：{doing}时进程异常退出（{how}），未留下结果；文件可能已损坏，"
                f"或读取它需要的内存超过上限（{self.memory_mb} MB）。其他文件不受影响{said}")


class ReaderTimeout(PerfevalError):
    """Reading (or scoring) an input file (`path`) ran past the per-file limit (`seconds`)."""

    def __init__(self, path: str, seconds: float, scoring: bool = False):
        self.path, self.seconds, self.scoring = path, seconds, scoring
        super().__init__(path, seconds, scoring)

    def __str__(self) -> str:
        doing = "评分" if self.scoring else "读取"
        return (f"{Path(self.path).name}：{doing}超时（超过 {self.seconds:g} 秒），已终止；文件可能过大或已损坏。"
                "其他文件不受影响")

