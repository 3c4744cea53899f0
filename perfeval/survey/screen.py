"""Screening of invalid responses — vectorised over all respondents at once.

Rules (each excluded response lists every rule it breaks):

* ``incomplete`` — a mapped item is blank, or the respondent id / answer time is blank (when those columns
  are mapped);
* ``duplicate`` — the respondent id appeared on an earlier row (file order): the first is kept, later ones
  are excluded;
* ``straightlining`` — every mapped item has the same answer; judged only when at least
  `STRAIGHTLINE_MIN_ITEMS` (3) items are mapped (with one or two items, equal answers are normal);
* ``out_of_period`` — answered before the survey's start day or after its end day (both days inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfeval.survey.answers import Answers
from perfeval.survey.mapping import STRAIGHTLINE_MIN_ITEMS, SurveyMapping

REASONS: dict[str, str] = {
    "incomplete": "不完整",
    "duplicate": "答卷编号重复",
    "straightlining": "所有题目答案相同（直线作答）",
    "out_of_period": "作答时间不在调查期间",
}
EXCLUDED_COLUMNS = ("行", "答卷编号", "作答时间", "原因", "reasons")


@dataclass(frozen=True)
class Screening:
    """Which responses are valid and why the others are not."""

    valid: np.ndarray  # bool (n,)
    flags: pd.DataFrame  # one bool column per rule (REASONS), one row per response
    excluded: pd.DataFrame  # EXCLUDED_COLUMNS: one row per excluded response, reasons in Chinese and as codes

    @property
    def counts(self) -> dict[str, int]:
        """total, valid, excluded and per rule (a response breaking two rules counts under both)."""
        return {"total": len(self.valid), "valid": int(self.valid.sum()), "excluded": int((~self.valid).sum()),
                **{code: int(self.flags[code].sum()) for code in REASONS}}


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """Element-wise '；'.join of non-empty strings."""
    out = parts[0].astype(object)
    for part in parts[1:]:
        both = (out != "") & (part != "")
        out = np.where(both, out + "；" + part, out + part)
    return out


def screen(answers: Answers, mapping: SurveyMapping) -> Screening:
    """Apply the four rules; every excluded response is listed with its reason(s)."""
    n, k = answers.points.shape
    points = answers.points
    blank = np.isnan(points)
    blank_item = blank.any(axis=1)
    no_id = np.zeros(n, dtype=bool)
    duplicate = np.zeros(n, dtype=bool)
    first_row = answers.rows
    if answers.respondent is not None:
        no_id = answers.respondent == ""
        codes, _ = pd.factorize(answers.respondent)  # hashing, no sort
        first = np.full(codes.max() + 1 if n else 0, -1, dtype=np.int64)
        positions = np.arange(n)
        first[codes[::-1]] = positions[::-1]  # the last write wins: each id's first position
        duplicate = ~no_id & (first[codes] != positions)
        first_row = answers.rows[first[codes]]
    no_time = np.zeros(n, dtype=bool)
    out_of_period = np.zeros(n, dtype=bool)
    if answers.time is not None:
        no_time = np.isnat(answers.time)
        if mapping.start is not None:
            out_of_period |= ~no_time & (answers.time < np.datetime64(mapping.start, "ns"))
        if mapping.end is not None:
            after = np.datetime64(mapping.end, "D") + np.timedelta64(1, "D")
            out_of_period |= ~no_time & (answers.time >= after.astype("datetime64[ns]"))
    straight = np.zeros(n, dtype=bool)
    if k >= STRAIGHTLINE_MIN_ITEMS and n:
        straight = points.max(axis=1) == points.min(axis=1)  # a row with a blank has NaN as its max: False
    incomplete = blank_item | no_id | no_time
    flags = pd.DataFrame({"incomplete": incomplete, "duplicate": duplicate, "straightlining": straight,
                          "out_of_period": out_of_period})
    valid = ~(incomplete | duplicate | straight | out_of_period)
    bad = np.flatnonzero(~valid)
    # the words, for the excluded rows only
    names = np.array([f"「{c}」未作答" for c in answers.columns] or [""], dtype=object)
    missing = _join([np.where(blank_item[bad], names[np.argmax(blank[bad], axis=1)] if k else "", ""),
                     np.where(no_id[bad], "答卷编号为空", ""), np.where(no_time[bad], "作答时间为空", "")])
    labels = [
        np.where(incomplete[bad], REASONS["incomplete"] + "（" + missing.astype(str) + "）", ""),
        np.where(duplicate[bad], np.char.add(np.char.add(REASONS["duplicate"] + "（与第", first_row[bad].astype(str)),
                                             "行编号相同）"), ""),
        np.where(straight[bad], REASONS["straightlining"], ""),
        np.where(out_of_period[bad], REASONS["out_of_period"], ""),
    ]
    codes_text = _join([np.where(flags[code].to_numpy()[bad], code, "") for code in REASONS])
    excluded = pd.DataFrame({
        "行": answers.rows[bad],
        "答卷编号": answers.respondent[bad] if answers.respondent is not None else "",
        "作答时间": answers.time[bad] if answers.time is not None else pd.NaT,
        "原因": _join([lab.astype(object) for lab in labels]),
        "reasons": [c.replace("；", ",") for c in codes_text],
    }, columns=list(EXCLUDED_COLUMNS))
    return Screening(valid, flags, excluded)
