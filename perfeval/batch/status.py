"""What became of a project in a batch (`Status`), where a failure happened (`Stage`), what the summary
shows (`Shown`) and what a report job reports back to the batch (`JobStatus`).

The values are the Chinese words manifests, failures.json, summary.xlsx and the console have always written;
the enums are `str` subclasses, so ``Status.FAILED == "失败"``, JSON writes ``"失败"`` and a value read back
from a manifest compares equal to its member (``Status("失败") is Status.FAILED``).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A project's outcome in this run."""

    BUILT = "已生成"        # reports written in this run
    CURRENT = "已是最新"    # reports of an earlier run still match the input: skipped
    FAILED = "失败"
    SCORED = "仅评分"       # --format none: scored, no report asked for


class Stage(StrEnum):
    """Where a project failed."""

    VALIDATE = "校验"       # the sheet has located problems
    READ = "读取"           # the contained reader died or ran out of time or memory
    DUPLICATE = "重复"      # the same 项目编号 twice
    NOTEBOOK = "笔记本"     # a cell of the report notebook failed
    TIMEOUT = "超时"
    PROCESS = "进程"        # the worker process died
    RENDER = "生成"         # exporting the report failed


class JobStatus(StrEnum):
    """A report job's outcome as the job process sends it to the supervisor (an internal marker, never
    shown; JSON from a Dask job process carries the same words)."""

    OK = "ok"
    FAILED = "failed"


class Shown(StrEnum):
    """The state of a project's reports as summary.xlsx and index.html show it (not what this run did, so a
    rerun over unchanged inputs leaves the summary unchanged but for its run time)."""

    OK = "成功"
    FAILED = "失败"
    SCORED = "仅评分"


#: this run's status -> what the summary shows
SHOWN_STATUS = {Status.BUILT: Shown.OK, Status.CURRENT: Shown.OK, Status.FAILED: Shown.FAILED,
                Status.SCORED: Shown.SCORED}
#: failure stages that depend only on the input, so a rerun with the same fingerprint is skipped
CACHEABLE_STAGES = frozenset({Stage.NOTEBOOK})


def shown(status: str) -> str:
    """What the summary shows for a project's `status` (an unknown status as written)."""
    try:
        return SHOWN_STATUS[Status(status)]
    except ValueError:
        return status
