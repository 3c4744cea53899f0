"""One formatter for every number perfeval writes (perfeval.display): rounding 四舍五入 on the written decimal,
no negative zero, '—' for what is missing, amounts in 万元 (元 under 1 万元) — and the views use it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfeval import display
from perfeval.display import (
    fmt_amount,
    fmt_change,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_read,
    half_up,
    severity_label,
    signed_pct,
)


@pytest.mark.parametrize(("value", "places", "expected"), [
    (5.25, 1, "5.3"),        # binary 5.25 is exact: Python's format gives '5.2' (half-even)
    (2.675, 2, "2.68"),      # binary 2.67499999…: as written it is a tie, rounded up
    (0.125, 2, "0.13"),
    (98.94, 2, "98.94"), (20.0, 2, "20"), (19.780, 2, "19.78"), (100, 0, "100"), (1000.0, 2, "1000"),
    (-0.001, 2, "0"), (-0.0, 2, "0"), (-1.5, 0, "-2"),
])
def test_fmt_num_rounds_half_up_on_the_written_decimal(value: float, places: int, expected: str) -> None:
    assert fmt_num(value, places) == expected


def test_missing_values_are_a_dash() -> None:
    for missing in (None, math.nan, np.nan, math.inf, -math.inf, "abc", np.float64("nan")):
        assert fmt_num(missing) == "—"
        assert fmt_pct(missing) == "—"
        assert fmt_money(missing) == "—"
        assert fmt_amount(missing) == "—"
        assert fmt_read(missing) == "—"
        assert signed_pct(missing) == "—"
    assert fmt_change(math.nan) == "0"


def test_untrimmed_keeps_decimals_without_negative_zero() -> None:
    assert fmt_num(98.9, 2, trim=False) == "98.90"
    assert fmt_num(-0.001, 2, trim=False) == "0.00"
    assert fmt_pct(1.0, 1, trim=False) == "100.0%"
    assert fmt_pct(-0.0001, 1, trim=False) == "0.0%"


def test_percentages() -> None:
    assert fmt_pct(0.95577) == "95.6%"
    assert fmt_pct(1.0) == "100%"
    assert fmt_pct(0.9565) == "95.7%"          # 95.65 as written: up
    assert fmt_pct(1.0, 0) == "100%"           # no trailing zero of an integer is stripped
    assert signed_pct(-0.044) == "-4.4%" and signed_pct(0.053) == "+5.3%" and signed_pct(0.0001) == "0%"


def test_money_in_wan_and_yuan() -> None:
    assert fmt_money(150) == "150万元"
    assert fmt_money(62.79) == "62.79万元"
    assert display.fmt_money_spaced(62.79) == "62.79 万元"
    assert fmt_amount(5000) == "5,000 万元"
    assert fmt_amount(33.46) == "33.46 万元"
    assert fmt_amount(0.0075) == "75 元"       # under 1 万元: in 元
    assert fmt_amount(0) == "0 万元"
    assert fmt_read(36500) == "36,500" and fmt_read(0.955768) == "0.955768" and fmt_read(1e20) == "1×10^20"


def test_changes_use_the_minus_sign() -> None:
    assert fmt_change(0.4) == "+0.4"
    assert fmt_change(-0.22) == "−0.22"
    assert fmt_change(0.001) == "0"
    assert fmt_change(-0.004) == "0"


def test_half_up() -> None:
    assert half_up(5.25, 1) == "5.3" and half_up(0.045, 2) == "0.05"


def test_severity_labels_are_one_table() -> None:
    from perfeval.batch import summary as batch_summary
    from perfeval.report import compose as narrative
    from perfeval.report import summary
    from perfeval.workbench import tables

    assert severity_label("error") == "错误" and severity_label("warning") == "警告"
    assert severity_label("info") == "提示" and severity_label("other") == "other"
    for module in (narrative, summary, batch_summary, tables):
        assert module.SEVERITY_LABELS is display.SEVERITY_LABELS


def test_views_format_through_display() -> None:
    """The report text, `perfeval score`, the workbench tables, the batch index and the panel write a tie the
    same way (before: the report '5.3', the others Python's '5.2')."""
    from perfeval.batch.summary import _num
    from perfeval.panel import merge
    from perfeval.report import compose as narrative
    from perfeval.report import summary
    from perfeval.workbench import tables

    assert narrative.fmt_num(5.25, 1) == tables.num(5.25, 1) == "5.3" and merge._fmt(2.675) == "2.68"
    assert summary._n(0.125) == tables.num(0.125) == merge._fmt(0.125) == "0.13"
    assert merge._fmt(0) == "0"                # was '' ('0.00' stripped of every zero)
    assert summary._n(math.inf) == "—"         # was 'inf'
    assert summary.pct(1.0) == tables.pct(1.0) == "100.0%"
    assert _num(2.675) == ("2.68", repr(2.675)) and _num(None) == ("—", "")
    assert tables.signed(-0.22) == "−0.22"


def test_deviations_use_the_one_formatter_and_keep_whole_percents() -> None:
    """A whole-percent 偏差率 keeps its zeros (its copy in deviations.py once wrote −10% as −1%)."""
    from perfeval.scoring import deviations

    assert deviations.signed_pct is signed_pct
    assert signed_pct(-0.10, 0) == "-10%" and signed_pct(0.20, 0) == "+20%" and signed_pct(0.053) == "+5.3%"
