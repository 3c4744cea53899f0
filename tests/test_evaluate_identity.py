"""evaluate_frames gives, frame for frame, what it gave before it was made faster: digests of the five frames for
the benchmark's projects (benchmarks/bench_evaluate.py, 60 variants of the reference project), computed with the
code of main before the change (commit 741008e) and compared with `pd.testing.assert_frame_equal` at 50,000
projects when they were taken."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perfeval.scoring.audit import _distinct_per_group
from perfeval.scoring.evaluate import evaluate_frames

ROOT = Path(__file__).resolve().parents[1]

#: frame -> (shape, sha256 of its CSV text at 17 significant digits followed by its dtypes)
BEFORE = {
    "indicators": ((1200, 42), "9348a09070e7d3b4f991c37cd32c178b061aa050a61d003c8e9b9982205d5825"),
    "levels": ((240, 7), "5c1e8240806ab21683219d9cc26e26ddfb14ba1f7f931315ce62786dcc5755ae"),
    "projects": ((60, 14), "889fc9dd4bc79ce3a31ac16d6462ac11c1a1f86c73c702178664b6dede3b1d0b"),
    "findings": ((1368, 6), "9b5a27411e4d01197a5cb9b6f88ddda81da8dceddc824f18c95c359c62907428"),
    "stated": ((1680, 6), "aa9a61b0c5259120bfd1985513443423835261b581155dc81fd2921a30be2e4a"),
}


def bench_projects(n: int):
    spec = importlib.util.spec_from_file_location("bench_evaluate", ROOT / "benchmarks" / "bench_evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.projects(n)


def digest(frame: pd.DataFrame) -> str:
    text = frame.to_csv(float_format="%.17g", lineterminator="\n") + "\n".join(
        f"{c}:{t}" for c, t in frame.dtypes.astype(str).items())
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def frames():
    return evaluate_frames(bench_projects(60))


@pytest.mark.parametrize("name", list(BEFORE))
def test_frames_are_what_they_were(frames, name):
    frame = getattr(frames, name)
    shape, sha = BEFORE[name]
    assert frame.shape == shape
    assert digest(frame) == sha


def test_frames_are_the_same_when_evaluated_again(frames):
    again = evaluate_frames(bench_projects(60))  # new projects: rules inferred afresh, then kept
    for name in BEFORE:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(frames, name), check_exact=True)


def test_distinct_keys_per_group_count_as_nunique_does():
    groups = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 0])
    grouped = np.array([True] * 9 + [True])
    keys = np.array(["a", "b", "a", None, np.nan, "x", "x", "1", "z", pd.NA], dtype=object)
    counts = _distinct_per_group(groups, grouped, keys)
    expected = pd.Series(keys).groupby(groups).transform("nunique").to_numpy()
    assert counts.tolist() == expected.tolist() == [2, 2, 2, 0, 0, 2, 2, 2, 1, 2]
    outside = grouped.copy()
    outside[5:8] = False
    assert _distinct_per_group(groups, outside, keys).tolist()[5:8] == [0, 0, 0]
