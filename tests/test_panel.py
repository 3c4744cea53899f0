"""Expert panels: templates, located reading errors, merge rules, disagreement, reasons, application to the
project (evaluate / save round trip), what-if, the CLI, and the reference project end to end."""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfeval
from perfeval.cli import main
from perfeval.errors import SchemeError, SheetError
from perfeval.panel import (
    indicator_hash,
    judged_indicators,
    merge_panel,
    merge_reasons,
    merge_sheets,
    panel_result,
    panel_scores,
    read_panel,
    write_templates,
)
from perfeval.panel.merge import merge_one_by_one, reason_key
from perfeval.panel.synth import fill_templates, synth_panel, write_panel
from perfeval.panel.template import expert_ids, sheet_name, write_expert_sheet
from perfeval.scheme import ScoringOptions, load_scheme
from perfeval.sheets.write import save_project

#: the reference project's judged indicators: 9 扣分 rows (positions 0–5, 8–10) and one 定性 row (17)
JUDGED_POSITIONS = [0, 1, 2, 3, 4, 5, 8, 9, 10, 17]


def half_up(x: float | Decimal, places: int = 2) -> float:
    value = x if isinstance(x, Decimal) else Decimal(repr(x))
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def exact_mean(values: list[float]) -> Decimal:
    """The mean in decimal arithmetic (the scores as written: 2.8, 2.9 …), as one computes it by hand."""
    return sum(Decimal(repr(float(v))) for v in values) / len(values)


def hand_mean(values: list[float]) -> float:
    return half_up(exact_mean(values))


def hand_trimmed(values: list[float]) -> float:
    return half_up(exact_mean(sorted(values)[1:-1]))


@pytest.fixture(scope="module")
def project():
    return perfeval.load_project(Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx")


@pytest.fixture(scope="module")
def synth5(project):
    return synth_panel(project, 5, seed=7, disagree=[4, 17])


@pytest.fixture(scope="module")
def sheets5(project, synth5, tmp_path_factory):
    return write_panel(project, synth5, tmp_path_factory.mktemp("panel5"))


@pytest.fixture(scope="module")
def result5(project, sheets5):
    return merge_sheets(project, sheets5)


# ---------------------------------------------------------------- judged indicators and templates

def test_judged_indicators_are_the_manual_qualitative_and_checklist_rows(project):
    judged = judged_indicators(project)
    assert judged["position"].tolist() == JUDGED_POSITIONS
    assert set(judged["rule"]) == {"manual", "qualitative"}
    assert judged.loc[judged["position"] == 17, "name"].item() == "提升基层工会工作人员业务能力"
    assert judged.iloc[0]["standard"].startswith("评价要点：①符合国家法律法规")
    assert "达成 5 分" in judged.loc[judged["position"] == 17, "standard"].item()


def test_template_writes_one_blank_workbook_per_expert(project, tmp_path):
    paths = write_templates(project, 3, tmp_path, names=["王一"])
    assert [p.name for p in paths] == [sheet_name(project.id, e) for e in ("E01", "E02", "E03")]
    frame = pd.read_excel(paths[0], sheet_name="专家评分", engine="calamine")
    assert frame["指标表行号"].tolist() == [2, 3, 4, 5, 6, 7, 10, 11, 12, 19]
    assert frame["得分"].isna().all() and frame["扣分理由"].isna().all()
    info = pd.read_excel(paths[0], sheet_name="评分说明", header=None, index_col=0, engine="calamine")[1]
    assert info["项目编号"] == project.id and info["专家编号"] == "E01" and info["专家姓名"] == "王一"
    assert info["指标校验码"] == indicator_hash(judged_indicators(project)) and int(info["专家人数"]) == 3
    with pytest.raises(perfeval.PerfevalError, match="已存在"):
        write_templates(project, 3, tmp_path)


def test_blank_templates_are_refused_cell_by_cell(project, tmp_path):
    paths = write_templates(project, 2, tmp_path)
    with pytest.raises(SheetError) as exc:
        read_panel(project, paths)
    problems = exc.value.problems
    assert len(problems) == 2 * 10
    assert {(p.sheet, p.column) for p in problems} == {("专家评分", "得分")}
    assert sorted({p.row for p in problems}) == list(range(2, 12))
    assert all("得分为空" in p.expected for p in problems)


# ---------------------------------------------------------------- merge arithmetic

def test_merged_scores_equal_hand_computed_means(project, synth5, result5):
    for position in JUDGED_POSITIONS:
        values = synth5.scores.loc[position].tolist()
        assert result5.merged.frame.at[position, "score"] == hand_mean(values)
    assert result5.merged.rule == "mean"


def test_trimmed_mean_drops_highest_and_lowest_from_five_experts(project, sheets5, synth5):
    result = merge_sheets(project, sheets5, options={"panel_rule": "trimmed_mean"})
    assert result.merged.rule == "trimmed_mean"
    for position in JUDGED_POSITIONS:
        expected = hand_trimmed(synth5.scores.loc[position].tolist())
        assert result.merged.frame.at[position, "score"] == expected
    # the planted outlier no longer drags 预算编制科学性 down
    planted = synth5.scores.loc[4].tolist()
    assert result.merged.frame.at[4, "score"] > hand_mean(planted)


def test_trimmed_mean_needs_the_schemes_minimum_of_experts(project, tmp_path):
    panel = synth_panel(project, 4, seed=3)
    result = merge_sheets(project, write_panel(project, panel, tmp_path), options={"panel_rule": "trimmed_mean"})
    assert result.merged.rule == "mean"
    assert result.merged.frame.at[0, "score"] == hand_mean(panel.scores.loc[0].tolist())
    lowered = merge_sheets(project, list(tmp_path.glob("*.xlsx")),
                           options={"panel_rule": "trimmed_mean", "panel_trim_min_experts": 4})
    assert lowered.merged.rule == "trimmed_mean"
    assert lowered.merged.frame.at[0, "score"] == hand_trimmed(panel.scores.loc[0].tolist())


def test_panel_scores_round_as_the_scheme_says():
    x = np.array([[2.5, 2.6, 2.6], [1.0, 1.0, 1.05], [3.0, 3.0, 3.0]])
    w = np.array([3.0, 2.0, 3.0])
    _, half = panel_scores(x, w, ScoringOptions())
    assert half.tolist() == [2.57, 1.02, 3.0]  # 2.5666…, 1.01666…
    _, cut = panel_scores(x, w, ScoringOptions(rounding="truncate"))
    assert cut.tolist() == [float(Decimal("2.5666").quantize(Decimal("0.01"), ROUND_DOWN)), 1.01, 3.0]
    _, one = panel_scores(x, w, ScoringOptions(decimals=1))
    assert one.tolist() == [2.6, 1.0, 3.0]


def test_unknown_panel_rule_is_refused(project, sheets5):
    with pytest.raises(SchemeError, match="panel_rule"):
        merge_sheets(project, sheets5, options={"panel_rule": "median"})


def test_one_by_one_reference_agrees_with_the_vectorised_merge(result5):
    for rule in ("mean", "trimmed_mean"):
        options = ScoringOptions(panel_rule=rule)
        vectorised = merge_panel(result5.panel, options).frame["score"].tolist()
        assert merge_one_by_one(result5.panel, options) == vectorised


def test_merged_scores_are_close_to_the_generators_truth(synth5, result5):
    frame = result5.merged.frame
    unplanted = [p for p in JUDGED_POSITIONS if p not in synth5.disagree]
    gap = (frame.loc[unplanted, "score"] - synth5.truth[unplanted]).abs()
    # bias ≤ 3 % and noise ≤ 4 % of the weight, scores in 0.1 steps
    assert (gap <= 0.07 * frame.loc[unplanted, "weight"] + 0.05 + 1e-9).all()


# ---------------------------------------------------------------- disagreement

@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_disagreement_flags_exactly_the_planted_indicators(project, seed):
    planted = sorted(np.random.default_rng(seed).choice(JUDGED_POSITIONS, size=3, replace=False).tolist())
    panel = synth_panel(project, 5, seed=seed, disagree=planted)
    sheets = read_panel_from_synth(project, panel)
    merged = merge_panel(sheets, load_scheme("third_party").options)
    assert merged.frame.index[merged.frame["disagreement"]].tolist() == planted
    found = merged.findings[merged.findings["code"] == "panel_disagreement"]
    assert len(found) == 3
    for position, message in zip(planted, found["message"], strict=True):
        name = project.indicators.iloc[position]["name"]
        assert f"指标「{name}」" in message
        for expert, score in panel.scores.loc[position].items():
            assert f"{expert} {panel.names[expert_ids(5).index(expert)]} {score:g} 分" in message


def read_panel_from_synth(project, panel):
    """A PanelSheets straight from a generated panel (no files), as `read_panel` builds it."""
    from perfeval.panel.read import PanelSheets

    experts = pd.DataFrame({"id": panel.scores.columns, "name": list(panel.names), "file": ""})
    return PanelSheets(project.id, panel.indicators, experts, panel.scores, panel.reasons)


def test_range_and_deviation_thresholds_each_flag(project):
    judged = judged_indicators(project).iloc[:3]  # weights 3, 2, 3
    scores = pd.DataFrame({"E01": [3.0, 2.0, 3.0], "E02": [3.0, 1.2, 2.2], "E03": [2.0, 2.0, 3.0]},
                          index=pd.Index(judged["position"], name="position"))
    from perfeval.panel.read import PanelSheets

    panel = PanelSheets(project.id, judged, pd.DataFrame({"id": scores.columns, "name": "", "file": ""}),
                        scores, scores.map(lambda _: ""))
    frame = merge_panel(panel, ScoringOptions()).frame
    # row 0: range 1 > 0.9 (30 % of 3); sample sd 0.577 > 0.45 (15 % of 3)
    assert frame.iloc[0][["range_flag", "std_flag"]].tolist() == [True, True]
    # row 1: range 0.8 > 0.6 (30 % of 2), sd 0.462 > 0.3
    assert frame.iloc[1][["range_flag", "std_flag"]].tolist() == [True, True]
    two = merge_panel(panel, ScoringOptions(), exclude=["E03"]).frame
    # two experts 3 and 2.2: range 0.8 ≤ 0.9, sd 0.566 > 0.45 → the deviation alone flags it
    assert two.iloc[2][["range_flag", "std_flag", "disagreement"]].tolist() == [False, True, True]
    loose = merge_panel(panel, ScoringOptions(panel_disagreement_range=0.5, panel_disagreement_std=0.5)).frame
    assert not loose["disagreement"].any()


# ---------------------------------------------------------------- reasons

def test_reasons_are_merged_without_duplicates():
    cells = ["资料不全。", " 资料 不全；记录缺失", "资料不全", "记录缺失.", "", "档案归集不及时，", "资料不全!"]
    assert merge_reasons(cells) == "资料不全；记录缺失；档案归集不及时"


def test_synthetic_reasons_merge_to_distinct_items(synth5, result5):
    for position, merged in result5.merged.frame["reason"].items():
        parts = merged.split("；") if merged else []
        keys = [reason_key(p) for p in parts]
        assert len(keys) == len(set(keys))
        written = {reason_key(x) for cell in synth5.reasons.loc[position] for x in cell.replace("。", "；")
                   .replace(".", "；").split("；") if reason_key(x)}
        assert set(keys) == written


# ---------------------------------------------------------------- located errors

def _write(project, folder, expert, n, scores, judged=None, reasons=None):
    judged = judged_indicators(project) if judged is None else judged
    return write_expert_sheet(folder / sheet_name(project.id, expert), project, judged, expert, n,
                              scores=scores, reasons=reasons)


def test_missing_expert_is_a_located_error(project, sheets5):
    with pytest.raises(SheetError) as exc:
        read_panel(project, [p for p in sheets5 if "E03" not in p.name])
    (problem,) = exc.value.problems
    assert "缺少专家 E03" in problem.expected and "模板共 5 位专家" in problem.expected
    assert problem.file == str(sheets5[0].parent)


def test_sheet_of_another_project_is_a_located_error(project, sheets5, tmp_path):
    other = project.replace(id="AKT2022-999")
    judged = judged_indicators(other)
    stranger = write_expert_sheet(tmp_path / "x.xlsx", other, judged, "E03", 5, scores=[1.0] * len(judged))
    with pytest.raises(SheetError) as exc:
        read_panel(project, [p for p in sheets5 if "E03" not in p.name] + [stranger])
    (problem,) = exc.value.problems
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.value) == (
        str(stranger), "评分说明", 2, "值", "AKT2022-999")
    assert "AKT2022-001" in problem.expected


def test_sheet_for_another_indicator_set_is_a_located_error(project, sheets5, tmp_path):
    changed = project.with_indicator(4, weight=4.0)  # 预算编制科学性 5 → 4 after the templates were made
    with pytest.raises(SheetError) as exc:
        read_panel(changed, sheets5)
    hashes = [p for p in exc.value.problems if p.row == 5 and p.sheet == "评分说明"]
    assert len(hashes) == 5 and all("指标校验码" in p.expected for p in hashes)
    rows = [p for p in exc.value.problems if p.sheet == "专家评分"]
    assert {(p.row, p.column) for p in rows} == {(6, "指标名称")}  # 预算编制科学性 is the 5th judged row


def test_out_of_range_blank_and_non_numeric_scores_are_located(project, tmp_path):
    judged = judged_indicators(project)
    good = [float(w) for w in judged["weight"]]
    bad = list(good)
    bad[0], bad[1], bad[2], bad[3] = 3.5, -1.0, None, "优"
    paths = [_write(project, tmp_path, "E01", 2, bad), _write(project, tmp_path, "E02", 2, good)]
    with pytest.raises(SheetError) as exc:
        read_panel(project, paths)
    got = {(p.row, p.column, p.value): p.expected for p in exc.value.problems}
    assert set(got) == {(2, "得分", "3.5"), (3, "得分", "-1"), (4, "得分", None), (5, "得分", "优")}
    assert got[(2, "得分", "3.5")] == "得分应在 0 至 3 分（该指标分值）之间"
    assert got[(3, "得分", "-1")] == "得分应在 0 至 2 分（该指标分值）之间"
    assert "得分为空" in got[(4, "得分", None)] and "应为数字" in got[(5, "得分", "优")]
    assert all(p.file == str(paths[0]) and p.sheet == "专家评分" for p in exc.value.problems)


def test_a_cell_blanked_in_excel_is_located(project, sheets5, tmp_path):
    from openpyxl import load_workbook

    edited = tmp_path / sheets5[1].name
    book = load_workbook(sheets5[1])
    book["专家评分"]["L7"] = None  # 得分 of 资金分配合理性
    book.save(edited)
    with pytest.raises(SheetError) as exc:
        read_panel(project, [edited if p == sheets5[1] else p for p in sheets5])
    (problem,) = exc.value.problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == (str(edited), "专家评分", 7, "得分")


def test_duplicate_expert_and_foreign_files_are_located(project, sheets5, tmp_path):
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(sheets5[0].read_bytes())
    stray = tmp_path / "stray.xlsx"
    save_project(project, stray)
    with pytest.raises(SheetError) as exc:
        read_panel(project, [*sheets5, copy, stray])
    messages = [(Path(p.file).name, p.expected) for p in exc.value.problems]
    assert ("copy.xlsx", f"专家编号 E01 重复：与 {sheets5[0].name} 相同；每位专家只应有一份评分表") in messages
    assert any(name == "stray.xlsx" and "不是 perfeval 专家评分表" in text for name, text in messages)
    assert len(messages) == 2


# ---------------------------------------------------------------- applied to the project

def test_merged_project_evaluates_with_the_panel_scores(project, result5):
    base = perfeval.evaluate(project)
    ev = result5.evaluate()
    merged = result5.merged.frame
    scored = ev.indicators.loc[JUDGED_POSITIONS]
    assert scored["score"].tolist() == merged.loc[JUDGED_POSITIONS, "score"].tolist()
    assert (scored["rule"] == "manual").all()
    assert scored["deduction_reason"].str.startswith("专家组评分（5位）").all()
    others = [i for i in range(len(ev.indicators)) if i not in JUDGED_POSITIONS]
    assert ev.indicators.loc[others, "score"].tolist() == base.indicators.loc[others, "score"].tolist()
    expected_total = half_up(float(sum(Decimal(repr(s)) for s in ev.indicators["score"])))
    assert ev.total == expected_total
    assert ev.total == half_up(float(sum(Decimal(repr(s)) for s in base.indicators.loc[others, "score"])
                                     + sum(Decimal(repr(s)) for s in merged["score"])))
    assert ev.grade == load_scheme("third_party").grade(ev.total)
    # the 定性 indicator now carries the panel's score, not its text's tier
    assert ev.indicators.at[17, "score"] == merged.at[17, "score"] < 5.0
    codes = ev.findings["code"].tolist()
    assert codes.count("panel_disagreement") == 2
    assert result5.project.info["专家组评分"].startswith("5位专家（E01 ")
    assert result5.project.info["专家组意见分歧"] == "预算编制科学性、提升基层工会工作人员业务能力"


def test_merged_project_survives_save_and_load(project, result5, tmp_path):
    path = save_project(result5.project, tmp_path / "merged.xlsx")
    again = perfeval.load_project(path)
    ev, ev2 = result5.evaluate(), perfeval.evaluate(again)
    assert ev2.total == ev.total
    assert ev2.indicators["score"].tolist() == ev.indicators["score"].tolist()
    assert again.info["专家组评分"] == result5.project.info["专家组评分"]
    # the per-expert table and the panel's findings come back with the workbook (the report shows both)
    assert again.panel is not None and list(again.panel.columns) == list(result5.table.columns)
    assert again.panel["专家组得分"].astype(float).tolist() == result5.table["专家组得分"].astype(float).tolist()
    panel_codes = ("panel_disagreement", "panel_no_reason")
    found = sorted(ev2.findings.loc[ev2.findings["code"].isin(panel_codes), "message"])
    assert found and found == sorted(ev.findings.loc[ev.findings["code"].isin(panel_codes), "message"])
    # re-merging the same sheets into the merged workbook gives the same project scores
    twice = merge_sheets(again, [Path(f) for f in result5.panel.experts["file"]])
    assert perfeval.evaluate(twice.project).total == ev.total


def test_reference_project_scores_as_before(project):
    ev = perfeval.evaluate(project)
    assert (ev.total, ev.grade, len(ev.findings)) == (98.94, "优", 16)


def test_what_if_drop_an_expert_or_change_the_rule(result5, synth5):
    without = result5.what_if(exclude=["E02"])
    for position in JUDGED_POSITIONS:
        values = synth5.scores.loc[position].drop("E02").tolist()
        assert without.merged.frame.at[position, "score"] == hand_mean(values)
    assert without.merged.experts == ("E01", "E03", "E04", "E05")
    assert without.project.indicators.at[0, "deduction_reason"].startswith("专家组评分（4位）")
    trimmed = result5.what_if(rule="trimmed_mean")
    assert trimmed.evaluate().total == half_up(
        sum(trimmed.evaluate().indicators["score"]))
    assert result5.what_if().evaluate().total == result5.evaluate().total
    with pytest.raises(SchemeError):
        result5.what_if(exclude=list(result5.merged.experts))


def test_panel_result_from_a_read_panel_is_the_same(project, result5):
    again = panel_result(project, result5.panel)
    assert again.merged.frame.equals(result5.merged.frame)
    table = result5.table
    assert list(table.columns[:3]) == ["指标表行号", "指标名称", "分值"]
    assert table.shape == (10, 3 + 5 + 6)  # … 意见分歧, 扣分理由（合并）, 核查说明
    assert table["核查说明"].str.contains("意见分歧").sum() == 2
    assert table["意见分歧"].tolist().count("是") == 2


# ---------------------------------------------------------------- end to end and CLI

def test_reference_end_to_end_template_fill_merge_evaluate(project, tmp_path, capsys):
    """template → fill (as experts do, with a generated 5-expert panel) → merge → evaluate; the total is
    recomputed from the merged scores by hand."""
    ref = Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx"
    folder = tmp_path / "专家评分"
    assert main(["panel", "template", str(ref), "--experts", "5", "--out", str(folder)]) == 0
    paths = sorted(folder.glob("*.xlsx"))
    assert len(paths) == 5
    panel = synth_panel(project, 5, seed=11, disagree=[9])
    fill_templates(paths, panel)
    out = tmp_path / "merged.xlsx"
    capsys.readouterr()
    assert main(["panel", "merge", str(ref), str(folder), "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in data["experts"]] == expert_ids(5)
    assert [i["row"] for i in data["indicators"] if i["disagreement"]] == [11]
    hand = {i["row"]: hand_mean(list(i["scores"].values())) for i in data["indicators"]}
    assert {i["row"]: i["panel_score"] for i in data["indicators"]} == hand
    base = perfeval.evaluate(project)
    rest = base.indicators[~base.indicators.index.isin(JUDGED_POSITIONS)]["score"]
    total = half_up(float(sum(Decimal(repr(s)) for s in [*rest, *hand.values()])))
    assert data["total"] == total and data["before"] == {"total": 98.94, "grade": "优"}
    merged_ev = perfeval.evaluate(perfeval.load_project(out))
    assert merged_ev.total == total
    assert merged_ev.grade == data["grade"]


def test_cli_merge_text_and_refusals_write_nothing(project, sheets5, tmp_path, capsys):
    ref = Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx"
    assert main(["panel", "merge", str(ref), *map(str, sheets5)]) == 0
    text = capsys.readouterr().out
    assert "专家组得分取各专家评分的算术平均" in text and "⚠ 意见分歧" in text and "合并后：总分" in text
    out = tmp_path / "merged.xlsx"
    assert main(["panel", "merge", str(ref), *map(str, sheets5[:4]), "--out", str(out)]) == 2
    assert "缺少专家 E05" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".merged*"))
    assert main(["panel", "merge", str(ref), *map(str, sheets5), "--option", "panel_rule=trimmed_mean",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rule"] == "trimmed_mean"
    assert main(["panel", "template", str(ref), "--experts", "0", "--out", str(tmp_path / "t")]) == 2
    assert "专家人数应为正整数" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_cli_synth_plants_disagreements(tmp_path, capsys):
    ref = Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx"
    assert main(["panel", "synth", str(ref), "--experts", "5", "--out", str(tmp_path), "--seed", "2",
                 "--disagree", "2"]) == 0
    planted = capsys.readouterr().out.split("植入意见分歧：")[1].strip().split("、")
    assert main(["panel", "merge", str(ref), str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in data["indicators"] if i["disagreement"]] == planted


# ---------------------------------------------------------------- workbench view

def test_panel_view_what_if_follows_the_pure_functions(project, result5, synth5):
    from perfeval.workbench.panel_view import PanelView, heatmap_figure, what_if

    outcome = what_if(result5, exclude=["E01"])
    assert (outcome.base_total, outcome.base_grade) == (98.94, "优")
    assert outcome.panel_total == result5.evaluate().total
    assert outcome.total == result5.what_if(exclude=["E01"]).evaluate().total
    moved = outcome.changes.set_index("指标名称")["情景得分"]
    for name, score in moved.items():
        position = int(judged_indicators(project).set_index("name").at[name, "position"])
        assert score == hand_mean(synth5.scores.loc[position].drop("E01").tolist())
    fig = heatmap_figure(result5)
    ax = fig.axes[0]
    red = [t.get_text() for t in ax.get_yticklabels() if t.get_color() == "#C62828"]
    assert red == ["⚠ 预算编制科学性", "⚠ 提升基层工会工作人员业务能力"]
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "专家组"

    view = PanelView(result5)
    assert view.outcome.total == result5.evaluate().total and view.image.value[:4] == b"\x89PNG"
    view.drop.value = "E02"
    assert view.outcome.total == result5.what_if(exclude=["E02"]).evaluate().total
    view.rule.value = "trimmed_mean"  # 4 experts left: the mean is kept, and the note says why
    assert view.outcome.result.merged.rule == "mean" and "不足 5 位专家" in view.note.value
    view.drop.value = ""
    assert view.outcome.total == result5.what_if(rule="trimmed_mean").evaluate().total
    assert "专家组评分" in view.static_html() and "data:image/png;base64," in view.static_html()


def test_a_removed_row_and_a_deduction_without_reason_are_said(project, tmp_path):
    judged = judged_indicators(project)
    full = [float(w) for w in judged["weight"]]
    short = _write(project, tmp_path, "E01", 2, full[1:], judged=judged.iloc[1:])
    other = _write(project, tmp_path, "E02", 2, full)
    with pytest.raises(SheetError) as exc:
        read_panel(project, [short, other])
    messages = [p.expected for p in exc.value.problems]
    assert any("缺少指标「立项依据充分性」（指标表第2行）的评分行" in m for m in messages)
    assert any("指标校验码" in m for m in messages)
    lowered = list(full)
    lowered[0] = 2.0
    paths = [_write(project, tmp_path / "b", e, 2, lowered) for e in ("E01", "E02")]
    result = merge_sheets(project, paths)
    found = result.findings[result.findings["code"] == "panel_no_reason"]
    assert found["message"].tolist() == ["指标「立项依据充分性」专家组得分 2 分（分值 3 分），但没有专家填写扣分理由"]
    assert result.project.indicators.at[0, "deduction_reason"] == "专家组评分（2位）"


def test_only_the_expert_cells_are_editable(project, tmp_path):
    from openpyxl import load_workbook

    (path,) = write_templates(project, 1, tmp_path)
    book = load_workbook(path)
    sheet, info = book["专家评分"], book["评分说明"]
    assert sheet.protection.sheet and info.protection.sheet
    header = [c.value for c in sheet[1]]
    editable = {header[c.column - 1] for row in sheet.iter_rows(min_row=2) for c in row if not c.protection.locked}
    assert editable == {"得分", "扣分理由"}
    assert [r[0].value for r in info.iter_rows() if not r[1].protection.locked] == ["专家姓名"]


def test_expert_sheets_are_told_from_indicator_tables_in_a_folder(project, sheets5, tmp_path):
    from perfeval.panel import expert_sheets_in, is_expert_sheet

    for path in sheets5:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    save_project(project, tmp_path / "AKT2022-001.xlsx")
    (tmp_path / "notes.xlsx").write_text("not a workbook")
    assert [p.name for p in expert_sheets_in(tmp_path)] == [p.name for p in sheets5]
    assert not is_expert_sheet(tmp_path / "AKT2022-001.xlsx") and not is_expert_sheet(tmp_path / "notes.xlsx")
    ref = Path(__file__).resolve().parents[1] / "data" / "reference" / "AKT2022-001.xlsx"
    assert main(["panel", "merge", str(ref), str(tmp_path), "--json"]) == 0


def test_a_formula_without_a_saved_result_is_located_not_read_as_blank(project, sheets5, tmp_path):
    from openpyxl import load_workbook

    edited = tmp_path / sheets5[0].name
    book = load_workbook(sheets5[0])
    book["专家评分"]["L3"] = "=1+1"  # openpyxl saves the formula without a result
    book.save(edited)
    with pytest.raises(SheetError) as exc:
        read_panel(project, [edited, *sheets5[1:]])
    (problem,) = exc.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("专家评分", 3, "得分")
    assert "公式" in problem.expected and "L3" in problem.expected
