"""`perfeval template`: example rows and 文字 sections that fit the scheme, 评价依据 / 评价机构, placeholders as
located warnings, a 一级指标 drop-down that accepts "产出指标(40分)", and a clean round trip."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

import perfeval
from perfeval.cli import main
from perfeval.scheme import load_scheme
from perfeval.sheets.layouts.selfeval import is_selfeval_grid, selfeval_sheets
from perfeval.sheets.placeholders import is_placeholder
from perfeval.sheets.read import read_workbook
from perfeval.sheets.write import TEXT_SECTIONS, write_template

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = ("third_party", "self")


@pytest.fixture(scope="module", params=SCHEMES)
def template(request, tmp_path_factory) -> tuple[str, Path]:
    path = tmp_path_factory.mktemp("tpl") / f"模板_{request.param}.xlsx"
    assert main(["template", str(path), "--scheme", request.param]) == 0
    return request.param, path


def _info(book: openpyxl.Workbook) -> dict[str, tuple[int, object]]:
    return {row[0].value: (row[0].row, row[1].value) for row in book["项目信息"].iter_rows(min_row=2)}


def _placeholder_cells(path: Path) -> set[tuple[str, int, str]]:
    """(sheet, row, header) of every cell of 项目信息 / 指标 whose text the template wrote to be replaced."""
    book = openpyxl.load_workbook(path)
    cells = {("项目信息", row, key) for key, (row, value) in _info(book).items() if is_placeholder(value)}
    sheet = book["指标"]
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        cells |= {("指标", c.row, headers[c.column - 1]) for c in row if is_placeholder(c.value)}
    return cells


def test_example_rows_are_the_schemes_levels_and_weights(template) -> None:
    scheme_id, path = template
    scheme = load_scheme(scheme_id)
    project = perfeval.load_project(path)
    assert project.scheme_id == scheme_id
    ind = project.indicators
    sums = ind.groupby("level1", sort=False)["weight"].sum().to_dict()
    assert sums == {lv.name: lv.weight for lv in scheme.levels}
    ev = perfeval.evaluate(project)
    rules = dict(zip(ev.indicators["name"], ev.indicators["rule"], strict=True))
    if scheme_id == "self":
        assert list(ind["level1"].drop_duplicates()) == ["预算执行率", "产出", "效益", "满意度"]
        assert rules["预算执行率"] == "execution"
        assert ind.loc[ind["level1"] == "满意度", "name"].str.contains("满意度").all()
        assert not ind["level1"].isin(["决策", "过程"]).any()
    else:
        assert list(ind["level1"].drop_duplicates()) == ["决策", "过程", "产出", "效益"]
        assert {"manual", "arrival", "execution", "positive", "negative", "deadline", "qualitative"} <= set(
            rules.values())
        assert not ind["level1"].isin(["预算执行率", "满意度"]).any()
    assert ev.total == pytest.approx(ev.levels["score"].sum())


def test_all_13_text_sections_are_listed_as_the_narrative_uses_them(template) -> None:
    _, path = template
    rows = list(openpyxl.load_workbook(path)["文字"].iter_rows(values_only=True))
    assert rows[0][:2] == ("章节", "内容")
    sections = [r[0] for r in rows[1:]]
    assert sections == [name for name, _ in TEXT_SECTIONS] and len(sections) == 13
    assert all(r[1] in (None, "") for r in rows[1:]) and all(r[2] for r in rows[1:])  # blank 内容, a hint each
    narrative_source = (ROOT / "perfeval" / "report" / "compose.py").read_text(encoding="utf-8")
    for name in sections:  # every listed section is one the report reads
        assert f'"{name}"' in narrative_source, name
    documented = (ROOT / "docs" / "sheet-format.md").read_text(encoding="utf-8")
    assert "、".join(sections).replace("、", ", ") in documented.replace("\n", " ")
    assert perfeval.load_project(path).narrative == {}  # an empty 内容 is a section not written


def test_basis_and_agency_fields_in_info_and_help(template) -> None:
    _, path = template
    book = openpyxl.load_workbook(path)
    info = _info(book)
    assert is_placeholder(info["评价依据"][1]) and "财预〔2020〕10号" in info["评价依据"][1]
    assert is_placeholder(info["评价机构"][1])
    help_text = {r[0]: r[1] for r in book["填表说明"].iter_rows(min_row=2, values_only=True)}
    assert "评价依据" in help_text and "评价机构" in help_text
    assert "评价依据" in help_text["项目信息"] or "评价依据" in help_text["评价依据"]
    filled = _fill(path, path.with_name(f"filled_{path.name}"))
    project = perfeval.load_project(filled)
    assert project.info["评价依据"].startswith("《项目支出绩效评价管理办法》")
    assert project.info["评价机构"] == "某某会计师事务所"


def test_level_dropdown_accepts_the_weighted_header_spelling(template) -> None:
    scheme_id, path = template
    scheme = load_scheme(scheme_id)
    sheet = openpyxl.load_workbook(path)["指标"]
    (dv,) = [d for d in sheet.data_validations.dataValidation if str(d.sqref).startswith("A2:")]
    assert dv.type == "list"
    assert dv.errorStyle in ("warning", "information")  # other spellings can still be typed
    choices = dv.formula1.strip('"').split(",")
    output = next(lv for lv in scheme.levels if lv.name == "产出")
    recommended = f"产出指标({output.weight:g}分)"
    assert recommended in choices
    assert all(scheme.level_of(c) is not None for c in choices)  # each choice is read as its level
    help_text = " ".join(r[1] for r in openpyxl.load_workbook(path)["填表说明"].iter_rows(min_row=2, values_only=True))
    assert f"「{choices[len(scheme.levels)]}」" in help_text  # the spelling 填表说明 recommends is in the list
    # a sheet using that spelling for the header row validates (the declared weight matches its items)
    book = openpyxl.load_workbook(path)
    ind = book["指标"]
    for row in ind.iter_rows(min_row=2):
        if row[0].value == "产出":
            row[0].value = recommended
            break
    book.save(path.with_name("weighted.xlsx"))
    problems = perfeval.validate_paths([path.with_name("weighted.xlsx")])
    assert {p.code for p in problems} == {"placeholder"}


def test_untouched_template_gives_only_placeholder_warnings_at_their_cells(template, capsys) -> None:
    _, path = template
    problems = perfeval.validate_paths([path])
    assert problems and all(p.severity == "warning" and p.code == "placeholder" for p in problems)
    assert {(p.sheet, p.row, p.column) for p in problems} == _placeholder_cells(path)
    info = {p.column for p in problems if p.sheet == "项目信息"}
    assert {"项目编号", "项目名称", "主管部门", "实施单位", "评价依据", "评价机构"} <= info
    assert all(p.value and p.expected.startswith("模板") for p in problems)
    # the CLI lists exactly these, as warnings: the template validates (exit 0) and --strict refuses it
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith("⚠")]
    assert len(lines) == len(problems) and all("未替换" in line for line in lines)
    assert "✗" not in out and "没有错误" in out
    assert main(["validate", "--strict", str(path)]) == 2
    capsys.readouterr()
    # scoring it keeps them as warning findings (each once), nothing else is wrong with the sheet
    ev = perfeval.evaluate(perfeval.load_project(path))
    placeholder = ev.findings[ev.findings["code"] == "placeholder"]
    assert len(placeholder) == len(problems) and set(placeholder["severity"]) == {"warning"}


def _fill(path: Path, out: Path) -> Path:
    """The template as an evaluator leaves it: fields filled, example rows kept without 示例：."""
    book = openpyxl.load_workbook(path)
    values = {"项目编号": "XM2024-007", "项目名称": "社区老年人助餐服务补贴", "主管部门": "区民政局",
              "实施单位": "区养老服务指导中心", "评价依据": "《项目支出绩效评价管理办法》（财预〔2020〕10号）",
              "评价机构": "某某会计师事务所"}
    for row in book["项目信息"].iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    for row in book["指标"].iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("示例："):
                cell.value = cell.value.removeprefix("示例：")
    book.save(out)
    return out


def test_filled_template_validates_clean(template, tmp_path) -> None:
    _, path = template
    filled = _fill(path, tmp_path / "filled.xlsx")
    assert perfeval.validate_paths([filled]) == []
    assert main(["validate", str(filled)]) == 0


def test_placeholder_detection() -> None:
    for text in ("（项目名称）", "（填写项目名称）", "(请填写评价机构)", "示例：培训人数（人）", "示例:下半年补训",
                 "示例-2024-001", " （填写评价依据，如《办法》（财预〔2020〕10号））"):
        assert is_placeholder(text), text
    for text in ("（无）", "社区助餐（二期）", "项目名称", "按示例执行", "", None, 3.5, "填写规范"):
        assert not is_placeholder(text), text


def test_earlier_template_placeholders_are_warned_where_they_are(tmp_path) -> None:
    """A workbook from an earlier template ("（项目名称）", "示例-2024-001") is warned about too, cell by cell."""
    path = write_template(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    for row in book["项目信息"].iter_rows(min_row=2):
        row[1].value = {"项目编号": "示例-2024-001", "项目名称": "（项目名称）"}.get(row[0].value, row[1].value)
    book.save(path)
    found = {(p.column, p.value) for p in perfeval.validate_paths([path]) if p.sheet == "项目信息"}
    assert {("项目编号", "示例-2024-001"), ("项目名称", "（项目名称）")} <= found


def test_self_template_is_read_as_perfevals_own_layout(tmp_path) -> None:
    path = write_template(tmp_path / "自评模板.xlsx", scheme="self")
    raw = read_workbook(path)
    assert selfeval_sheets(raw) == [] and not any(is_selfeval_grid(g) for g in raw.grids.values())


def test_template_of_a_custom_scheme_round_trips(tmp_path) -> None:
    text = (ROOT / "perfeval" / "schemes" / "third_party.toml").read_text(encoding="utf-8")
    text = text.replace('id = "third_party"', 'id = "county"').replace(
        'name = "决策"\nweight = 20\naliases = [', 'name = "立项决策"\nweight = 20\naliases = ["决策", ', 1)
    scheme_file = tmp_path / "county.toml"
    scheme_file.write_text(text, encoding="utf-8")
    path = write_template(tmp_path / "county.xlsx", scheme=str(scheme_file))
    problems = perfeval.validate_paths([path])
    assert problems and {p.code for p in problems} == {"placeholder"}
    project = perfeval.load_project(path)
    assert project.indicators["level1"].iloc[0] == "立项决策"
    assert project.indicators["weight"].sum() == pytest.approx(100)


def test_help_sheet_names_the_chosen_scheme(template) -> None:
    scheme_id, path = template
    rows = {r[0]: r[1] for r in openpyxl.load_workbook(path)["填表说明"].iter_rows(min_row=2, values_only=True)}
    weights = "、".join(f"{lv.name}{lv.weight:g}分" for lv in load_scheme(scheme_id).levels)
    assert weights in rows["本模板"]
    assert re.search(r"共 13 节", rows["文字"])
