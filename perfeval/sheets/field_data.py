"""The evaluation firm's own field data kept beside a project's indicator sheet: expert score sheets
(`perfeval.panel`) and a satisfaction survey (an answers export plus its mapping TOML, `perfeval.survey`).

A project folder may hold, next to the indicator workbook::

    项目/AKT2022-001.xlsx                      the indicator sheet
    项目/AKT2022-001_专家评分_E01.xlsx …        expert sheets (recognised by their 评分说明 / 专家评分 sheets and
                                               matched to the project by the 项目编号 they carry)
    项目/问卷映射.toml                           a survey mapping ([survey] + [[item]]); its optional
    项目/答卷.xlsx                               `answers = "答卷.xlsx"` names the export (default: the one other
                                               .xlsx/.csv in the folder), `project = "AKT2022-001"` the project
                                               (needed only when the folder holds several indicator sheets)

`perfeval batch`, `perfeval report` and `load_projects` on a folder treat these files as field data, not as
projects (`is_field_file`), and `with_field_data` merges them into the project before scoring: the panel
score becomes the judged indicators' score, the survey's value the 满意度 indicators' 实际完成值, with their
findings. What a project lacks (judged indicators without a panel, 满意度 indicators without a survey) is
listed by `field_data_notes`, for the batch summary.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineWorkbook

from perfeval.errors import Problem, SheetError
from perfeval.model import Project
from perfeval.notation import normalise

ANSWER_SUFFIXES = (".xlsx", ".xlsm", ".csv")


@dataclass(frozen=True)
class FieldData:
    """The field data found for one project (paths; empty when there is none)."""

    expert_sheets: tuple[Path, ...] = ()
    mapping: Path | None = None
    answers: Path | None = None

    @property
    def empty(self) -> bool:
        return not self.expert_sheets and self.mapping is None


def _mapping_spec(path: Path) -> dict | None:
    """The parsed TOML when `path` is a survey mapping ([survey] table and [[item]] list), else None."""
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return spec if isinstance(spec.get("survey"), dict) and isinstance(spec.get("item"), list) else None


def expert_sheet_project(path: Path) -> str | None:
    """The 项目编号 an expert sheet was made for (its 评分说明 sheet), or None when it is not one."""
    from perfeval.panel.read import is_expert_sheet
    from perfeval.panel.template import INFO_SHEET, KEY_PROJECT

    if not is_expert_sheet(path):
        return None
    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(INFO_SHEET).to_python()
    except Exception:  # unreadable here: reading the panel says what is wrong
        return ""
    for row in rows:
        if len(row) > 1 and normalise(row[0]) == KEY_PROJECT:
            return normalise(row[1])
    return ""


@dataclass(frozen=True)
class FolderIndex:
    """The field data of one folder: expert sheets by the 项目编号 they carry, survey mappings with their
    content and the answers file each names, and the remaining data files (indicator sheets)."""

    experts: dict[str, tuple[Path, ...]]
    mappings: dict[Path, dict]
    field_files: frozenset[Path]
    data_files: tuple[Path, ...]


def _index(folder: Path) -> FolderIndex:
    from perfeval.sheets.read import is_sibling_csv

    files = [p for p in sorted(folder.iterdir())
             if p.is_file() and not p.name.startswith((".", "~$"))]
    experts: dict[str, list[Path]] = {}
    field: set[Path] = set()
    for path in files:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            owner = expert_sheet_project(path)
            if owner is not None:
                experts.setdefault(owner, []).append(path.resolve())
                field.add(path.resolve())
    mappings = {p.resolve(): spec for p in files if p.suffix.lower() == ".toml"
                and (spec := _mapping_spec(p)) is not None}
    for mapping, spec in mappings.items():
        name = spec["survey"].get("answers")
        if name:
            field.add((mapping.parent / str(name)).resolve())
    data = tuple(p.resolve() for p in files if p.suffix.lower() in ANSWER_SUFFIXES
                 and p.resolve() not in field and not is_sibling_csv(p))
    return FolderIndex({k: tuple(v) for k, v in experts.items()}, mappings, frozenset(field), data)


_CACHE: dict[str, tuple[tuple, FolderIndex]] = {}


def _stamp(folder: Path, index: FolderIndex | None) -> tuple:
    """What invalidates a folder's index: the folder's mtime (a file added, removed or renamed) and the mtimes
    of the field files it found (a mapping or an expert sheet edited in place) — a few stats, not a listing."""
    known = () if index is None else (*index.mappings, *(p for ps in index.experts.values() for p in ps))
    stamps = []
    for path in known:
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    return (folder.stat().st_mtime_ns, tuple(stamps))


def folder_index(folder: Path) -> FolderIndex:
    """`FolderIndex` of `folder`, read again only when `_stamp` changes, so a folder of many projects is not
    re-read for each of them."""
    folder = Path(folder).resolve()
    try:
        cached = _CACHE.get(str(folder))
        if cached is not None and cached[0] == _stamp(folder, cached[1]):
            return cached[1]
        index = _index(folder)
        _CACHE[str(folder)] = (_stamp(folder, index), index)
        return index
    except OSError:
        return FolderIndex({}, {}, frozenset(), ())


def is_field_file(path: Path) -> bool:
    """True for an expert sheet or a survey answers file named by a mapping in the same folder — a project's
    field data, not a project."""
    return Path(path).resolve() in folder_index(Path(path).parent).field_files


def field_data_for(project: Project, shared: bool = False) -> FieldData:
    """The field data beside `project`'s source file: expert sheets carrying its 项目编号, and a survey mapping
    that names it (`project = "…"`) or, without that, sits beside it as the folder's only indicator sheet
    holding one project (`shared`: the file holds several). The mapping must name its answers file
    (`answers = "…"`); a located SheetError says so otherwise — the answers are never guessed."""
    if project.source is None:
        return FieldData()
    source = Path(project.source).resolve()
    index = folder_index(source.parent)
    sheets = index.experts.get(project.id, ())
    for path, spec in index.mappings.items():
        owner = spec["survey"].get("project")
        if owner is not None and normalise(owner) != project.id:
            continue
        name = spec["survey"].get("answers")
        if owner is None and name and (shared or index.data_files != (source,)):
            continue
        if not name:
            raise SheetError([Problem(str(path), "[survey]", None, "answers", None,
                                      "项目文件夹中的问卷映射须写明答卷文件："
                                      "answers = \"答卷.xlsx\"（相对本映射文件）")])
        return FieldData(sheets, path, (path.parent / str(name)).resolve())
    return FieldData(sheets)


def with_field_data(project: Project, data: FieldData | None = None, scheme=None, *,
                    shared: bool = False) -> tuple[Project, str]:
    """(`project` with its field data merged, a one-line account for the batch summary's 现场数据 column).
    `data`: what `field_data_for(project, shared)` finds when not given; none found leaves `project` as it is.

    The survey goes first (it feeds 实际完成值), then the expert panel (judged scores). Raises SheetError with
    located problems when a piece cannot be read. The account says what was used and what the project still
    lacks once it uses field data at all (a panel but no survey for its 满意度 indicators, or the reverse)."""
    data = field_data_for(project, shared) if data is None else data
    if data.empty:
        return project, ""
    notes = []
    base = project
    if data.mapping is not None and data.answers is not None:
        from perfeval.survey import apply_survey, run_survey

        result = run_survey(data.answers, data.mapping)
        counts = result.screening.counts
        project = apply_survey(project, result).project
        notes.append(f"问卷 {data.answers.name}：有效 {counts['valid']}/{counts['total']} 份")
    else:
        names = base.indicators["name"].astype(str) + base.indicators["level3"].astype(str)
        satisfaction = int(names.str.contains("满意").sum())
        if satisfaction:
            notes.append(f"缺少问卷（{satisfaction} 项满意度指标按表内填报）")
    if data.expert_sheets:
        from perfeval.panel.apply import merge_sheets

        merged = merge_sheets(project, list(data.expert_sheets), scheme)
        project = merged.project
        flagged = int(merged.merged.frame["disagreement"].sum())
        notes.append(f"专家评分表 {len(data.expert_sheets)} 份" + (f"，意见分歧 {flagged} 项" if flagged else ""))
    else:
        from perfeval.panel.template import judged_indicators

        judged = len(judged_indicators(base, scheme))
        if judged:
            notes.append(f"缺少专家评分表（{judged} 项需评判指标按表内评分）")
    return project, "；".join(notes)
