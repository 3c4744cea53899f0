"""Reading many files on several cores: contiguous chunks of files read and validated in worker processes, the
results put back in file order, identical to reading them one after another.

Each chunk is what `load._read_files` would read in one go (the one-project workbooks of a chunk are still checked
together in one vectorised pass). A worker's projects cross the process boundary packed: a worker reads with its
sheets' checked rows kept whole (`cells.keeping_rows_whole`), so each sheet travels as the one frame it was checked
as, with each project's run of rows, and is cut into one frame per project in the parent (pickling tens of thousands
of small DataFrames costs more than reading them, and cutting them in the worker only to join them again for the
trip costs a third of reading). The parent's collector is paused while the results arrive.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.sheets.cells import RowRun, collection_paused, is_consolidated, keeping_rows_whole, row_runs

#: below this many bytes of input in all, reading stays in this process (a pool costs ~0.1–0.3 s to start)
MIN_PARALLEL_BYTES = 1 << 20
#: chunks per worker (several, so a worker that drew the larger files does not leave the others idle)
CHUNKS_PER_WORKER = 4
#: the Project frames packed for the trip back
_PACKED = ("indicators", "stated")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """The cores free for this process and its workers: the cores less the other runnable work (the 1-minute load
    average, this process counted as one of ours). Another worker on a busy machine only adds the pool's cost:
    under contention the processes of one session share one slice of the machine."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available: assume the machine is ours
        load = 0.0
    return max(1, min(cores(), int(cores() - max(load - 1.0, 0.0) + 0.5)))


def pool_size(workers: int | None, files: Sequence[Path], scheme: object) -> int:
    """How many processes read `files`: `workers` when given (1 = in this process), else one per idle core
    (`idle_cores`) when there are several files and enough bytes to be worth a pool; 1 when this process cannot
    fork safely (`_can_fork`) or `scheme` cannot be sent to a worker."""
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        count = min(workers, len(files))
    else:
        if len(files) < 2 or _total_bytes(files) < MIN_PARALLEL_BYTES:
            return 1
        count = min(idle_cores(), len(files))
    if count > 1 and not (_can_fork() and _picklable(scheme)):
        return 1
    return max(count, 1)


def _can_fork() -> bool:
    """Workers are forked from this process (fast: they start with everything imported), which is safe only while
    it runs a single thread: forking a threaded process can deadlock, and the other start methods run the main
    script again in each worker (a script without an ``if __name__ == "__main__"`` guard would start over).
    A threaded process (a Jupyter kernel, a GUI) or a daemonic one (a batch's scan worker) reads in one
    process."""
    return (threading.active_count() == 1 and "fork" in mp.get_all_start_methods()
            and not mp.current_process().daemon)  # a daemonic process may not have children


def _total_bytes(files: Sequence[Path]) -> int:
    return sum(_size(file) for file in files)


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:  # gone or unreadable: its reader says so
        return 0


def _picklable(value: object) -> bool:
    if value is None or isinstance(value, str | Path):
        return True
    try:
        pickle.dumps(value)
    except Exception:  # a scheme holding something that cannot cross processes is read here instead
        return False
    return True


def chunks(files: Sequence[Path], count: int, limit: int) -> list[list[Path]]:
    """`files` cut, in order, into about `count` × CHUNKS_PER_WORKER runs of similar size in bytes (at most
    `limit` files each)."""
    sizes = [max(_size(file), 1) for file in files]
    target = sum(sizes) / max(count * CHUNKS_PER_WORKER, 1)
    out: list[list[Path]] = []
    current: list[Path] = []
    held = 0
    for file, size in zip(files, sizes, strict=True):
        if current and (held + size > target or len(current) >= limit):
            out.append(current)
            current, held = [], 0
        current.append(file)
        held += size
    if current:
        out.append(current)
    return out


def run(read: Callable[[list[Path]], list], parts: list[list[Path]], count: int) -> list:
    """`read(part)` for every part, `count` processes at once, concatenated in order. A pool that breaks (a
    worker killed) leaves the parts it did not return to be read here, so nothing is lost and what a file
    raises is raised as it would be without a pool."""
    results: list[list | None] = [None] * len(parts)
    try:
        with ProcessPoolExecutor(count, mp_context=mp.get_context("fork")) as pool:
            futures = [pool.submit(_packed_read, read, part) for part in parts]  # the workers start (forked) here
            # the collector paused while the results arrive (in this process only: the workers have started): each
            # collection would walk every project received so far (a third of the parent's share of reading 50,000
            # projects); it runs once when they are all here
            with collection_paused():
                for n, future in enumerate(futures):
                    results[n] = unpack(future.result())
    except BrokenProcessPool:
        pass
    out: list = []
    for n, part in enumerate(parts):
        out.extend(results[n] if results[n] is not None else read(part))
    return out


def _packed_read(read: Callable[[list[Path]], list], part: list[Path]) -> tuple:
    with keeping_rows_whole():  # each sheet's checked rows stay one frame: cut in the parent (`unpack`)
        return pack(read(part))


def pack(reads: list) -> tuple:
    """`reads` (ProjectRead list) ready to pickle: each project's indicator and stated frames taken out, to travel
    once per sheet: the rows a reader kept whole (`cells.RowRun`: a worker's reads) as their sheet's frame and each
    project's run of rows; frames cut out already concatenated per column layout. `unpack` restores them. Frames
    without a plain 0..n-1 index, or empty, stay where they are."""
    groups: dict[tuple, list[tuple[int, str, pd.DataFrame]]] = {}
    whole: dict[int, tuple[pd.DataFrame, list[tuple[int, str]], list[tuple[int, int]]]] = {}
    stay: set[int] = set()  # frames found not packable (alive while packing: their ids stay theirs)
    for n, read in enumerate(reads):
        project = read.project
        if project is None:
            continue
        for attr in _PACKED:
            frame = getattr(project, attr)
            if isinstance(frame, RowRun):
                _, slots, runs = whole.setdefault(id(frame.body), (frame.body, [], []))
                slots.append((n, attr))
                runs.append((frame.start, frame.stop))
                object.__setattr__(project, attr, None)  # the worker's own copy, about to be pickled
                continue
            if id(frame) in stay:
                continue
            if not _packable(frame):
                stay.add(id(frame))  # e.g. the one empty 报告数值 frame all projects of a workbook share
                continue
            layout = (tuple(frame.columns), frame.columns.name, _dtypes(frame))
            groups.setdefault(layout, []).append((n, attr, frame))
    packed = []
    for members in groups.values():
        frames = [frame for _, _, frame in members]
        joined = _concat(frames)
        if not _same_dtypes(joined, frames[0]):
            continue  # concatenation changed a column's type: these frames travel as they are
        for n, attr, _ in members:
            object.__setattr__(reads[n].project, attr, None)  # the worker's own copy, about to be pickled
        lengths = np.array([len(f) for f in frames])
        bounds = [0, *np.cumsum(lengths).tolist()]
        packed.append((joined, [(n, attr) for n, attr, _ in members], list(pairwise(bounds))))
    packed.extend(whole.values())
    return reads, packed


def unpack(payload: tuple) -> list:
    reads, packed = payload
    for body, slots, runs in packed:  # each body is ours (fresh from the pickle), numbered 0 … n−1
        for (n, attr), part in zip(slots, row_runs(body, runs, copy=not is_consolidated(body)), strict=True):
            object.__setattr__(reads[n].project, attr, part)
    return reads


def _dtypes(frame: pd.DataFrame) -> tuple:
    get = getattr(frame._mgr, "get_dtypes", None)  # without building the `dtypes` Series
    return tuple(get()) if get is not None else tuple(frame.dtypes)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of one layout one under the other, column by column with numpy (a third of `pd.concat`'s cost on
    thousands of small frames), each column keeping its dtype and each run of neighbouring columns of one dtype one
    block, as the frames had them (`pd.concat` of the projects' frames later, in scoring, is fast on that layout);
    `pd.concat` for extension dtypes."""
    first = frames[0]
    arrays = [getattr(frame._mgr, "column_arrays", None) for frame in frames]
    dtypes = list(first.dtypes)
    if len(frames) == 1 or any(a is None for a in arrays) or not all(isinstance(t, np.dtype) for t in dtypes):
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else first
    runs: list[list[int]] = []
    for j, dtype in enumerate(dtypes):
        if runs and dtypes[runs[-1][-1]] == dtype:
            runs[-1].append(j)
        else:
            runs.append([j])
    blocks = []
    for run in runs:
        columns = [np.concatenate([a[j] for a in arrays]) for j in run]
        block = np.stack(columns, axis=1) if len(columns) > 1 else columns[0][:, None]
        blocks.append(pd.DataFrame(block, columns=first.columns[run], dtype=dtypes[run[0]]))
    return pd.concat(blocks, axis=1) if len(blocks) > 1 else blocks[0]


def _packable(frame: object) -> bool:
    if not isinstance(frame, pd.DataFrame) or frame.empty or frame.attrs or frame.columns.has_duplicates:
        return False
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _same_dtypes(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return list(a.dtypes) == list(b.dtypes)
