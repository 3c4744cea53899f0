"""evaluate_frames on many projects: the per-distinct-value shortcuts give what one project at a time gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import perfeval
from perfeval.notation import distinct_rows
from perfeval.scoring.evaluate import _stack, evaluate_frames

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx"


def test_distinct_rows_keeps_apart_what_python_tells_apart():
    values = np.array(["x", None, np.nan, 1, 1.0, "x", None, True, "1"], dtype=object)
    codes, first = distinct_rows(values)
    assert codes.tolist() == [0, 1, 2, 3, 4, 0, 1, 5, 6]  # None ≠ NaN, 1 ≠ 1.0 ≠ True ≠ "1"
    assert first.tolist() == [0, 1, 2, 3, 4, 7, 8]
    codes, _ = distinct_rows(np.array([0.0, -0.0, np.nan, 0.0]))
    assert codes.tolist() == [0, 1, 2, 0]  # -0.0 prints differently from 0.0
    codes, first = distinct_rows(np.array(["a", "a", "b", "a"], dtype=object), np.array([1, 2, 1, 1]))
    assert codes.tolist() == [0, 1, 2, 0] and first.tolist() == [0, 1, 2]


def test_stack_of_differently_laid_out_frames_matches_one_object_array():
    a = pd.DataFrame({"name": ["甲", "乙"], "weight": [1.0, 2.0], "row": [3, 4]})
    b = pd.DataFrame({"weight": [5.0], "name": [None], "row": [7]})[["name", "weight", "row"]]
    c = a.copy()
    c["weight"] = c["weight"].astype(object)  # same columns, another block layout
    out = _stack([a, b, c], [0, 1, 2])
    assert out["name"].tolist()[:2] == ["甲", "乙"] and pd.isna(out["name"][2])
    assert out["weight"].dtype == float and out["weight"].tolist() == [1.0, 2.0, 5.0, 1.0, 2.0]
    assert out["row"].dtype == int and out["pidx"].tolist() == [0, 0, 1, 2, 2]


def test_portfolio_of_variants_scores_as_each_project_alone():
    base = perfeval.load_project(REFERENCE, field_data=False)
    projects = []
    for i in range(6):
        indicators = base.indicators.copy()
        indicators.loc[indicators.index[3], "actual"] = ["90%", "未完成", "", "95%", "100%", "延期2个月"][i]
        projects.append(base.replace(id=f"V{i}", spent=round(base.spent - i * 0.5, 2), indicators=indicators))
    frames = evaluate_frames(projects)
    for i, project in enumerate(projects):
        alone = perfeval.evaluate(project)
        ind = frames.indicators[frames.indicators["pidx"] == i].drop(columns="pidx").reset_index(drop=True)
        pd.testing.assert_frame_equal(ind.drop(columns="project_id"),
                                      alone.indicators.drop(columns="project_id"), check_dtype=False)
        found = frames.findings[frames.findings["pidx"] == i]
        assert found["message"].tolist() == alone.findings["message"].tolist()
        assert found["where"].tolist() == alone.findings["where"].tolist()
        assert frames.projects.loc[i, "total"] == alone.total and frames.projects.loc[i, "grade"] == alone.grade


def test_frames_with_a_block_of_two_datetime_columns_stack_column_by_column() -> None:
    """A pandas datetime block may hold several columns: each keeps its own values (not one flattened row)."""
    from perfeval.scoring.evaluate import _stack

    a = pd.DataFrame({"x": ["a", "b"], "d1": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                      "d2": pd.to_datetime(["2024-03-01", "2024-04-01"]), "f": [1.0, 2.0]})
    b = a.assign(x=["c", "d"])
    out = _stack([a, b], [0, 1])
    assert out["x"].tolist() == ["a", "b", "c", "d"] and out["pidx"].tolist() == [0, 0, 1, 1]
    assert [str(v)[:10] for v in out["d2"]] == ["2024-03-01", "2024-04-01"] * 2
    assert out["f"].tolist() == [1.0, 2.0, 1.0, 2.0]
