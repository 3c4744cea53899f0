"""evaluate_frames at the speed of reading (issue 10, target 2): what repeats across a portfolio is worked out once
per distinct value, and nothing is done in Python once per project where a loader's frames share their parent's
objects. Each shortcut gives what the row-by-row work gives."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfeval.scoring.evaluate as ev
from perfeval import notation
from perfeval.rules import fractions
from perfeval.scheme import load_scheme
from perfeval.sheets.cells import row_slices

ROOT = Path(__file__).resolve().parents[1]


def bench_projects(n: int):
    spec = importlib.util.spec_from_file_location("bench_evaluate", ROOT / "benchmarks" / "bench_evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.projects(n)


def _mixed(n: int, rng: np.random.Generator) -> np.ndarray:
    """n values drawn from texts written as separate (equal) objects, numbers of several types and missing values."""
    pool = [*("".join(["达成", str(k)]) for k in range(5)), *("".join(["达成", str(k)]) for k in range(5)),
            1, 1.0, True, "1", None, np.nan, float("nan"), pd.NA, 0.0, -0.0, "", "x"]
    values = np.empty(len(pool), dtype=object)
    values[:] = pool
    return values[rng.integers(0, len(pool), n)]


@pytest.mark.parametrize("n", [10, notation._BY_OBJECT_FROM + 1, 50_000])
def test_codes_by_object_are_the_codes_by_value(n):
    """A long object column is told apart by object first, then by value: the codes are those of value hashing
    (equal texts held by different objects share a code; 1, 1.0, True and '1', None, NaN and pd.NA stay apart),
    numbered in order of first appearance."""
    values = _mixed(n, np.random.default_rng(n))
    codes = notation._key_codes(values)
    assert codes.tolist() == notation._object_codes(values).tolist()
    seen = np.maximum.accumulate(codes)
    assert codes[0] == 0 and (codes[1:] <= seen[:-1] + 1).all()  # a new code is the next number
    for code in np.unique(codes)[:8]:  # rows of one code hold equal values of one type
        held = values[codes == code]
        assert len({type(v) for v in held}) == 1
        assert all(v is held[0] or (pd.isna(v) and pd.isna(held[0])) or v == held[0] for v in held)


def test_distinct_rows_of_a_strided_object_column():
    """A column taken out of a 2-D object block (not contiguous) is read as its values, not its memory."""
    block = np.empty((20_000, 3), dtype=object)
    block[:] = _mixed(60_000, np.random.default_rng(7)).reshape(-1, 3)
    column = block[:, 1]
    assert not column.flags.c_contiguous
    codes, _ = notation.distinct_rows(column)
    assert codes.tolist() == notation._object_codes(column).tolist()


def test_parsed_per_distinct_row_is_parsed_row_by_row():
    """The parsed columns worked out once per distinct (target, actual, name, year) are those worked out row by row:
    dates without a year take each project's own year, units follow each row's name."""
    targets = ["≥95%", "12月底前", "≥3.6", "=100%", "≤500元", "11月20日", "达成", None]
    actuals = ["96%", "11月", "3.65万人次", "0.96", "480元", "按期完成", "基本达成", "12月20日"]
    names = ["覆盖率（%）", "完成时间", "观众人数（万人次）", "合格率", "单价", "交付时间", "满意度", "时效"]
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(targets), 400)
    frame = pd.DataFrame({"target": np.array(targets, dtype=object)[pick],
                          "actual": np.array(actuals, dtype=object)[rng.integers(0, len(actuals), 400)],
                          "name": np.array(names, dtype=object)[pick], "pidx": rng.integers(0, 5, 400)})
    years = {0: 2021, 1: 2022, 2: 2023, 3: None, 4: 2024}
    fast = ev._parsed(frame, years)
    slow = ev._parsed_rows(frame, frame["pidx"].map(years).to_numpy(dtype=float))
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast["target_kind"].dtype == slow["target_kind"].dtype  # pandas' str, not objects


def test_fractions_per_rule_are_the_formulas_row_by_row():
    """Each rule's fraction, worked out on its own rows, is what the same row alone gets."""
    scheme = load_scheme("third_party")
    options, scale = scheme.options, scheme.scale(scheme.options.qualitative_scale)
    rules = ["positive", "negative", "exact", "range", "zero", "qualitative", "manual", "checklist", "execution",
             "arrival", "deadline", "unknown"]
    rng = np.random.default_rng(11)
    n = 240
    frame = pd.DataFrame({
        "weight": rng.choice([0.0, 5.0, 10.0], n), "rule": np.array(rules, dtype=object)[np.arange(n) % len(rules)],
        "target_value": rng.choice([0.0, 95.0, 100.0, np.nan], n), "target_low": rng.choice([90.0, np.nan], n),
        "target_high": rng.choice([110.0, np.nan], n), "actual_value": rng.choice([0.0, 80.0, 96.0, 120.0, np.nan], n),
        "actual_kind": rng.choice(["number", "date", "text"], n),
        "actual": rng.choice(["达成", "部分达成", "延期2个月", "按期完成", None], n),
        "target": rng.choice(["达成", "≥95%"], n), "deduction": rng.choice([0.0, 2.0, np.nan], n),
        "execution_rate": rng.choice([0.9, 1.2, np.nan], n), "arrival_rate": rng.choice([1.0, 0.5], n)})
    together = fractions(frame, options, scale)
    alone = pd.concat([fractions(frame.iloc[[i]], options, scale) for i in range(n)])
    pd.testing.assert_frame_equal(together, alone, check_exact=True, check_dtype=False)
    assert together.loc[frame["rule"] == "unknown", "fraction"].eq(0.0).all()


def _portfolio(parents: int, per: int) -> list:
    """Projects as a loader makes them from `parents` portfolio workbooks: each one's frames sliced out of one
    parent frame (sharing its blocks, placements and column labels), the parents' column indexes equal, not one."""
    base = bench_projects(1)[0]
    projects = []
    for p in range(parents):
        body = pd.concat([base.indicators] * per, ignore_index=True)
        body.columns = pd.Index(list(base.indicators.columns))  # a parent of its own: labels equal, not shared
        bounds = list(range(0, len(body) + 1, len(base.indicators)))
        for k, part in enumerate(row_slices(body, bounds)):
            projects.append(base.replace(id=f"P{p}-{k}", indicators=part))
    return projects


def test_stacking_a_portfolio_compares_per_parent_not_per_project(monkeypatch):
    """Frames sliced from a few parents are checked once per parent (their column labels compared once per
    distinct label array, their blocks once per distinct placement), and stack to what pd.concat gives."""
    projects = _portfolio(parents=3, per=40)
    frames = [p.indicators for p in projects]
    calls = {"equals": 0, "layout": 0}
    equals, layout = pd.Index.equals, ev._layout

    def counted_equals(self, other):
        calls["equals"] += 1
        return equals(self, other)

    def counted_layout(blocks):
        calls["layout"] += 1
        return layout(blocks)

    monkeypatch.setattr(pd.Index, "equals", counted_equals)
    monkeypatch.setattr(ev, "_layout", counted_layout)
    out = ev._stack(frames, list(range(len(frames))))
    monkeypatch.undo()
    assert calls["equals"] <= 3 and calls["layout"] <= 4  # 120 projects: never once per project
    expected = pd.concat(frames, ignore_index=True)  # _stack reads texts as pandas reads an object array: str
    pd.testing.assert_frame_equal(out.drop(columns="pidx"), expected, check_exact=True, check_dtype=False)
    assert out["pidx"].tolist() == np.repeat(np.arange(120), len(frames[0])).tolist()
    assert ev._lengths(frames).tolist() == [len(f) for f in frames]


def test_a_portfolio_frame_laid_out_otherwise_is_still_stacked_by_its_values():
    projects = _portfolio(parents=2, per=3)
    frames = [p.indicators for p in projects]
    odd = frames[4].copy()
    odd["weight"] = odd["weight"].astype(object)  # another block layout for one project
    frames[4] = odd
    out = ev._stack(frames, list(range(len(frames))))
    assert out["weight"].dtype == float
    assert out["weight"].tolist() == pd.concat([f["weight"].astype(float) for f in frames]).tolist()


def test_work_per_distinct_value_does_not_grow_with_the_portfolio(monkeypatch):
    """Scoring 3× as many variant projects parses no more distinct rows, builds no more messages and classifies
    no more texts: what repeats across projects is worked out once (issue 10: scoring far from the cost of
    reading)."""
    import perfeval.rules as rules
    import perfeval.scoring.audit as audit

    def counts(n: int) -> dict[str, int]:
        seen = {"parsed_rows": 0, "fmt": 0, "classify": 0}
        parsed, fmt, classify = ev._parsed_rows, audit._fmt, rules.classify_text

        def parsed_rows(frame, year):
            seen["parsed_rows"] += len(frame)
            return parsed(frame, year)

        def counted_fmt(*args, **kwargs):
            seen["fmt"] += 1
            return fmt(*args, **kwargs)

        def counted_classify(*args, **kwargs):
            seen["classify"] += 1
            return classify(*args, **kwargs)

        with monkeypatch.context() as m:
            m.setattr(ev, "_parsed_rows", parsed_rows)
            m.setattr(audit, "_fmt", counted_fmt)
            m.setattr(rules, "classify_text", counted_classify)
            frames = ev.evaluate_frames(bench_projects(n))
        assert len(frames.projects) == n
        return seen

    small, large = counts(77), counts(231)  # 77: every (actual, 执行数) variant of the benchmark appears
    assert small == large
    assert small["parsed_rows"] < 77 * 20 / 10
