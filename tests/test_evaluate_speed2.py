"""evaluate_frames on a portfolio without work it need not do (issue 10, `evaluate_frames` on 10⁶ rows ≤ 3 s): each
shortcut gives exactly what the general way gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import perfeval.scoring.evaluate as ev
from perfeval.model import keep_rules_in_runs, known_rules
from perfeval.notation import _key_codes, distinct_rows
from perfeval.rules import with_columns
from perfeval.sheets.cells import row_slices
from tests.test_evaluate_identity import bench_projects


def _by_hashing(*columns) -> tuple[np.ndarray, np.ndarray]:
    """distinct_rows as its definition says: rows numbered by first appearance of their values taken together
    (values told apart by type and value, as `_key_codes` does)."""
    seen: dict = {}
    codes, first = [], []
    for i, row in enumerate(zip(*columns, strict=True)):
        key = tuple((type(v), v if v == v else "NaN") for v in row)
        if key not in seen:
            seen[key] = len(seen)
            first.append(i)
        codes.append(seen[key])
    return np.array(codes), np.array(first)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_several_large_columns_are_coded_as_by_hashing(seed):
    """Many rows, few keys (coded through a table of every key) and many keys (hashed) alike."""
    rng = np.random.default_rng(seed)
    n = 20_000
    texts = np.array([f"指标{i}" for i in range(12)], dtype=object)
    a = texts[rng.integers(0, 12, n)]
    b = rng.integers(0, 5, n).astype(float)
    b[rng.integers(0, n, 50)] = np.nan
    many = np.array([f"第{i}行" for i in rng.integers(0, 15_000, n)], dtype=object)  # equal texts, not one object
    for columns in ((a, b), (a, b, a), (many, a), (b, many)):
        codes, first = distinct_rows(*columns)
        want_codes, want_first = _by_hashing(*columns)
        assert codes.tolist() == want_codes.tolist()
        assert first.tolist() == want_first.tolist()


def test_equal_texts_held_by_different_objects_share_a_code_and_types_stay_apart():
    n = 10_000
    values = np.empty(n, dtype=object)
    values[:] = ["".join(["预算", "执行率"]) if i % 3 else ("1" if i % 2 else 1) for i in range(n)]
    assert len({id(v) for v in values if isinstance(v, str) and v != "1"}) > 1  # the same text, many objects
    codes = _key_codes(values)
    want, _ = _by_hashing(values)
    assert codes.tolist() == want.tolist()
    assert len(set(codes.tolist())) == 3  # '预算执行率', '1' and 1


def _empty_like_a_loader(parents: int, per: int) -> list[pd.DataFrame]:
    """Projects' 报告陈述 frames without rows, sliced out of parents as a loader slices them."""
    base = bench_projects(1)[0].stated
    frames = []
    for _ in range(parents):
        body = base.iloc[:0].copy()
        frames += row_slices(body, [0] * (per + 1))
    return frames


def test_frames_without_rows_stack_as_the_general_way_stacks_them(monkeypatch):
    frames = _empty_like_a_loader(parents=3, per=5)
    odd = frames[4].copy()
    odd["value"] = odd["value"].astype(object)  # laid out otherwise: the general way joins values as objects
    for group in (frames, [*frames[:4], odd, *frames[5:]]):
        fast = ev._stack(group, list(range(len(group))))
        monkeypatch.setattr(ev, "_labelled_alike", lambda frames: False)
        general = ev._stack(group, list(range(len(group))))
        monkeypatch.undo()
        pd.testing.assert_frame_equal(fast, general, check_exact=True)
        assert len(fast) == 0 and list(fast.columns) == [*group[0].columns, "pidx"]


def test_frames_without_rows_but_other_labels_or_dtypes_take_the_general_way(monkeypatch):
    frames = _empty_like_a_loader(parents=1, per=3)
    calls = []
    column_arrays = ev._column_arrays
    monkeypatch.setattr(ev, "_column_arrays", lambda frames, columns: calls.append(len(frames)) or
                        column_arrays(frames, columns))
    ev._stack(frames, [0, 1, 2])
    assert calls == [1]  # labelled alike, plain dtypes: the first frame alone
    renamed = frames[2].rename(columns={"value": "数值"})
    with pytest.raises(KeyError):  # as the general way says of a frame without the first's columns
        ev._stack([*frames[:2], renamed], [0, 1, 2])
    narrow = frames[2].astype({"value": np.float32})
    ev._stack([narrow, *frames[:2]], [0, 1, 2])
    assert calls == [1, 3, 3]


def test_a_portfolio_keeps_its_rules_project_by_project():
    projects = bench_projects(4)
    rules = np.array([f"r{i}" for i in range(sum(len(p.indicators) for p in projects))], dtype=object)
    bounds = np.concatenate(([0], np.cumsum([len(p.indicators) for p in projects]))).tolist()
    keep_rules_in_runs(projects, rules, bounds)
    for k, project in enumerate(projects):
        kept = known_rules(project)
        assert kept.tolist() == rules[bounds[k]:bounds[k + 1]].tolist()
        assert not kept.flags.writeable
        assert project.rules is kept
    with pytest.raises(ValueError):
        known_rules(projects[0])[0] = "changed"


def test_columns_joined_at_once_are_what_setting_them_one_by_one_gives():
    frame = pd.DataFrame({"name": ["甲", "乙", "丙"], "weight": [1.0, 2.0, 3.0]})
    new = {"kind": np.array(["number", "text", "number"], dtype=object),
           "op": np.array(["≥", None, "≤"], dtype=object),
           "value": np.array([1.5, np.nan, 2.0]),
           "label": pd.array(["a", "b", "c"], dtype=pd.StringDtype(na_value=np.nan)),
           "level": pd.Series(["高", None, "低"], dtype=object)}
    one_by_one = frame.copy()
    for name, values in new.items():
        one_by_one[name] = values
    joined = with_columns(frame, new)
    pd.testing.assert_frame_equal(joined, one_by_one, check_exact=True)
    assert list(frame.columns) == ["name", "weight"]  # the caller's frame is left as it was
    replaced = with_columns(frame, {"weight": np.array([9.0, 8.0, 7.0]), "extra": np.arange(3)})
    assert list(replaced.columns) == ["name", "weight", "extra"] and replaced["weight"].tolist() == [9.0, 8.0, 7.0]
    assert frame["weight"].tolist() == [1.0, 2.0, 3.0]
