"""Evaluate projects: parse, score, total, grade and audit — one vectorised pass for many projects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.audit import COLUMNS as AUDIT_COLUMNS
from perfeval.audit import audit
from perfeval.budget import Budget, rates
from perfeval.model import Project
from perfeval.notation import parse_series, parse_value, unit_factor
from perfeval.rules import RULE_LABELS, infer_rule, round_scores, score_frame
from perfeval.scheme import Scheme, ScoringOptions, load_scheme

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
                 "score": num(r.score, d), "stated_score": num(r.stated_score, d),
                 "deviation": num(r.deviation, rd)}
                for r in self.indicators.itertuples()
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


def _parsed(frame: pd.DataFrame) -> pd.DataFrame:
    """Add parsed target/actual columns, with the actual converted into the target's unit."""
    target = parse_series(frame["target"])
    actual = parse_series(frame["actual"])
    out = frame.copy()
    out["target_kind"] = target["kind"].to_numpy()
    out["target_op"] = target["op"].to_numpy()
    out["target_value"] = target["value"].to_numpy(dtype=float)
    out["target_low"] = target["low"].to_numpy(dtype=float)
    out["target_high"] = target["high"].to_numpy(dtype=float)
    out["target_unit"] = target["unit"].to_numpy()
    out["actual_kind"] = actual["kind"].to_numpy()
    out["actual_unit"] = actual["unit"].to_numpy()
    value = actual["value"].to_numpy(dtype=float)
    pairs = list(zip(out["actual_unit"].to_numpy(), out["target_unit"].to_numpy(), strict=True))
    factors = {p: unit_factor(*p) for p in set(pairs)}
    factor = np.array([factors[p] if factors[p] is not None else 1.0 for p in pairs], dtype=float)
    value = value * factor
    # Excel percent cells arrive as fractions (a typed "96%" is stored as 0.96; "=100%" becomes the
    # formula value 1): when one side says % and the other is a bare fraction, read the fraction as percent
    t_unit, a_unit = out["target_unit"].to_numpy(), out["actual_unit"].to_numpy()
    t_val = out["target_value"].to_numpy(dtype=float)
    t_ref = np.where(np.isnan(t_val), out["target_high"].to_numpy(dtype=float), t_val)
    scale_actual = (t_unit == "%") & (a_unit == "") & (np.abs(value) <= 1.5) & (t_ref > 1.5)
    out["actual_value"] = np.where(scale_actual, value * 100, value)
    scale_target = (a_unit == "%") & (t_unit == "") & (np.abs(t_ref) <= 1.5) & (value > 1.5)
    for column in ("target_value", "target_low", "target_high"):
        col = out[column].to_numpy(dtype=float)
        out[column] = np.where(scale_target, col * 100, col)
    out["target_unit"] = np.where(scale_target, "%", t_unit)
    out["actual_unit"] = np.where(scale_actual, "%", a_unit)
    return out


def _stack(frames: Sequence[pd.DataFrame], pidx: Sequence[int]) -> pd.DataFrame:
    """Concatenate per-project frames through one object array (pd.concat is slow for 10⁴ frames)
    and add `pidx`."""
    if not frames:
        return pd.DataFrame({"pidx": pd.Series(dtype=int)})
    columns = list(frames[0].columns)
    blocks = [f.to_numpy(dtype=object) if list(f.columns) == columns else f[columns].to_numpy(dtype=object)
              for f in frames]
    out = pd.DataFrame(np.concatenate(blocks), columns=columns)
    for c in columns:
        kind = frames[0][c].dtype.kind
        out[c] = out[c].astype(float) if kind == "f" else out[c].astype(int) if kind == "i" else out[c]
    out["pidx"] = np.repeat(np.asarray(pidx, dtype=int), [len(f) for f in frames])
    return out


def _rules(frame: pd.DataFrame) -> np.ndarray:
    explicit = frame["method"].fillna("").to_numpy(dtype=object)
    rules = explicit.copy()
    need = np.flatnonzero(explicit == "")
    keys = list(zip(frame["name"].to_numpy()[need], frame["level3"].to_numpy()[need],
                    frame["target"].to_numpy()[need], frame["actual"].to_numpy()[need], strict=True))
    inferred = {k: infer_rule(k[0], k[1], parse_value(k[2]), parse_value(k[3])) for k in set(keys)}
    rules[need] = [inferred[k] for k in keys]
    return rules


@dataclass(frozen=True)
class PortfolioFrames:
    """Results for many projects at once, keyed by `pidx` (position in the input list)."""

    indicators: pd.DataFrame
    levels: pd.DataFrame
    projects: pd.DataFrame  # pidx, total, grade, budget columns, rates
    findings: pd.DataFrame
    stated: pd.DataFrame
    setups: dict[int, tuple[Scheme, ScoringOptions]] = field(default_factory=dict)  # pidx -> choices used


def _score_group(projects: Sequence[Project], pidx: Sequence[int], scheme: Scheme,
                 options: ScoringOptions) -> PortfolioFrames:
    ind = _stack([p.indicators for p in projects], pidx)
    stated = _stack([p.stated for p in projects], pidx)
    head = pd.DataFrame({
        "pidx": list(pidx),
        "budget": [p.budget for p in projects],
        "allocated": [p.allocated for p in projects],
        "spent": [p.spent for p in projects],
        "funding_total": [sum(p.funding.values()) if p.funding else np.nan for p in projects],
    })
    execution, arrival, deviation = rates(head["budget"], head["allocated"], head["spent"],
                                          options.execution_denominator)
    head["execution_rate"], head["arrival_rate"], head["deviation_rate"] = execution, arrival, deviation

    ind = _parsed(ind)
    ind["rule"] = _rules(ind)
    ind["rule_label"] = ind["rule"].map(RULE_LABELS)
    by_pidx = head.set_index("pidx")
    ind["execution_rate"] = by_pidx["execution_rate"].reindex(ind["pidx"]).to_numpy()
    ind["arrival_rate"] = by_pidx["arrival_rate"].reindex(ind["pidx"]).to_numpy()
    ind = score_frame(ind, options, scheme.scale(options.qualitative_scale))

    order = [lv.name for lv in scheme.levels]
    grid = pd.MultiIndex.from_product([list(pidx), order], names=["pidx", "name"])
    sums = ind.groupby(["pidx", "level1"], sort=False)[["weight", "score"]].sum()
    sums.index.names = ["pidx", "name"]
    levels = sums.reindex(grid, fill_value=0.0).reset_index()
    levels["score"] = round_scores(levels["score"], "half_up", options.decimals)
    with np.errstate(divide="ignore", invalid="ignore"):
        levels["score_rate"] = np.where(levels["weight"] > 0, levels["score"] / levels["weight"], np.nan)
    totals = levels.groupby("pidx", sort=False)["score"].sum()
    head["total"] = round_scores(totals.reindex(head["pidx"]).to_numpy(), "half_up", options.decimals)
    head["grade"] = [scheme.grade(t) for t in head["total"]]
    findings = audit(ind, levels, head, stated, scheme, options)
    return PortfolioFrames(ind, levels, head, findings, stated)


def evaluate_frames(projects: Sequence[Project], scheme: str | Path | Scheme | None = None,
                    options: ScoringOptions | Mapping | None = None) -> PortfolioFrames:
    """Score many projects and return tidy frames keyed by `pidx` (no per-project objects).

    Projects are grouped by scheme (the one given, or each project's own 评价方式)."""
    given = load_scheme(scheme) if scheme is not None else None  # a scheme file is read once
    groups: dict[str, list[int]] = {}
    for i, project in enumerate(projects):
        groups.setdefault(given.spec if given else project.scheme_id, []).append(i)
    setups: dict[int, tuple[Scheme, ScoringOptions]] = {}
    frames = []
    for spec, idx in groups.items():
        chosen = given or load_scheme(spec)
        opts = _options(chosen, options)
        frames.append(_score_group([projects[i] for i in idx], idx, chosen, opts))
        setups.update(dict.fromkeys(idx, (chosen, opts)))
    if not frames:
        empty = pd.DataFrame()
        return PortfolioFrames(empty, empty, empty, empty, empty)

    def cat(attr: str) -> pd.DataFrame:
        return pd.concat([getattr(f, attr) for f in frames], ignore_index=True)

    head = cat("projects").sort_values("pidx", ignore_index=True)
    head["scheme"] = [setups[i][0].id for i in head["pidx"]]
    return PortfolioFrames(cat("indicators"), cat("levels"), head, cat("findings"), cat("stated"), setups)


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
        out.append(Evaluation(
            project=project, scheme=chosen, options=opts,
            indicators=ind[row.pidx].drop(columns="pidx").reset_index(drop=True),
            levels=lev[row.pidx].drop(columns="pidx").reset_index(drop=True),
            budget=budget,
            findings=fnd.get(row.pidx, empty_findings).drop(columns="pidx").reset_index(drop=True),
            total=float(row.total), grade=row.grade,
            stated=sta.get(row.pidx, project.stated.assign(pidx=row.pidx)).drop(columns="pidx")
            .reset_index(drop=True),
        ))
    return out


def evaluate(project: Project, scheme: str | Path | Scheme | None = None,
             options: ScoringOptions | Mapping | None = None) -> Evaluation:
    """Evaluate one project. `scheme` defaults to the project's 评价方式; `options` overrides
    the scheme's scoring options (a `ScoringOptions` or a dict such as {"negative_rule": "linear"})."""
    return evaluate_many([project], scheme, options)[0]
