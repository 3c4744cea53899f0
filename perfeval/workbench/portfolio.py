"""A portfolio of evaluated projects for the workbench: load, summarise, filter, sort.

A portfolio comes from a folder of indicator workbooks/CSV sets, a portfolio workbook, a single
project file, or a `perfeval batch` output folder (its ``summary.xlsx``). Loading evaluates every
project once (one vectorised pass); filtering and sorting then work on the one-row-per-project
summary frame and never re-evaluate. Projects that cannot be read are kept as failures, not lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval import summary_schema as schema
from perfeval.display import grade_key
from perfeval.errors import PerfevalError, SheetError
from perfeval.model import Project
from perfeval.notation import normalise, parse_rate
from perfeval.scheme import OTHER_GRADE_COLOUR, GradeBand, load_scheme
from perfeval.scoring.evaluate import Evaluation, evaluate, evaluate_frames
from perfeval.sheets.field_data import with_field_data
from perfeval.sheets.inputs import input_files
from perfeval.sheets.load import read_projects

#: environment variable `perfeval lab` sets so the notebook opens the data it was given
DATA_ENV = "PERFEVAL_DATA"
#: … and the scheme it was given (`perfeval lab DATA --scheme FILE`)
SCHEME_ENV = "PERFEVAL_SCHEME"
BATCH_SUMMARY = schema.SUMMARY_XLSX

#: summary columns every portfolio has (level scores follow as ``score_<一级指标>``)
SUMMARY_COLUMNS = (
    "key", "id", "name", "department", "unit", "year", "scheme", "total", "grade",
    "execution_rate", "arrival_rate", "budget", "spent", "errors", "warnings", "infos", "file",
)
#: Chinese headers shown for summary columns
SUMMARY_LABELS = {
    "id": "项目编号", "name": "项目名称", "department": "主管部门", "unit": "实施单位", "year": "年度",
    "scheme": "评价方案", "total": "总分", "grade": "等级", "execution_rate": "预算执行率",
    "arrival_rate": "资金到位率", "budget": "预算数（万元）", "spent": "执行数（万元）",
    "errors": "错误", "warnings": "警告", "infos": "提示", "file": "文件",
}
FAILED_COLUMNS = ("file", "project", "problem")
FAILED_LABELS = {"file": "文件", "project": "项目", "problem": "问题"}

#: findings filter choices: id -> Chinese label
FINDINGS_CHOICES = {
    "all": "全部",
    "errors": "有错误",
    "errors_or_warnings": "有错误或警告",
    "no_errors": "无错误",
    "clean": "无任何核查发现",
}


def level_column(level: str) -> str:
    return f"score_{level}"


class Portfolio:
    """Evaluated projects: a summary frame (one row per project, keyed by ``key``), the audit
    findings, the projects that could not be read, and the projects themselves for drill-down."""

    def __init__(self, summary: pd.DataFrame, findings: pd.DataFrame, failed: pd.DataFrame,
                 levels: Sequence[str], source: str = "",
                 projects: dict[str, Project] | None = None,
                 files: dict[str, Path] | None = None, scheme: str | None = None) -> None:
        self.summary = summary.reset_index(drop=True)
        self.findings = findings
        self.failed = failed
        self.levels = tuple(levels)
        self.source = source
        self._projects = dict(projects or {})
        self._files = dict(files or {})  # key -> file, for projects loaded on demand
        self._evaluations: dict[str, Evaluation] = {}
        self.scheme = scheme  # the scheme every project is read with (None: each sheet's 评价方式)

    def __len__(self) -> int:
        return len(self.summary)

    def __repr__(self) -> str:
        return (f"<Portfolio {len(self)} 个项目（{self.source or '内存'}）；"
                f"未能读取 {self.failed['file'].nunique() if len(self.failed) else 0} 个文件>")

    @property
    def keys(self) -> list[str]:
        return self.summary["key"].tolist()

    @property
    def grade_table(self) -> tuple | None:
        """The grade table (cut points, labels, colours) the portfolio's charts draw: the scheme every project
        was read with, else the one the projects' schemes share (() when they grade differently; None for the
        default scheme's when no scheme can be named)."""
        from perfeval.errors import SchemeError
        from perfeval.scheme import shared_grade_table

        if self.scheme:
            return load_scheme(self.scheme).grade_table
        try:  # built-in ids and names (a custom scheme file is only known through `self.scheme`)
            schemes = [load_scheme(s) for s in sorted({str(s) for s in self.summary["scheme"] if s == s and s})]
        except SchemeError:
            return ()
        return shared_grade_table(schemes)

    def label(self, key: str) -> str:
        row = self.summary.loc[self.summary["key"] == key].iloc[0]
        return f"{row['id']} {row['name']}"

    def has_project(self, key: str) -> bool:
        return key in self._projects or key in self._files

    def project(self, key: str) -> Project:
        """The validated project for `key` (read from its file the first time when needed)."""
        if key in self._projects:
            return self._projects[key]
        if key not in self._files:
            raise PerfevalError(f"项目「{key}」的指标表不在此数据中（批量结果只含汇总），无法查看明细")
        file = self._files[key]
        pid = str(self.summary.loc[self.summary["key"] == key, "id"].iloc[0])
        every = read_projects(file, self.scheme)
        reads = [r for r in every if r.key == pid]
        if not reads or reads[0].project is None:
            problems = reads[0].problems if reads else []
            raise SheetError(problems) if problems else PerfevalError(
                f"文件 {file} 中没有项目编号为「{pid}」的项目")
        # as the batch scored it: with its field data
        project = with_field_data(reads[0].project, scheme=self.scheme, shared=len(every) > 1)[0]
        self._projects[key] = project
        return project

    def evaluation(self, key: str) -> Evaluation:
        """The project's evaluation (computed once, then cached)."""
        if key not in self._evaluations:
            self._evaluations[key] = evaluate(self.project(key))
        return self._evaluations[key]

    @classmethod
    def from_projects(cls, projects: Sequence[Project], source: str = "",
                      failed: Iterable[tuple[str, str, str]] = (), scheme: str | None = None) -> Portfolio:
        """Evaluate `projects` in one vectorised pass and summarise them (each on the scheme it
        was read with, `Project.scheme_id`; `scheme` is recorded for projects read later)."""
        failed_frame = pd.DataFrame(list(failed), columns=list(FAILED_COLUMNS))
        if not projects:
            empty = pd.DataFrame(columns=list(SUMMARY_COLUMNS))
            return cls(empty, pd.DataFrame(columns=["key", "code", "severity", "message", "where"]),
                       failed_frame, (), source, scheme=scheme)
        frames = evaluate_frames(projects)
        keys = _unique_keys(projects)
        head = frames.projects.set_index("pidx").reindex(range(len(projects)))
        severity = (frames.findings.groupby(["pidx", "severity"]).size().unstack(fill_value=0)
                    if len(frames.findings) else pd.DataFrame(index=head.index))
        severity = severity.reindex(index=head.index, columns=["error", "warning", "info"],
                                    fill_value=0)
        summary = pd.DataFrame({
            "key": keys,
            "id": [p.id for p in projects],
            "name": [p.name for p in projects],
            "department": [p.department or "（未填）" for p in projects],
            "unit": [p.unit for p in projects],
            "year": [int(p.year) for p in projects],
            "scheme": head["scheme"].to_numpy(),
            "total": head["total"].to_numpy(dtype=float),
            "grade": head["grade"].to_numpy(),
            "execution_rate": head["execution_rate"].to_numpy(dtype=float),
            "arrival_rate": head["arrival_rate"].to_numpy(dtype=float),
            "budget": head["budget"].to_numpy(dtype=float),
            "spent": head["spent"].to_numpy(dtype=float),
            "errors": severity["error"].to_numpy(dtype=int),
            "warnings": severity["warning"].to_numpy(dtype=int),
            "infos": severity["info"].to_numpy(dtype=int),
            "file": [p.source.name if p.source else "" for p in projects],
        })
        levels = list(dict.fromkeys(frames.levels["name"]))
        wide = frames.levels.pivot_table(index="pidx", columns="name", values="score",
                                         aggfunc="first").reindex(range(len(projects)))
        for level in levels:
            summary[level_column(level)] = wide[level].to_numpy(dtype=float)
        findings = frames.findings.copy()
        findings.insert(0, "key", [keys[i] for i in findings["pidx"]])
        findings = findings.drop(columns="pidx")
        return cls(summary, findings, failed_frame, levels, source,
                   projects=dict(zip(keys, projects, strict=True)), scheme=scheme)


def _unique_keys(projects: Sequence[Project]) -> list[str]:
    """Project ids, made unique with the file name when two files use the same 项目编号."""
    counts = pd.Series([p.id for p in projects]).value_counts()
    keys = []
    for p in projects:
        key = p.id if counts[p.id] == 1 else f"{p.id}@{p.source.name if p.source else '?'}"
        n, base = 2, key
        while key in keys:
            key, n = f"{base}#{n}", n + 1
        keys.append(key)
    return keys


# ---------------------------------------------------------------- loading

def default_data() -> Path:
    """The data the notebook opens when none is named: $PERFEVAL_DATA, else the bundled
    reference project (in a source checkout)."""
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    reference = Path(__file__).resolve().parents[2] / "data" / "reference"
    if any(reference.glob("*.xlsx")):
        return reference
    if (reference / "csv").is_dir():
        return reference / "csv"
    raise PerfevalError(f"未指定数据：请在笔记本中设置 DATA，或用 perfeval lab 数据路径 启动（环境变量 {DATA_ENV}）")


def read_files(files: Iterable[Path], scheme: str | None = None
               ) -> tuple[list[Project], list[tuple[str, str, str]]]:
    """Every readable project in `files`, and (file, project, problem) for each that is not."""
    projects: list[Project] = []
    failed: list[tuple[str, str, str]] = []
    for file in files:
        try:
            reads = read_projects(file, scheme)
        except SheetError as exc:
            failed += [(file.name, "", str(p)) for p in exc.problems]
            continue
        except PerfevalError as exc:
            failed.append((file.name, "", str(exc)))
            continue
        for read in reads:
            if read.project is None:
                failed += [(file.name, read.key, str(p)) for p in read.problems]
                continue
            try:  # as the batch scores it: with the expert panel and survey kept beside the sheet
                projects.append(with_field_data(read.project, scheme=scheme, shared=len(reads) > 1)[0])
            except SheetError as exc:
                failed += [(file.name, read.key, str(p)) for p in exc.problems]
    return projects, failed


def default_scheme() -> str | None:
    """The scheme `perfeval lab --scheme` passed to the notebook ($PERFEVAL_SCHEME), if any."""
    return os.environ.get(SCHEME_ENV, "").strip() or None


def scheme_spec(scheme: str | Path | None) -> str | None:
    """A scheme as every later load finds it again: a built-in id or a TOML file's absolute path
    (a scheme file with any `id`). Raises SchemeError for a missing or malformed file."""
    if scheme is None or str(scheme).strip() == "":
        return None
    from perfeval.scheme import load_scheme

    return load_scheme(scheme).spec


def load_portfolio(path: str | Path | None = None, scheme: str | Path | None = None) -> Portfolio:
    """Load a portfolio from a folder, a portfolio workbook, one project file or a batch output
    folder (one holding ``summary.xlsx``). `None` opens `default_data()`.

    `scheme` (a built-in id or a .toml scheme file, whatever its `id`) scores every project on
    that scheme instead of its sheet's 评价方式; `None` takes $PERFEVAL_SCHEME when set."""
    scheme = scheme_spec(scheme if scheme is not None else default_scheme())
    path = default_data() if path is None or str(path).strip() == "" else Path(path).expanduser()
    if not path.exists():
        raise PerfevalError(f"数据路径不存在：{path}")
    if path.is_dir():
        if (path / BATCH_SUMMARY).is_file():
            return load_batch_output(path, scheme)
        files = input_files([path])
        if not files:
            raise PerfevalError(f"文件夹 {path} 中没有 .xlsx 或 .csv 指标表")
    else:
        files = [path]
    projects, failed = read_files(files, scheme)
    return Portfolio.from_projects(projects, source=str(path), failed=failed, scheme=scheme)


# ---------------------------------------------------------------- batch output (summary.xlsx)

#: summary.xlsx 项目汇总 headers the workbench understands: column -> accepted spellings
#: (perfeval.batch.schema: the headers the batch writes, then older spellings)
BATCH_HEADERS: dict[str, tuple[str, ...]] = {c: schema.accepted(c) for c in (
    "id", "name", "department", "unit", "year", "scheme", "total", "grade", "execution_rate", "arrival_rate",
    "budget", "spent", "errors", "warnings", "infos", "file")}
SEVERITY_WORDS = {"错误": "error", "警告": "warning", "提示": "info",
                  "error": "error", "warning": "warning", "info": "info"}


def _rename(frame: pd.DataFrame, spec: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    names = {}
    for column in frame.columns:
        text = normalise(column).replace(" ", "")
        for canon, spellings in spec.items():
            if canon not in names.values() and text in spellings:
                names[column] = canon
                break
    return frame.rename(columns=names)


def _text(value: object) -> str:
    """A cell as the batch wrote it (no normalisation: names are shown as written), without the quote
    summary.xlsx puts before a text that starts like a formula (`perfeval.batch.summary.neutralise`)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    text = str(value)
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        text = text[1:]
    return text.strip()


def _numbers(values: pd.Series, rate: bool = False) -> np.ndarray:
    if rate:
        return np.array([np.nan if (r := parse_rate(v)) is None else r for v in values], dtype=float)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def load_batch_output(folder: str | Path, scheme: str | None = None) -> Portfolio:
    """A portfolio from a `perfeval batch` output folder: the summary as written (no re-scoring);
    projects whose 文件 can still be found are available for drill-down (read with `scheme`,
    as the batch was run with ``--scheme``)."""
    folder = Path(folder)
    book = folder / BATCH_SUMMARY
    try:
        sheets = pd.read_excel(book, sheet_name=None, dtype=object, engine="calamine")
    except Exception as exc:  # calamine raises its own types for damaged files
        raise PerfevalError(f"无法读取批量结果 {book}：{exc}") from None
    if schema.PROJECTS_SHEET not in sheets:
        raise PerfevalError(f"批量结果 {book} 缺少工作表「{schema.PROJECTS_SHEET}」"
                            f"（现有：{'、'.join(map(str, sheets))}）")
    raw = _rename(sheets[schema.PROJECTS_SHEET].dropna(how="all"), BATCH_HEADERS)
    missing = [BATCH_HEADERS[c][0] for c in ("id", "total", "grade") if c not in raw.columns]
    if missing:
        raise PerfevalError(f"批量结果 {book} 工作表「{schema.PROJECTS_SHEET}」缺少列：{'、'.join(missing)}")
    # projects that failed have no total; they are listed in 失败项目
    raw = raw.loc[np.isfinite(_numbers(raw["total"]))].reset_index(drop=True)
    text = lambda c: (raw[c].map(_text) if c in raw else pd.Series("", index=raw.index))  # noqa: E731
    summary = pd.DataFrame({
        "id": text("id"), "name": text("name"), "department": text("department"),
        "unit": text("unit"), "scheme": text("scheme"), "grade": text("grade"), "file": text("file"),
    })
    summary["department"] = summary["department"].replace("", "（未填）")
    summary["year"] = pd.to_numeric(raw["year"], errors="coerce").fillna(0).astype(int) \
        if "year" in raw else 0
    summary["total"] = _numbers(raw["total"])
    for column in ("execution_rate", "arrival_rate"):
        summary[column] = _numbers(raw[column], rate=True) if column in raw else np.nan
    for column in ("budget", "spent"):
        summary[column] = _numbers(raw[column]) if column in raw else np.nan
    for column in ("errors", "warnings", "infos"):
        summary[column] = (np.nan_to_num(_numbers(raw[column])).astype(int) if column in raw else 0)
    levels = []
    for column in raw.columns:
        name = normalise(column)
        suffix = schema.LEVEL_SUFFIX
        if name.endswith(suffix) and name not in ("报告得分", suffix) and len(name) > len(suffix):
            levels.append(name[:-len(suffix)])
            summary[level_column(name[:-len(suffix)])] = _numbers(raw[column])
    ids = summary["id"].tolist()
    counts = pd.Series(ids).value_counts()
    summary.insert(0, "key", [i if counts[i] == 1 else f"{i}@{f}" for i, f in zip(ids, summary["file"],
                                                                                     strict=True)])
    findings = _batch_findings(sheets.get(schema.FINDINGS_SHEET), summary)
    failed = _batch_failed(sheets.get(schema.FAILED_SHEET))
    files = {}
    for key, name in zip(summary["key"], summary["file"], strict=True):
        if name:  # 来源文件 as the batch saw it: absolute, relative to where it ran, or to DIR
            found = [c for c in (Path(name), folder / name, folder.parent / name) if c.is_file()]
            if found:
                files[key] = found[0].resolve()
    return Portfolio(summary, findings, failed, levels, str(folder), files=files, scheme=scheme)


def _batch_findings(frame: pd.DataFrame | None, summary: pd.DataFrame) -> pd.DataFrame:
    columns = ["key", "code", "severity", "message", "where"]
    if frame is None or frame.empty:
        return pd.DataFrame(columns=columns)
    frame = _rename(frame, {c: (h, *schema.FINDINGS_OLDER.get(c, ())) for c, h in schema.FINDINGS_HEADERS.items()})
    if "id" not in frame:
        return pd.DataFrame(columns=columns)
    by_id = dict(zip(summary["id"], summary["key"], strict=False))
    out = pd.DataFrame({c: frame[c].map(_text) if c in frame else "" for c in columns[1:]})
    out["severity"] = out["severity"].map(lambda s: SEVERITY_WORDS.get(s, s))
    out.insert(0, "key", frame["id"].map(_text).map(by_id))
    return out.dropna(subset=["key"]).reset_index(drop=True)


def _batch_failed(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(columns=list(FAILED_COLUMNS))
    frame = _rename(frame, {"file": (schema.FAILED_HEADERS["file"], "源文件", "文件名"),
                            "project": ("项目", schema.FAILED_HEADERS["id"]),
                            "problem": ("问题", schema.FAILED_HEADERS["reason"], "错误", "说明")})
    return pd.DataFrame({c: frame[c].map(_text) if c in frame else "" for c in FAILED_COLUMNS})


# ---------------------------------------------------------------- filtering and sorting

@dataclass(frozen=True)
class Filters:
    """What the portfolio view shows. Empty tuples mean "all"."""

    years: tuple[int, ...] = ()
    departments: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    score_range: tuple[float, float] = (0.0, 100.0)
    findings: str = "all"
    text: str = ""


def apply_filters(summary: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows of `summary` that pass every filter (a boolean mask per filter, no loops)."""
    if filters.findings not in FINDINGS_CHOICES:
        raise PerfevalError(f"核查发现筛选「{filters.findings}」无效，应为 {'、'.join(FINDINGS_CHOICES)} 之一")
    mask = np.ones(len(summary), dtype=bool)
    if filters.years:
        mask &= summary["year"].isin(filters.years).to_numpy()
    if filters.departments:
        mask &= summary["department"].isin(filters.departments).to_numpy()
    if filters.grades:
        mask &= summary["grade"].isin(filters.grades).to_numpy()
    low, high = filters.score_range
    total = summary["total"].to_numpy(dtype=float)
    mask &= (total >= low - 1e-9) & (total <= high + 1e-9)
    errors = summary["errors"].to_numpy()
    others = summary["warnings"].to_numpy() + summary["infos"].to_numpy()
    mask &= {
        "all": np.ones(len(summary), dtype=bool),
        "errors": errors > 0,
        "errors_or_warnings": (errors > 0) | (summary["warnings"].to_numpy() > 0),
        "no_errors": errors == 0,
        "clean": (errors == 0) & (others == 0),
    }[filters.findings]
    text = filters.text.strip()
    if text:
        mask &= (summary["id"].str.contains(text, regex=False, case=False)
                 | summary["name"].str.contains(text, regex=False, case=False)).to_numpy()
    return summary.loc[mask]


def grade_colours(summary: pd.DataFrame, grades: Sequence[GradeBand] | None = None) -> dict[str, str]:
    """Grade label -> colour, best grade first, as the portfolio's scheme draws them (`Portfolio.grade_table`;
    None: the default scheme's): the scheme's grades, then any other label the projects carry. When the
    projects grade differently (`grades` ()), only the labels they carry."""
    present = summary["grade"].unique() if "grade" in summary else ()
    return grade_key(grades or load_scheme(None).grade_table, present, other=OTHER_GRADE_COLOUR,
                     keep_absent=grades != ())


def sort_summary(frame: pd.DataFrame, by: str = "total", ascending: bool = False,
                 grades: Sequence[GradeBand] | None = None) -> pd.DataFrame:
    """Sort by one summary column (ties broken by 项目编号); grades sort in the scheme's order (`grades`, as
    `grade_colours`), the best first when descending."""
    if by not in frame.columns:
        raise PerfevalError(f"无法按「{by}」排序：没有这一列")
    if by == "grade":
        order_of = {g: i for i, g in enumerate(grade_colours(frame, grades))}
        rank = frame["grade"].map(order_of).fillna(len(order_of))
        order = np.lexsort((frame["id"].to_numpy(), -rank.to_numpy() if ascending else rank.to_numpy()))
        return frame.iloc[order]
    return frame.sort_values([by, "id"], ascending=[ascending, True], kind="stable",
                             na_position="last")


def filter_choices(summary: pd.DataFrame, grades: Sequence[GradeBand] | None = None) -> dict[str, list]:
    """Values each filter offers: years, departments and grades (the scheme's, best first, then any other
    label present) of the portfolio."""
    return {
        "years": sorted({int(y) for y in summary["year"]}),
        "departments": sorted(set(summary["department"])),
        "grades": list(grade_colours(summary, grades)),
    }


def grade_counts(frame: pd.DataFrame, grades: Sequence[GradeBand] | None = None) -> dict[str, int]:
    """Projects per grade, best first: every grade of the scheme, then any other label present."""
    counts = frame["grade"].value_counts()
    return {g: int(counts.get(g, 0)) for g in grade_colours(frame, grades)}
