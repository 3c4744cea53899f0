"""Evaluate projects: parse, score, total, grade and audit — one vectorised pass for many projects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress
from operator import attrgetter, itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.deadline import DATE_UNIT, read_date
from perfeval.display import fmt_num
from perfeval.model import Project, keep_rules, keep_rules_in_runs, known_rules
from perfeval.notation import distinct_rows, normalise, parse_series, split_magnitude, unit_factor, unit_in_name
from perfeval.rules import RULE_KEYS, RULE_LABELS, indicator_rules, round_scores, score_frame, with_columns
from perfeval.scheme import Scheme, ScoringOptions, load_scheme
from perfeval.scoring.audit import COLUMNS as AUDIT_COLUMNS
from perfeval.scoring.audit import audit
from perfeval.scoring.budget import Budget, rates
from perfeval.scoring.understood import for_evaluation
from perfeval.sheets.cells import collection_paused

FINDING_COLUMNS = tuple(c for c in AUDIT_COLUMNS if c != "pidx")


@dataclass(frozen=True)
class Evaluation:
    """A project with the scheme and rule choices used, and every result frame."""

    project: Project
    scheme: Scheme
    options: ScoringOptions
    indicators: pd.DataFrame
    levels: pd.DataFrame
    budget: Budget
    findings: pd.DataFrame
    total: float
    grade: str
    stated: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def findings_by_severity(self) -> dict[str, int]:
        counts = self.findings["severity"].value_counts()
        return {s: int(counts.get(s, 0)) for s in ("error", "warning", "info")}

    def to_dict(self) -> dict:
        """The `perfeval score --json` object (rates are fractions)."""
        d, rd = self.options.decimals, self.options.rate_decimals

        def num(x: float, places: int) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), places)

        readings = for_evaluation(self)
        b = self.budget
        return _json_safe({
            "project": {"id": self.project.id, "name": self.project.name, "year": self.project.year},
            "scheme": self.scheme.id,
            "total": num(self.total, d),
            "grade": self.grade,
            "levels": [{"name": r.name, "weight": num(r.weight, d), "score": num(r.score, d)}
                       for r in self.levels.itertuples()],
            "budget": {"budget": b.budget, "allocated": b.allocated, "spent": b.spent,
                       "execution_rate": num(b.execution_rate, rd),
                       "arrival_rate": num(b.arrival_rate, rd),
                       "deviation_rate": num(b.deviation_rate, rd)},
            "indicators": [
                {"level1": r.level1, "level2": r.level2, "level3": r.level3, "name": r.name,
                 "weight": num(r.weight, d), "target": r.target, "actual": r.actual, "rule": r.rule,
                 "target_understood": t, "actual_understood": a,
                 "score": num(r.score, d), "stated_score": num(r.stated_score, d),
                 "deviation": num(r.deviation, rd)}
                for r, t, a in zip(self.indicators.itertuples(), readings["target_understood"],
                                   readings["actual_understood"], strict=True)
            ],
            "findings": self.findings.loc[:, list(FINDING_COLUMNS)].to_dict(orient="records"),
        })


def _json_safe(value: object) -> object:
    """Non-finite numbers (inf, nan) become None everywhere, numpy scalars plain Python: valid JSON."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _options(scheme: Scheme, options: ScoringOptions | Mapping | None) -> ScoringOptions:
    if options is None:
        return scheme.options
    if isinstance(options, ScoringOptions):
        return options
    return scheme.options.updated(**dict(options))


def _dates(texts: np.ndarray, years: np.ndarray, rows: np.ndarray, bare_month: bool) -> np.ndarray:
    """(low, high) day ordinals for `rows`, each distinct (text, year) read once; NaN where not a date."""
    out = np.full((len(texts), 2), np.nan)
    if not len(rows):
        return out
    text, year = texts[rows], years[rows]
    codes, first = distinct_rows(text, year)
    reads = [read_date(normalise(text[i]), int(year[i]) if np.isfinite(year[i]) else None, bare_month)
             for i in first]
    spans = np.array([(r.low, r.high) if r is not None else (np.nan, np.nan) for r in reads], dtype=float)
    out[rows] = spans[codes]
    return out


def _name_unit_for_bare_targets(frame: pd.DataFrame, target: pd.DataFrame) -> np.ndarray:
    """Target units, where a number written without one takes the unit its name declares when that
    unit changes the number: '观众人数（万人次）' ≥3.6 is 3.6万人次, '覆盖率（%）' ≥95 is 95%."""
    units = target["unit"].to_numpy().copy()
    bare = np.flatnonzero((units == "") & target["kind"].isin(["number", "range"]).to_numpy())
    if len(bare) and "name" in frame:
        names = frame["name"].to_numpy(dtype=object)[bare]
        declared = {n: unit_in_name(str(n)) for n in set(names)}
        changes = {n: u for n, u in declared.items() if u == "%" or (u and split_magnitude(u)[0] != 1)}
        if changes:
            filled = np.array([changes.get(n, "") for n in names], dtype=object)
            # a bare fraction (≥0.95, =1) in a "（%）" row stays bare: the ratio/percent rule reads it
            size = target[["value", "high"]].max(axis=1).to_numpy(dtype=float)[bare]
            fraction = (filled == "%") & (np.abs(size) <= 1.5)
            units[bare] = np.where(fraction, "", filled)
    return units


def _parsed(frame: pd.DataFrame, years: Mapping[int, int] | None = None) -> pd.DataFrame:
    """Add parsed target/actual columns, with the actual converted into the target's unit.

    Dates (时效) are day ordinals: a date written without a year (12月底前, 年底前, 11月20日) takes the
    project's year (`years`: pidx -> year); against a date target a bare month (11月) is that month of
    the deadline's year. target_value is the deadline (last day of the target's span), actual_value the
    completion (first day of the actual's span, so a month-only actual is compared by month);
    target_low/target_high and actual_low/actual_high keep each span.

    Each row's columns follow from its target, actual, name and year alone: they are worked out once per
    distinct combination (a portfolio repeats a few texts across its projects) and put in each row."""
    n = len(frame)
    pidx = frame["pidx"].to_numpy() if "pidx" in frame else np.zeros(n, dtype=int)
    year = _years(pidx, years)
    used = [c for c in ("target", "actual", "name") if c in frame]
    codes, first = distinct_rows(*(frame[c] for c in used), year)
    if len(first) == n:
        return _parsed_rows(frame, year)
    distinct = _parsed_rows(frame.iloc[first][used].reset_index(drop=True), year[first])
    return with_columns(frame, {column: _taken(distinct[column], codes) for column in distinct.columns[len(used):]})


def _taken(column: pd.Series, codes: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """column's values at `codes`: a text column (pandas' str) stays one, as its values would be read again."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.array.take(codes)
    return column.to_numpy()[codes]


def _years(pidx: np.ndarray, years: Mapping[int, int] | None) -> np.ndarray:
    """Each row's project year as a float (NaN where not known): `years` (pidx -> year) looked up per project."""
    if not years or not len(pidx):
        return np.full(len(pidx), np.nan)
    known = np.fromiter(years.keys(), dtype=np.int64, count=len(years))
    if pidx.dtype.kind not in "iu" or known.min() < 0 or pidx.min() < 0:
        return pd.Series(pidx).map(years).to_numpy(dtype=float)
    table = np.full(int(max(known.max(), pidx.max())) + 1, np.nan)
    table[known] = pd.Series(list(years.values()), dtype=object).to_numpy(dtype=float)
    return table[pidx]


def _per_value(column: pd.Series, func) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """func(a Series of `column`'s distinct values) per row: a Series map worked out once per distinct value."""
    codes, first = distinct_rows(column)
    return _taken(func(column.iloc[first].reset_index(drop=True)), codes)


def _parsed_rows(frame: pd.DataFrame, year: np.ndarray) -> pd.DataFrame:
    """`_parsed` row by row (vectorised): `year` is each row's project year (NaN when not known)."""
    target = parse_series(frame["target"])
    actual = parse_series(frame["actual"])
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    t_kind = target["kind"].to_numpy()
    t_span = target[["low", "high"]].to_numpy(dtype=float, copy=True)
    need = np.flatnonzero((t_kind == "date") & np.isnan(t_span[:, 1]))
    if len(need):
        t_span[need] = _dates(frame["target"].to_numpy(dtype=object), year, need, False)[need]
    a_kind = actual["kind"].to_numpy().copy()
    a_span = actual[["low", "high"]].to_numpy(dtype=float, copy=True)
    a_unit = actual["unit"].to_numpy().copy()
    # against a date target, read the actual as a date in the deadline's year (11月 is then November)
    reread = np.flatnonzero((t_kind == "date") & (((a_kind == "date") & np.isnan(a_span[:, 1]))
                                                  | ((a_kind == "number") & (a_unit == "月"))))
    if len(reread):
        deadline_year = year.copy()
        ends = t_span[reread, 1]
        known = np.isfinite(ends)
        deadline_year[reread[known]] = [date.fromordinal(int(h)).year for h in ends[known]]
        spans = _dates(frame["actual"].to_numpy(dtype=object), deadline_year, reread, True)
        got = reread[np.isfinite(spans[reread, 1]) | (a_kind[reread] == "date")]
        a_span[got] = spans[got]
        a_kind[got], a_unit[got] = "date", DATE_UNIT
    # an actual date that stays without a day (按期完成, or 11月20日 with no year) is scored by its text
    undated = (a_kind == "date") & np.isnan(a_span[:, 1])
    a_kind[undated], a_unit[undated] = "text", ""
    is_t_date, is_a_date = t_kind == "date", a_kind == "date"
    out["target_kind"] = t_kind
    out["target_op"] = target["op"].to_numpy()
    out["target_value"] = np.where(is_t_date, t_span[:, 1], target["value"].to_numpy(dtype=float))
    out["target_low"] = np.where(is_t_date, t_span[:, 0], target["low"].to_numpy(dtype=float))
    out["target_high"] = np.where(is_t_date, t_span[:, 1], target["high"].to_numpy(dtype=float))
    out["target_unit"] = _name_unit_for_bare_targets(frame, target)
    out["actual_kind"] = a_kind
    out["actual_unit"] = a_unit
    out["actual_low"] = np.where(is_a_date, a_span[:, 0], actual["low"].to_numpy(dtype=float))
    out["actual_high"] = np.where(is_a_date, a_span[:, 1], actual["high"].to_numpy(dtype=float))
    value = np.where(is_a_date, a_span[:, 0], actual["value"].to_numpy(dtype=float))
    a_units, t_units = out["actual_unit"].to_numpy(dtype=object), out["target_unit"].to_numpy(dtype=object)
    codes, first = distinct_rows(a_units, t_units)
    factors = [unit_factor(a_units[i], t_units[i]) for i in first]
    factor = np.array([f if f is not None else 1.0 for f in factors], dtype=float)[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        # divide by 10⁴ rather than multiply by 10⁻⁴: 36500人次 is exactly 3.65万人次
        inverse = np.where((factor > 0) & (factor < 1), np.round(1.0 / factor), np.nan)
        value = np.where(np.abs(inverse * factor - 1.0) < 1e-12, value / inverse, value * factor)
    # Excel percent cells arrive as fractions (a typed "96%" is stored as 0.96; "=100%" becomes the
    # formula value 1): when one side says % and the other is a bare fraction, read the fraction as percent
    t_unit, a_unit = out["target_unit"].to_numpy(), out["actual_unit"].to_numpy()
    t_val = out["target_value"].to_numpy(dtype=float)
    t_ref = np.where(np.isnan(t_val), out["target_high"].to_numpy(dtype=float), t_val)
    scale_actual = (t_unit == "%") & (a_unit == "") & (np.abs(value) <= 1.5) & (t_ref > 1.5)
    out["actual_value"] = np.where(scale_actual, value * 100, value)
    # (a bare target that took "%" from its name is still a bare fraction here: 1 in a "（%）" row is 100%)
    written = target["unit"].to_numpy()
    scale_target = (a_unit == "%") & (written == "") & (np.abs(t_ref) <= 1.5) & (value > 1.5)
    for column in ("target_value", "target_low", "target_high"):
        col = out[column].to_numpy(dtype=float)
        out[column] = np.where(scale_target, col * 100, col)
    out["target_unit"] = np.where(scale_target, "%", t_unit)
    out["actual_unit"] = np.where(scale_actual, "%", a_unit)
    return out


def _stack(frames: Sequence[pd.DataFrame], pidx: Sequence[int]) -> pd.DataFrame:
    """Concatenate per-project frames column by column (pd.concat is slow for 10⁴ frames) and add `pidx`.

    Each column is the object concatenation of the projects' values, then float or int where the first
    frame's column is, as one object array per project would give."""
    if not frames:
        return pd.DataFrame({"pidx": pd.Series(dtype=int)})
    lengths = _lengths(frames)
    if len(frames) > 1 and not lengths.any() and _labelled_alike(frames):
        return _stack(frames[:1], pidx[:1])  # no rows (a portfolio without 报告陈述): the first's columns say it all
    columns = list(frames[0].columns)
    arrays = _column_arrays(frames, columns)
    out = pd.DataFrame(dict(zip(range(len(columns)), arrays, strict=True)), copy=False)  # the arrays are new
    out.columns = columns
    for c, first in zip(columns, frames[0].dtypes, strict=True):
        kind = first.kind
        if kind in "fi" and out[c].dtype.kind != kind:
            out[c] = out[c].astype(float) if kind == "f" else out[c].astype(int)
    out["pidx"] = np.repeat(np.asarray(pidx, dtype=int), lengths)
    return out


def _labelled_alike(frames: Sequence[pd.DataFrame]) -> bool:
    """Whether every frame has the first's column labels (compared once per distinct label array) and the first's
    columns are all float64, int64 or object. Frames without rows so labelled stack to what the first alone stacks
    to: each column takes the first frame's dtype, whether or not their blocks are laid out alike."""
    columns = frames[0].columns
    if not all(dtype in _PLAIN for dtype in frames[0].dtypes):
        return False
    indexes = list(map(_COLUMNS, frames))
    try:
        shared = _each(id, map(_LABELS, indexes))
    except AttributeError:
        shared = _each(id, indexes)
    return all(indexes[i] is columns or indexes[i].equals(columns) for i in distinct_rows(shared)[1].tolist())


def _column_arrays(frames: Sequence[pd.DataFrame], columns: list) -> list[np.ndarray]:
    """One array per column: the frames' values one after the other, as objects except float and int columns
    joined from frames that all hold them so. Frames laid out alike (the same columns in the same blocks of the
    same dtypes, as a loader makes them) are joined a block at a time."""
    blocks = _blocks_alike(frames)
    if blocks is not None:
        arrays: list[np.ndarray | None] = [None] * len(columns)
        for b, first in enumerate(blocks[0]):
            if isinstance(first.values, np.ndarray) and first.values.ndim == 2 and first.values.dtype.kind in "fiO":
                values = np.concatenate(list(map(_VALUES, map(itemgetter(b), blocks))), axis=1)  # float, int kept
            else:
                width = len(first.mgr_locs)  # an extension block holds one column; a datetime block may hold more
                values = np.concatenate([np.asarray(f[b].values, dtype=object).reshape(width, -1) for f in blocks],
                                        axis=1)
            for k, j in enumerate(first.mgr_locs.as_array):
                arrays[j] = values[k]
        if all(a is not None for a in arrays):
            return arrays  # type: ignore[return-value]
    whole = [f.to_numpy(dtype=object) if list(f.columns) == columns else f[columns].to_numpy(dtype=object)
             for f in frames]
    stacked = np.concatenate(whole)
    return [stacked[:, j] for j in range(len(columns))]


def _blocks_alike(frames: Sequence[pd.DataFrame]) -> list | None:
    """Each frame's pandas blocks when every frame has the first's columns in blocks of the same dtypes and
    column positions; None otherwise (or when pandas keeps no such blocks). Compared once per distinct set of
    block placement and dtype objects and once per distinct column index: a loader's slices share their parent's
    (one per portfolio workbook), and the objects are told apart by identity, without Python work per frame."""
    try:
        blocks = list(map(_BLOCKS, frames))
        first = blocks[0]
        layout = _layout(first)
        if (_each(len, blocks) != len(first)).any():
            return None
        keys = []
        for j in range(len(first)):
            column = list(map(itemgetter(j), blocks))
            keys += [_each(id, map(_PLACEMENT, column)), _each(id, map(_DTYPE, column))]
        for i in distinct_rows(*keys)[1]:  # the objects are alive (held by `frames`): ids stay theirs
            if _layout(blocks[i]) != layout:
                return None
    except AttributeError:
        return None
    columns = frames[0].columns
    indexes = list(map(_COLUMNS, frames))
    try:  # an index's labels are its `_data`: indexes holding the same label array hold the same labels
        shared = _each(id, map(_LABELS, indexes))
    except AttributeError:
        shared = _each(id, indexes)
    for i in distinct_rows(shared)[1]:
        if indexes[i] is not columns and not indexes[i].equals(columns):
            return None
    return blocks


def _each(func, items) -> np.ndarray:
    """func(item) for each item, as int64 (iterated in C: `func` a builtin, `items` a list or a map of getters)."""
    return np.fromiter(map(func, items), dtype=np.int64)


def _lengths(frames: Sequence[pd.DataFrame]) -> np.ndarray:
    """Each frame's number of rows, worked out once per distinct index object (a loader's slices of one length
    share one)."""
    indexes = list(map(_INDEX, frames))
    codes, first = distinct_rows(_each(id, indexes))
    return np.array([len(indexes[i]) for i in first], dtype=np.int64)[codes]


_PLAIN = (np.dtype(np.float64), np.dtype(np.int64), np.dtype(object))
_BLOCKS, _COLUMNS, _INDEX = attrgetter("_mgr.blocks"), attrgetter("columns"), attrgetter("index")
_LABELS = attrgetter("_data")
_PLACEMENT, _DTYPE, _VALUES = attrgetter("_mgr_locs"), attrgetter("values.dtype"), attrgetter("values")


def _layout(blocks) -> list:
    """Blocks' (dtype, column positions)."""
    return [(b.values.dtype, loc if (loc := b.mgr_locs.indexer).__class__ is slice else loc.tobytes())
            for b in blocks]


def _kept_rules(ind: pd.DataFrame, projects: Sequence[Project], pidx: Sequence[int]) -> np.ndarray:
    """The rule of each row of the stacked indicator frame: the rules each project keeps (`Project.rules`), those
    not yet worked out inferred in one pass over their rows and then kept with their projects."""
    known = list(map(known_rules, projects))
    missing = [k for k, rules in enumerate(known) if rules is None]
    if missing:
        rows = ind["pidx"].to_numpy()
        wanted = np.asarray(pidx, dtype=np.int64)[missing]
        starts, ends = np.searchsorted(rows, wanted, "left"), np.searchsorted(rows, wanted, "right")
        lengths = ends - starts
        take = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(lengths.sum())
        keys = ind[[c for c in RULE_KEYS if c in ind]]
        inferred = indicator_rules(keys if len(take) == len(ind) else keys.iloc[take])
        bounds = np.concatenate(([0], np.cumsum(lengths))).tolist()
        if len(missing) == len(projects) and len(take) == len(ind):
            keep_rules_in_runs(projects, inferred, bounds)
            return inferred.copy()  # every project's rules, in the frame's order: what joining them gives
        for j, k in enumerate(missing):
            known[k] = keep_rules(projects[k], inferred[bounds[j]:bounds[j + 1]], checked=False)
    return np.concatenate(known) if known else np.zeros(0, dtype=object)


@dataclass(frozen=True)
class PortfolioFrames:
    """Results for many projects at once. Every frame's first column is `project_id` (项目编号);
    `pidx` (position in the input list) stays beside it: it tells apart two projects that share an id
    and is what `setups` is keyed by."""

    indicators: pd.DataFrame
    levels: pd.DataFrame
    projects: pd.DataFrame  # project_id, pidx, name, year, total, grade, budget columns, rates, scheme
    findings: pd.DataFrame
    stated: pd.DataFrame
    setups: dict[int, tuple[Scheme, ScoringOptions]] = field(default_factory=dict)  # pidx -> choices used


def _score_group(projects: Sequence[Project], pidx: Sequence[int], scheme: Scheme,
                 options: ScoringOptions) -> PortfolioFrames:
    # what is read of each project, read in one pass over them (a portfolio's projects are many small objects)
    indicators, stated_frames, budgets, allocated, spent, funding, years = (
        zip(*map(_GROUP_FIELDS, projects), strict=True) if len(projects) else ((),) * 7)
    ind = _stack(list(indicators), pidx)
    stated = _stack(list(stated_frames), pidx)
    head = pd.DataFrame({
        "pidx": list(pidx),
        "budget": list(budgets),
        "allocated": list(allocated),
        "spent": list(spent),
        "funding_total": [sum(f.values()) if f else np.nan for f in funding],
    })
    execution, arrival, deviation = rates(head["budget"], head["allocated"], head["spent"],
                                          options.execution_denominator)
    head["execution_rate"], head["arrival_rate"], head["deviation_rate"] = execution, arrival, deviation

    ind["level1"] = _scheme_levels(ind["level1"], scheme)
    ind = _parsed(ind, dict(zip(pidx, years, strict=True)))
    rule = pd.Series(_kept_rules(ind, projects, pidx), index=ind.index)  # its dtype inferred as a column's is
    at = _positions(head["pidx"].to_numpy(), ind["pidx"].to_numpy())  # each row's project in `head`
    ind = with_columns(ind, {"rule": rule,
                             "rule_label": _per_value(rule, lambda rules: rules.map(RULE_LABELS)),
                             "execution_rate": head["execution_rate"].to_numpy()[at],
                             "arrival_rate": head["arrival_rate"].to_numpy()[at]})
    ind = score_frame(ind, options, scheme.scale(options.qualitative_scale))

    order = [lv.name for lv in scheme.levels]
    grid = pd.MultiIndex.from_product([list(pidx), order], names=["pidx", "name"])
    sums = ind.groupby(["pidx", "level1"], sort=False)[["weight", "score"]].sum()
    sums.index.names = ["pidx", "name"]
    levels = sums.reindex(grid, fill_value=0.0).reset_index()
    levels["score"] = round_scores(levels["score"], "half_up", options.decimals)
    with np.errstate(divide="ignore", invalid="ignore"):
        levels["score_rate"] = np.where(levels["weight"] > 0, levels["score"] / levels["weight"], np.nan)
    # a level's weight is what its items add up to in the table; the scheme's is kept beside it
    levels["scheme_weight"] = levels["name"].map({lv.name: lv.weight for lv in scheme.levels}).astype(float)
    totals = levels.groupby("pidx", sort=False)["score"].sum()
    head["total"] = round_scores(totals.reindex(head["pidx"]).to_numpy(), "half_up", options.decimals)
    grades = _per_value(head["total"], lambda totals: pd.Series([scheme.grade(t) for t in totals], dtype=object))
    head["grade"] = np.asarray(grades, dtype=object)  # a list of grades, as it was written
    findings = with_sheet_findings(audit(ind, levels, head, stated, scheme, options), projects, pidx)
    findings = with_level_findings(findings, ind, scheme, options.decimals)
    findings = with_ledger_findings(findings, ind, projects, pidx, options.decimals)
    return PortfolioFrames(ind, levels, head, findings, stated)


_SCHEME_ID = attrgetter("scheme_id")
_GROUP_FIELDS = attrgetter("indicators", "stated", "budget", "allocated", "spent", "funding", "year")


def _positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Where each of `wanted` is in `keys` (distinct non-negative ints, every wanted one among them)."""
    table = np.zeros(int(max(keys.max(initial=0), wanted.max(initial=0))) + 1, dtype=np.int64)
    table[keys] = np.arange(len(keys))
    return table[wanted]


def with_ledger_findings(findings: pd.DataFrame, ind: pd.DataFrame, projects: Sequence[Project],
                         pidx: Sequence[int], decimals: int) -> pd.DataFrame:
    """The findings with the evidence ledger's (`perfeval.evidence`) for the projects that keep one."""
    from perfeval.scoring.evidence import ledger_findings

    extra = []
    for project, i in compress(zip(projects, pidx, strict=True), map(_LEDGER, projects)):
        if project.ledger:
            found = ledger_findings(ind[ind["pidx"] == i], project, decimals)
            if len(found):
                extra.append(found.assign(pidx=i))
    if not extra:
        return findings
    merged = pd.concat([findings, *extra], ignore_index=True) if len(findings) else pd.concat(extra, ignore_index=True)
    return _by_project_and_severity(merged)


_LEDGER, _SHEET_FINDINGS = attrgetter("ledger"), attrgetter("sheet_findings")

#: sheet problems the audit recomputes from the weights being scored (a what-if may have changed them)
RECOMPUTED_CODES = frozenset({"weights"})
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _by_project_and_severity(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings ordered by project, then severity (errors first); stable, so each severity keeps its order."""
    return findings.sort_values(["pidx", "severity"], key=lambda s: s.map(_SEVERITY_ORDER) if s.name == "severity"
                                else s, kind="stable", ignore_index=True)


def _scheme_levels(labels: pd.Series, scheme: Scheme) -> pd.Series:
    """Each 一级指标 as the scheme names it. A project validated under another scheme keeps that scheme's
    names ('决策'); the scheme's aliases map them ('决策' → '立项决策'). A label the scheme does not know is
    kept as written: its items are then outside every level of the scheme (`with_level_findings` says so)."""
    codes, first = distinct_rows(labels)  # once per distinct label, as `unique_map` does (objects kept)
    named = np.fromiter(((scheme.level_of(label) if isinstance(label, str) else None) or label
                         for label in labels.to_numpy(dtype=object)[first]), dtype=object, count=len(first))
    return pd.Series(named[codes], index=labels.index, dtype=object)


def with_level_findings(findings: pd.DataFrame, ind: pd.DataFrame, scheme: Scheme, decimals: int) -> pd.DataFrame:
    """An error per project and 一级指标 the scheme does not have: its items' points are in no level and so
    not in the total (never dropped silently)."""
    known = {level.name for level in scheme.levels}
    outside = ind[~ind["level1"].isin(known)]
    if outside.empty:
        return findings
    names = "、".join(level.name for level in scheme.levels)
    groups = outside.groupby(["pidx", "level1"], sort=False)
    records = [{"pidx": i, "code": "level_not_in_scheme", "severity": "error",
                "message": f"一级指标「{label}」不是评价方案「{scheme.name}」的一级指标（{names}）：其下 {len(g)} 项"
                           f"指标（分值 {fmt_num(g['weight'].sum(), decimals)} 分，得分 "
                           f"{fmt_num(g['score'].sum(), decimals)} 分）未计入总分；请核对评价方案或指标表的一级指标",
                "where": "指标表第" + "、".join(str(int(r)) for r in g["row"]) + "行"}
               for (i, label), g in groups]
    extra = pd.DataFrame.from_records(records, columns=list(AUDIT_COLUMNS))
    merged = pd.concat([extra, findings], ignore_index=True) if len(findings) else extra
    return _by_project_and_severity(merged)


def with_sheet_findings(findings: pd.DataFrame, projects: Sequence[Project], pidx: Sequence[int]) -> pd.DataFrame:
    """The audit's findings with each project's `sheet_findings` (what is wrong with the table as
    written: a repeated row, a level header's weight …; a reader's notes on how it read the table) as findings
    of their own severity, first within each severity."""
    found = list(map(_SHEET_FINDINGS, projects))
    records = [{"pidx": i, "code": q.code, "severity": q.severity, "message": q.expected,
                "where": q.place or q.location}
               for sheet_findings, i in compress(zip(found, pidx, strict=True), found)
               for q in sheet_findings if q.code not in RECOMPUTED_CODES]
    if not records:
        return findings
    sheet = pd.DataFrame.from_records(records, columns=list(AUDIT_COLUMNS))
    merged = pd.concat([sheet, findings], ignore_index=True) if len(findings) else sheet
    return _by_project_and_severity(merged)


def evaluate_frames(projects: Sequence[Project], scheme: str | Path | Scheme | None = None,
                    options: ScoringOptions | Mapping | None = None) -> PortfolioFrames:
    """Score many projects and return tidy frames keyed by `project_id` (no per-project objects).

    Each frame also keeps `pidx`, the project's position in `projects`. Projects are grouped by scheme
    (the one given, or each project's own 评价方式)."""
    with collection_paused():  # millions of small objects, few reference cycles
        return _evaluate_frames(projects, scheme, options)


def _evaluate_frames(projects: Sequence[Project], scheme: str | Path | Scheme | None,
                     options: ScoringOptions | Mapping | None) -> PortfolioFrames:
    given = load_scheme(scheme) if scheme is not None else None  # a scheme file is read once
    specs = [given.spec] * len(projects) if given else list(map(_SCHEME_ID, projects))
    groups: dict[str, list[int]] = {}
    if len(set(specs)) == 1:
        groups[specs[0]] = list(range(len(projects)))
    else:
        for i, spec in enumerate(specs):
            groups.setdefault(spec, []).append(i)
    setups: dict[int, tuple[Scheme, ScoringOptions]] = {}
    frames = []
    for spec, idx in groups.items():
        chosen = given or load_scheme(spec)
        opts = _options(chosen, options)
        frames.append(_score_group(projects if len(idx) == len(projects) else [projects[i] for i in idx], idx,
                                   chosen, opts))
        setups.update(dict.fromkeys(idx, (chosen, opts)))
    if not frames:
        empty = pd.DataFrame()
        return PortfolioFrames(empty, empty, empty, empty, empty)

    ids, names, years = (np.fromiter(map(attrgetter(a), projects), dtype=object, count=len(projects))
                         for a in ("id", "name", "year"))

    def cat(attr: str) -> pd.DataFrame:
        return keyed(pd.concat([getattr(f, attr) for f in frames], ignore_index=True), ids)

    head = cat("projects").sort_values("pidx", ignore_index=True)
    at = head["pidx"].to_numpy()
    head.insert(2, "name", pd.array(names[at].tolist(), dtype=object))
    head.insert(3, "year", pd.array(years[at].tolist(), dtype="Int64"))
    scheme_ids = np.fromiter((setups[i][0].id for i in range(len(projects))), dtype=object, count=len(projects))
    head["scheme"] = scheme_ids[at].tolist()
    return PortfolioFrames(cat("indicators"), cat("levels"), head, cat("findings"), cat("stated"), setups)


def keyed(frame: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """`frame` with `project_id` (the 项目编号 of each row's `pidx`) as its first column."""
    out = frame.drop(columns="project_id", errors="ignore")
    pidx = out["pidx"].to_numpy(dtype=int) if "pidx" in out else np.zeros(0, dtype=int)
    out.insert(0, "project_id", ids[pidx] if len(out) else np.array([], dtype=object))
    return out


def evaluate_many(projects: Sequence[Project], scheme: str | Path | Scheme | None = None,
                  options: ScoringOptions | Mapping | None = None) -> list[Evaluation]:
    """Evaluate many projects in one vectorised pass; results in input order."""
    frames = evaluate_frames(projects, scheme, options)
    if not projects:
        return []
    ind = {k: g for k, g in frames.indicators.groupby("pidx", sort=False)}
    lev = {k: g for k, g in frames.levels.groupby("pidx", sort=False)}
    fnd = {k: g for k, g in frames.findings.groupby("pidx", sort=False)} if len(frames.findings) else {}
    sta = {k: g for k, g in frames.stated.groupby("pidx", sort=False)} if len(frames.stated) else {}
    out = []
    empty_findings = pd.DataFrame(columns=[*FINDING_COLUMNS, "pidx"])
    for row in frames.projects.itertuples():
        project = projects[row.pidx]
        chosen, opts = frames.setups[row.pidx]
        budget = Budget(project.budget, project.allocated, project.spent, row.execution_rate,
                        row.arrival_rate, row.deviation_rate, opts.execution_denominator,
                        dict(project.funding))
        key = ["pidx", "project_id"]  # the indicators keep project_id: a stacked set of them stays keyed
        out.append(Evaluation(
            project=project, scheme=chosen, options=opts,
            indicators=ind[row.pidx].drop(columns="pidx").reset_index(drop=True),
            levels=lev[row.pidx].drop(columns=key).reset_index(drop=True),
            budget=budget,
            findings=fnd.get(row.pidx, empty_findings).drop(columns=key, errors="ignore").reset_index(drop=True),
            total=float(row.total), grade=row.grade,
            stated=sta.get(row.pidx, project.stated.assign(pidx=row.pidx)).drop(columns=key, errors="ignore")
            .reset_index(drop=True),
        ))
    return out


def evaluate(project: Project, scheme: str | Path | Scheme | None = None,
             options: ScoringOptions | Mapping | None = None) -> Evaluation:
    """Evaluate one project. `scheme` defaults to the project's 评价方式; `options` overrides
    the scheme's scoring options (a `ScoringOptions` or a dict such as {"negative_rule": "linear"})."""
    return evaluate_many([project], scheme, options)[0]
