"""Realistic synthetic expert panels with known truth (for tests, benchmarks and demos).

Each judged indicator has a true score (a share of its weight, in whole steps of 0.1 point). Each expert
has a personal bias (lenient or strict: a fraction of the weight, drawn once per expert) and scores every
indicator as truth + bias + noise, rounded to the step experts write (0.1 point; 0.01 below a weight of 2)
and kept within 0 … 分值. Bias and noise are bounded (uniform), so with the scheme's default thresholds
(range 30 %, standard deviation 15 % of the weight) an unplanted indicator of weight ≥ 1 scored by at least
three experts never shows a disagreement; planted disagreements (`disagree`: indicator positions) have one
expert score about `outlier` × 分值 away from the truth. Experts who deduct write a 扣分理由, drawn from a
small vocabulary and spelt with varying punctuation and spaces as people type them.

Deterministic for a seed: the same seed writes the same scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfeval.errors import PerfevalError
from perfeval.model import Project
from perfeval.panel.template import expert_ids, judged_indicators, sheet_name, write_expert_sheet
from perfeval.scheme import Scheme

NAMES = ("王建国", "李淑芬", "张志强", "刘海燕", "陈明", "杨丽华", "赵永刚", "黄晓东", "周婷", "吴国庆",
         "徐静", "孙立新", "马丽", "朱卫东", "胡玉兰", "郭涛", "何雪梅", "林峰", "高翔", "罗敏")
REASONS = ("佐证资料不够完整", "部分工作记录缺失", "绩效目标细化不足", "制度执行留痕不充分",
           "项目调整手续不完备", "档案归集不及时", "实施方案未明确分工", "资金测算依据说明不充分")
#: how people type the same reason: trailing full stop, a space inside, a full-width comma
_SPELLINGS = ("{}", "{}。", " {} ", "{}；", "{}.")


@dataclass(frozen=True)
class SynthPanel:
    """A generated panel: `truth` (panel-free true score per judged indicator, index = position),
    `bias` (per expert, fraction of the weight), `scores` / `reasons` (indicators × experts, as written
    into the sheets), `disagree` (the planted positions) and the judged indicators."""

    indicators: pd.DataFrame
    truth: pd.Series
    bias: pd.Series
    scores: pd.DataFrame
    reasons: pd.DataFrame
    disagree: tuple[int, ...]
    names: tuple[str, ...]


def _step(weight: np.ndarray) -> np.ndarray:
    return np.where(weight >= 2, 0.1, 0.01)


def synth_panel(project: Project, n_experts: int, seed: int = 0, bias: float = 0.03, noise: float = 0.04,
                disagree: Sequence[int] = (), outlier: float = 0.6, truth_low: float = 0.75,
                scheme: str | Path | Scheme | None = None, judged: pd.DataFrame | None = None) -> SynthPanel:
    """Generate a panel for `project`. `disagree` lists positions (in `project.indicators`) of judged
    indicators where one expert is planted far from the others."""
    if n_experts < 1:
        raise PerfevalError(f"专家人数应为正整数，而不是 {n_experts}")
    judged = judged_indicators(project, scheme) if judged is None else judged
    positions = judged["position"].to_numpy()
    unknown = sorted(set(disagree) - set(positions.tolist()))
    if unknown:
        raise PerfevalError(f"第 {unknown} 个指标不是需要专家评判的指标")
    rng = np.random.default_rng(seed)
    w = judged["weight"].to_numpy(dtype=float)
    step = _step(w)
    truth = np.round(w * rng.uniform(truth_low, 1.0, len(w)) / step) * step
    truth = np.clip(truth, 0, w)
    ids = expert_ids(n_experts)
    b = rng.uniform(-bias, bias, n_experts)
    e = rng.uniform(-noise, noise, (len(w), n_experts))
    x = truth[:, None] + (b[None, :] + e) * w[:, None]
    planted = np.isin(positions, list(disagree))
    for i in np.flatnonzero(planted):
        k = rng.integers(n_experts)
        direction = -1.0 if truth[i] >= outlier * w[i] else 1.0
        x[i, k] = truth[i] + direction * outlier * w[i]
    x = np.clip(np.round(x / step[:, None]) * step[:, None], 0, w[:, None])
    x = np.round(x, 2)
    reasons = np.full(x.shape, "", dtype=object)
    lost = x < w[:, None] - 1e-9
    for i, k in zip(*np.nonzero(lost), strict=True):
        words = rng.choice(len(REASONS), size=1 + int(rng.random() < 0.3), replace=False)
        spelt = [_SPELLINGS[rng.integers(len(_SPELLINGS))].format(REASONS[j]) for j in words]
        reasons[i, k] = "；".join(spelt) if len(spelt) > 1 else spelt[0]
    names = tuple(NAMES[(i + seed) % len(NAMES)] for i in range(n_experts))
    index = pd.Index(positions, name="position")
    return SynthPanel(judged, pd.Series(truth, index=index), pd.Series(b, index=ids),
                      pd.DataFrame(x, index=index, columns=ids), pd.DataFrame(reasons, index=index, columns=ids),
                      tuple(int(p) for p in positions[planted]), names)


def write_panel(project: Project, panel: SynthPanel, out_dir: str | Path) -> list[Path]:
    """Write the generated panel as filled expert sheets (the template's format) in `out_dir`."""
    out = Path(out_dir)
    paths = []
    n = len(panel.scores.columns)
    for expert, name in zip(panel.scores.columns, panel.names, strict=True):
        path = out / sheet_name(project.id, expert)
        write_expert_sheet(path, project, panel.indicators, expert, n, name,
                           scores=panel.scores[expert].tolist(), reasons=panel.reasons[expert].tolist())
        paths.append(path)
    return paths


def fill_templates(paths: Sequence[str | Path], panel: SynthPanel) -> list[Path]:
    """Fill blank expert sheets written by `write_templates` with the generated scores, the way an expert
    does (in place, through openpyxl: 专家姓名, 得分 and 扣分理由; nothing else touched). The sheets'
    experts are matched by 专家编号."""
    from openpyxl import load_workbook

    from perfeval.atomic import atomic_path
    from perfeval.panel.template import INFO_SHEET, KEY_EXPERT, KEY_EXPERT_NAME, SCORE_COLUMNS, SCORE_SHEET

    names = dict(zip(panel.scores.columns, panel.names, strict=True))
    row_to_position = dict(zip(panel.indicators["row"], panel.indicators["position"], strict=True))
    done = []
    for path in map(Path, paths):
        book = load_workbook(path)
        info = book[INFO_SHEET]
        keys = {str(info.cell(r, 1).value): r for r in range(1, info.max_row + 1)}
        expert = str(info.cell(keys[KEY_EXPERT], 2).value)
        info.cell(keys[KEY_EXPERT_NAME], 2).value = names[expert]
        sheet = book[SCORE_SHEET]
        header = {str(c.value): c.column for c in sheet[1]}
        row_col, score_col = header[SCORE_COLUMNS["row"]], header[SCORE_COLUMNS["score"]]
        reason_col = header[SCORE_COLUMNS["reason"]]
        for r in range(2, sheet.max_row + 1):
            position = row_to_position[int(sheet.cell(r, row_col).value)]
            sheet.cell(r, score_col).value = float(panel.scores.at[position, expert])
            sheet.cell(r, reason_col).value = panel.reasons.at[position, expert] or None
        with atomic_path(path) as tmp:
            book.save(tmp)
        done.append(path)
    return done
