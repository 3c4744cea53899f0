"""What a batch remembers between runs, and how it writes without ever leaving half a file.

* Every finished project folder ``DIR/<年度>/<项目编号>/`` carries a record (`RECORD_NAME`) with
  the fingerprint of what produced it (project content, the scheme's content, perfeval version, notebook,
  formats, parameters) and the size of each output. A rerun skips the project when the
  fingerprint is unchanged and every output is still there.
* A project folder is built in a staging folder under ``DIR/.perfeval/staging`` and renamed into
  place only when complete — the rename is the commit point, so an interrupted batch never
  leaves a partial report where a reader looks. Stale staging folders are removed by the next run.
* Failures whose cause is in the input (an invalid sheet, a failing cell) are remembered in
  ``DIR/.perfeval/failures.json`` with their fingerprint, so a rerun does not redo them either;
  timeouts and dead workers are retried.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from perfeval.atomic import write_bytes_atomic
from perfeval.batch.status import CACHEABLE_STAGES as _CACHEABLE_STAGES
from perfeval.errors import PerfevalError

RECORD_NAME = ".perfeval.json"
STATE_DIR = ".perfeval"
FAILURES_NAME = "failures.json"
#: failure stages that depend only on the input, so a rerun with the same fingerprint is skipped
CACHEABLE_STAGES = _CACHEABLE_STAGES


def write_json_atomic(path: Path, data: object) -> Path:
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- fingerprints

def _frame_digest(frame: pd.DataFrame) -> str:
    """Content hash of a small frame: column names and every value's repr, in row order."""
    text = repr((list(frame.columns), frame.to_numpy(dtype=object).tolist()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def project_digest(project) -> str:
    """A hash of everything a report is computed from (independent of where the file lives,
    apart from its name, which the report shows). The scheme is not in it: a batch fingerprint
    adds the hash of the scheme's content (`scheme_digest`), wherever its file is."""
    head = {
        "id": project.id, "name": project.name, "department": project.department,
        "unit": project.unit, "year": project.year, "method": project.method,
        "budget": project.budget, "allocated": project.allocated,
        "spent": project.spent, "funding": project.funding, "narrative": project.narrative,
        "info": project.info, "file": project.source.name if project.source else None,
        "indicators": _frame_digest(project.indicators), "stated": _frame_digest(project.stated),
    }
    return fingerprint(head)


def scheme_digest(scheme) -> str:
    """A hash of a scheme's content (levels, weights, grade bands, scoring options, keywords …),
    not of its id or where its file lives: editing a scheme file changes it, moving it does not."""
    from dataclasses import replace

    return fingerprint({"scheme": repr(replace(scheme, source=""))})


def fingerprint(parts: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True,
                                     default=str).encode()).hexdigest()


# ----------------------------------------------------------------------------- folder names

#: a folder name longer than this (UTF-8 bytes) is shortened (a file name may have 255 bytes; the
#: staging name and the files inside add to it)
MAX_FOLDER_BYTES = 120


def _shorten(stem: str, limit: int) -> str:
    data = stem.encode("utf-8")
    return stem if len(data) <= limit else data[:limit].decode("utf-8", "ignore").rstrip(" .")


def folder_names(keys: Iterable[str]) -> dict[str, str]:
    """Each 项目编号 → the name of its report folder, never the same (nor the same but for case,
    which Windows and macOS do not tell apart) for two different ids.

    An id that is a safe file name is its own folder name. One that is not (characters a file
    name cannot hold, ``..``, a reserved name such as CON, too long), or that differs from another
    only in case, gets `file_stem`'s spelling plus a short hash of the id: deterministic (the
    same id gets the same folder in every run) and distinct for distinct ids."""
    from perfeval.report.build import file_stem

    keys = list(dict.fromkeys(keys))
    stems = {key: file_stem(key) for key in keys}
    folds = Counter(key.casefold() for key in keys if stems[key] == key)  # case twins among safe ids
    names: dict[str, str] = {}
    for key in keys:
        stem = stems[key]
        if stem != key or folds[key.casefold()] > 1 or len(stem.encode("utf-8")) > MAX_FOLDER_BYTES:
            digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
            stem = f"{_shorten(stem, MAX_FOLDER_BYTES)}-{digest[:8]}"
        names[key] = stem
    for width in (16, 64):  # a hashed name that happens to equal another id's: widen the hash
        clash = Counter(name.casefold() for name in names.values())
        if all(n == 1 for n in clash.values()):
            break
        for key, name in names.items():
            if clash[name.casefold()] > 1 and name != key:
                digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
                names[key] = f"{_shorten(stems[key], MAX_FOLDER_BYTES)}-{digest[:width]}"
    return names


# ----------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Layout:
    """Where a batch writes under its output folder."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @property
    def staging(self) -> Path:
        return self.state / "staging"

    @property
    def failures_file(self) -> Path:
        return self.state / FAILURES_NAME

    @property
    def failed_notebooks(self) -> Path:
        return self.root / "失败项目"

    def project_dir(self, year: int | None, stem: str) -> Path:
        return self.root / (str(year) if year else "未知年度") / stem


def read_record(folder: Path) -> dict | None:
    return read_json(folder / RECORD_NAME)


def record_is_current(folder: Path, wanted: str) -> bool:
    """True when `folder` holds a complete build with fingerprint `wanted`."""
    record = read_record(folder)
    if not record or record.get("fingerprint") != wanted:
        return False
    for item in record.get("outputs", {}).values():
        path = folder / item["file"]
        try:
            if path.stat().st_size != item["size"]:
                return False
        except OSError:
            return False
    return True


def commit_folder(staging: Path, final: Path, trash_root: Path) -> None:
    """Move a complete staging folder to `final`, replacing whatever was there.

    Each step is a rename; a crash between them leaves `final` absent (rebuilt next run),
    never partial."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        trash_root.mkdir(parents=True, exist_ok=True)
        old = trash_root / f"old-{uuid.uuid4().hex}"
        os.rename(final, old)
    os.rename(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- failures cache

def read_failures(layout: Layout) -> dict[str, dict]:
    data = read_json(layout.failures_file)
    return data if isinstance(data, dict) else {}


def write_failures(layout: Layout, failures: Mapping[str, dict]) -> None:
    write_json_atomic(layout.failures_file, dict(failures))


# ----------------------------------------------------------------------------- run temp folder

def run_temp_dir(layout: Layout) -> Path:
    """The private temporary folder of batches into `layout.root`: every job's working folder,
    kernel sockets and connection files (with their keys) and logs live below it. Its name depends
    only on the output folder, so the next run (holding the same lock) removes what a killed run
    left; it is short, because kernel sockets below it must fit a Unix socket path."""
    digest = hashlib.sha256(str(layout.root).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"perfeval-run-{digest}"


def fresh_run_temp_dir(layout: Layout) -> Path:
    """`run_temp_dir`, empty (what a killed run left is removed) and private to this user.
    Call it while holding `exclusive_run`, which removes the folder again when the run ends."""
    folder = run_temp_dir(layout)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    return folder


# ----------------------------------------------------------------------------- run lock

@contextlib.contextmanager
def exclusive_run(layout: Layout) -> Iterator[None]:
    """Hold the output folder for one batch at a time; clear what a killed run left behind, and
    the run's temporary folder (`run_temp_dir`) when it ends."""
    layout.state.mkdir(parents=True, exist_ok=True)
    handle = (layout.state / "lock").open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PerfevalError(f"另一个 perfeval batch 正在写入 {layout.root}；请等它结束后再运行") from None
        clear_leftovers(layout)
        try:
            yield
        finally:
            shutil.rmtree(run_temp_dir(layout), ignore_errors=True)
    finally:
        handle.close()


def clear_leftovers(layout: Layout) -> int:
    """Remove staging folders and temporary files an interrupted run left; returns how many."""
    removed = 0
    for folder in (layout.staging, layout.state / "trash"):
        if folder.exists():
            removed += sum(1 for _ in folder.iterdir())
            shutil.rmtree(folder, ignore_errors=True)
    for tmp in layout.root.rglob(".*.tmp*"):
        if STATE_DIR not in tmp.relative_to(layout.root).parts[:1] and tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed
