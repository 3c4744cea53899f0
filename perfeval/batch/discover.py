"""Inputs → projects: files, folders and portfolio workbooks, read and scored in chunks.

`scan_chunk` is the unit of work (a batch runs it in `contain`'s scan workers, where a reader
that crashes takes down only its own file; `discover` runs it in-process or on an executor): it
reads a few files, keeps every project's problems separately (one bad project in a portfolio
does not stop the others), scores the valid ones in one vectorised pass (`evaluate_frames`) and
hashes each project's content for resume. `discover` puts the chunks back together with global `pidx`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfeval.batch.facts import facts_for, known_facts
from perfeval.batch.manifest import STATE_DIR, project_digest, scheme_digest
from perfeval.batch.status import Stage
from perfeval.errors import SheetError
from perfeval.sheets.inputs import INPUT_SUFFIXES, input_files  # noqa: F401  (the batch's inputs, shared with load_projects)


@dataclass
class Entry:
    """One project found in the inputs (valid or not)."""

    key: str                      # 项目编号 (the file name when the file is unreadable)
    source: Path
    in_portfolio: bool = False    # the file holds several projects: select by 项目编号
    year: int | None = None
    name: str = ""
    department: str = ""
    unit: str = ""
    scheme: str = ""              # what `load_scheme` takes: a built-in id or a scheme file's path
    scheme_name: str = ""
    scheme_digest: str = ""       # hash of the scheme's content (resume fingerprint)
    digest: str = ""
    pidx: int | None = None       # row in the scored frames; None when invalid
    problems: list[str] = field(default_factory=list)
    stage: Stage = Stage.VALIDATE  # why an invalid entry failed: the sheet, or READ (the reader died)
    field_data: str = ""          # the expert sheets / survey merged, or what is missing (perfeval.field_data)
    #: the validated project, kept when the batch builds reports (so it is read and validated once)
    project: object | None = field(default=None, repr=False, compare=False)
    #: the typed reason a READ-stage failure carries (errors.ReaderDied / ReaderTimeout), else None
    failure: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return not self.problems and self.pidx is not None


@dataclass
class Scan:
    entries: list[Entry]
    frames: object | None  # perfeval.evaluate.PortfolioFrames over the valid entries


def scan_chunk(files: Sequence[str], scheme: str | None = None, strict: bool = False,
               on_step: Callable[[int], None] | None = None, keep_projects: bool = False) -> Scan:
    """Read, validate, hash and score the projects in `files` (runs in a worker). A project whose
    only problems are auditable (weights, a repeated row) is scored with them as findings, unless
    `strict`.

    `on_step(i)` is called before file `i` is read and with ``len(files)`` before scoring, so a
    supervisor can tell which file a reader that never returns was working on. `keep_projects`: each
    valid entry carries its validated `Project` (a report batch builds from it instead of reading again)."""
    from perfeval.scoring.evaluate import evaluate_frames
    from perfeval.sheets.field_data import with_field_data
    from perfeval.sheets.load import read_projects

    entries: list[Entry] = []
    projects = []
    for i, name in enumerate(files):
        if on_step:
            on_step(i)
        path = Path(name)
        try:
            reads = read_projects(path, scheme, strict=strict)
        except SheetError as exc:
            entries.append(Entry(key=path.stem, source=path, problems=[str(p) for p in exc.problems],
                                 **facts_for(known_facts(path), path.stem)))
            continue
        except MemoryError:
            entries.append(Entry(key=path.stem, source=path, stage=Stage.READ,
                                 problems=[f"{path.name}：读取时内存不足（超出读取进程的内存上限），"
                                           "文件可能已损坏或过大；其他文件不受影响"]))
            continue
        except Exception as exc:  # an unreadable file must not stop the batch
            entries.append(Entry(key=path.stem, source=path,
                                 problems=[f"{path.name}：无法读取：{type(exc).__name__}：{exc}"]))
            continue
        many = len(reads) > 1
        facts = known_facts(path) if any(r.project is None for r in reads) else {}
        for read in reads:
            project = read.project
            if project is None:  # refused: listed with what its 项目信息 says (名称, 年度 …)
                entries.append(Entry(key=read.key, source=path, in_portfolio=many,
                                     problems=[str(p) for p in read.problems] or ["无法读取该项目"],
                                     **facts_for(facts, read.key)))
                continue
            try:  # the firm's field data beside the sheet: expert panel, satisfaction survey
                project, note = with_field_data(project, scheme=scheme, shared=many)
            except SheetError as exc:
                entries.append(Entry(key=project.id, source=path, in_portfolio=many, year=project.year,
                                     name=project.name, department=project.department, unit=project.unit,
                                     problems=[str(p) for p in exc.problems]))
                continue
            entries.append(Entry(
                key=project.id, source=path, in_portfolio=many, year=project.year,
                name=project.name, department=project.department, unit=project.unit,
                digest=project_digest(project), pidx=len(projects), field_data=note,
                project=project if keep_projects else None,
            ))
            projects.append(project)
    if on_step:
        on_step(len(files))
    frames = evaluate_frames(projects, scheme) if projects else None
    if frames is not None:
        _note_schemes(entries, frames.setups)
        frames = _slim(frames)
    return Scan(entries, frames)


def _note_schemes(entries: list[Entry], setups: dict) -> None:
    """Each scored entry's scheme: how to load it again, its name and a hash of its content."""
    digests: dict[int, str] = {}
    for entry in entries:
        if entry.pidx is None:
            continue
        chosen = setups[entry.pidx][0]
        if id(chosen) not in digests:
            digests[id(chosen)] = scheme_digest(chosen)
        entry.scheme, entry.scheme_name, entry.scheme_digest = chosen.spec, chosen.name, digests[id(chosen)]


#: indicator columns the summary uses (the rest are dropped before results cross processes)
SUMMARY_INDICATOR_COLUMNS = ("pidx", "level1", "level2", "level3", "name", "weight", "target", "actual",
                             "rule_label", "completion", "deviation", "score", "lost", "stated_score",
                             "deduction_reason", "reason")


def _slim(frames):
    from perfeval.scoring.evaluate import PortfolioFrames

    def by_project(frame):  # evaluate_frames groups rows by scheme; the summary wants input order
        return frame.sort_values("pidx", kind="stable", ignore_index=True) if len(frame) else frame

    keep = [c for c in SUMMARY_INDICATOR_COLUMNS if c in frames.indicators.columns]
    return PortfolioFrames(by_project(frames.indicators.loc[:, keep]), by_project(frames.levels),
                           by_project(frames.projects), by_project(frames.findings),
                           frames.stated.iloc[0:0])


def chunk_files(files: Sequence[Path], parts: int) -> list[list[str]]:
    """Split files into about `parts` chunks of similar total size (a file is never split)."""
    parts = max(1, min(parts, len(files)))
    sizes = [(f.stat().st_size if f.exists() else 0, i, f) for i, f in enumerate(files)]
    bins: list[tuple[int, list[tuple[int, Path]]]] = [(0, []) for _ in range(parts)]
    for size, i, f in sorted(sizes, reverse=True):  # largest first into the lightest bin
        k = min(range(parts), key=lambda b: bins[b][0])
        bins[k] = (bins[k][0] + size, [*bins[k][1], (i, f)])
    return [[str(f) for _, f in sorted(b)] for _, b in bins if b]


def merge_scans(scans: Sequence[Scan]) -> Scan:
    """One scan with global `pidx` from chunk scans (chunk order is kept)."""
    from perfeval.scoring.evaluate import PortfolioFrames

    entries: list[Entry] = []
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in
                                             ("indicators", "levels", "projects", "findings", "stated")}
    offset = 0
    for scan in scans:
        count = 0
        for entry in scan.entries:
            if entry.pidx is not None:
                entry.pidx += offset
                count += 1
            entries.append(entry)
        if scan.frames is not None:
            for name, frames in parts.items():
                frame = getattr(scan.frames, name)
                if len(frame):
                    frames.append(frame.assign(pidx=frame["pidx"] + offset))
        offset += count
    if not offset:
        return Scan(entries, None)
    merged = {name: (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
              for name, frames in parts.items()}
    return Scan(entries, PortfolioFrames(**merged))


def discover(files: Sequence[Path], scheme: str | None = None, *,
             executor: Executor | None = None, parts: int = 1,
             on_chunk: Callable[[int], None] | None = None, strict: bool = False) -> Scan:
    """Every project in `files`, validated and scored; chunks run on `executor` when given."""
    chunks = chunk_files(files, parts if executor is not None else 1)
    if executor is None or len(chunks) == 1:
        scans = [scan_chunk(chunk, scheme, strict) for chunk in chunks]
    else:
        futures = [executor.submit(scan_chunk, chunk, scheme, strict) for chunk in chunks]
        scans = []
        for future in futures:
            scans.append(future.result())
            if on_chunk:
                on_chunk(len(scans))
    merged = merge_scans(scans)
    return in_input_order(merged, files) if len(scans) > 1 else merged


def in_input_order(scan: Scan, files: Sequence[Path]) -> Scan:
    """Entries and `pidx` in the order of `files`, whatever the chunking was."""
    from perfeval.scoring.evaluate import PortfolioFrames

    order = {str(f): i for i, f in enumerate(files)}
    scan.entries.sort(key=lambda e: order.get(str(e.source), len(order)))  # stable within a file
    mapping: dict[int, int] = {}
    for entry in scan.entries:
        if entry.pidx is not None:
            mapping[entry.pidx] = len(mapping)
            entry.pidx = mapping[entry.pidx]
    if scan.frames is None:
        return scan
    renumbered = {}
    for name in ("indicators", "levels", "projects", "findings", "stated"):
        frame = getattr(scan.frames, name)
        if len(frame):
            frame = frame.assign(pidx=frame["pidx"].map(mapping)).sort_values(
                "pidx", kind="stable", ignore_index=True)
        renumbered[name] = frame
    return Scan(scan.entries, PortfolioFrames(**renumbered))


__all__ = ["STATE_DIR", "Entry", "Scan", "chunk_files", "discover", "in_input_order", "input_files",
           "merge_scans", "scan_chunk"]
