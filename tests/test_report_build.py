"""The whole pipeline: papermill runs notebooks/evaluation.ipynb, every format is exported,
files are written atomically, invalid sheets stop before anything is written."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from docx import Document

import perfeval
from perfeval.cli import main as cli_main
from perfeval.report import build_report
from perfeval.report.build import file_stem, parse_formats
from perfeval.report.notebook import NotebookFailed

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_CSV = ROOT / "data" / "reference" / "csv" / "AKT2022-001.csv"
GENERATED = "2024-05-06 07:08:09+08:00"
SCRIPT = "<script>alert(1)</script>"


def copy_reference(folder: Path, **info: str) -> Path:
    """The reference CSV set copied into `folder`, with 项目信息 fields replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in REFERENCE_CSV.parent.glob(f"{REFERENCE_CSV.stem}.*"):
        shutil.copy(source, folder / source.name)
    sheet = folder / f"{REFERENCE_CSV.stem}.项目信息.csv"
    rows = list(csv.reader(io.StringIO(sheet.read_text("utf-8-sig"))))
    rows = [[key, info.get(key, value)] for key, value in rows]
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder / REFERENCE_CSV.name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    return build_report(REFERENCE_CSV, out, extra_parameters={"generated_at": GENERATED})


def test_helpers():
    assert parse_formats("html, PDF,.docx,html") == ("html", "pdf", "docx")
    with pytest.raises(perfeval.PerfevalError, match="未知的导出格式「xls」"):
        parse_formats("html,xls")
    assert file_stem('A/B:C*?"<>|') == "A_B_C_"
    assert file_stem("AKT2022-001") == "AKT2022-001"


@pytest.mark.slow
def test_writes_every_format_named_after_the_project(built):
    # the project snapshot the notebook showed is kept beside it (issue 10: the notebook no longer reads the sheet)
    assert set(built) == {"ipynb", "project", "html", "pdf", "docx"}
    assert {p.name for p in built.values()} == {f"AKT2022-001.{k}" for k in ("ipynb", "html", "pdf", "docx")} | {
        "AKT2022-001.project.json"}
    folder = built["html"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in built.values())


@pytest.mark.slow
def test_executed_notebook_is_the_audit_trail(built):
    nb = nbformat.read(built["ipynb"], as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert str(REFERENCE_CSV) in injected.source and GENERATED in injected.source
    assert 'project_file = "AKT2022-001.project.json"' in injected.source  # shown from the snapshot …
    assert hashlib.sha256(built["project"].read_bytes()).hexdigest() in injected.source  # … checked by its hash
    assert "export" not in injected.source  # the notebook no longer exports itself
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    assert not [o for c in nb.cells for o in c.get("outputs", ()) if o.output_type == "error"]


@pytest.mark.slow
def test_html_content(built):
    page = built["html"].read_text("utf-8")
    for needle in ("绩效评价报告", "98.94", "优", "95.6%", "4.4%", "附录\u3000数据核查"):
        assert needle in page
    for code in ("ReportView", "report.show", "import ", "<script"):
        assert code not in page
    assert 'url("data:font/woff2;base64,' in page  # the CJK subset travels inside the file
    assert "864d129faf97782f408465873a6efa1ada4cc36b1b36a04687dbac8e72cf90af" in page


@pytest.mark.slow
def test_pdf_content(built):
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    fonts = subprocess.run(["pdffonts", str(built["pdf"])], capture_output=True, text=True,
                           check=True).stdout
    assert any("PerfevalCJK" in line and line.split()[-5:-2] == ["yes", "yes", "yes"]
               for line in fonts.splitlines())
    text = subprocess.run(["pdftotext", str(built["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    for needle in ("预算执行率", "95.6%", "98.94", GENERATED, perfeval.__version__):
        assert needle in text


@pytest.mark.slow
def test_docx_content(built):
    word = Document(str(built["docx"]))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings[:8] == ["一、基本情况", "二、绩效评价工作开展情况", "三、综合评价情况及评价结论",
                            "四、绩效评价指标分析", "五、预算执行进度与绩效指标偏差",
                            "六、主要经验及做法、存在的问题及原因分析", "七、有关建议", "八、其他需要说明的问题"]
    scores = next(t for t in word.tables if len(t.columns) == 10)
    last = [c.text for c in scores.rows[-1].cells]
    assert last[0] == "合计" and last[-2:] == ["98.94", "98.9%"]
    text = "\n".join(p.text for p in word.paragraphs)
    assert perfeval.evaluate(perfeval.load_project(REFERENCE_CSV)).project.sha256 in text


@pytest.mark.slow
def test_cli_escapes_a_hostile_project_name(tmp_path, capsys, monkeypatch):
    import perfeval.sheets.load

    workbook = copy_reference(tmp_path / "in", 项目名称=SCRIPT, 项目编号="X/1")
    out = tmp_path / "out"
    reads = []
    real_load = perfeval.sheets.load.load_project
    monkeypatch.setattr(perfeval.sheets.load, "load_project", lambda *a, **k: reads.append(a[0]) or real_load(*a, **k))
    assert cli_main(["report", str(workbook), "--out", str(out)]) == 0
    assert len(reads) == 1  # issue 10: `perfeval report` reads its sheet once (it was read twice)
    assert "✓ HTML" in capsys.readouterr().out
    from perfeval.batch.manifest import folder_names

    folder = folder_names(["X/1"])["X/1"]  # OUT/<年度>/<项目编号>/, as perfeval batch names it (unsafe id: hashed)
    assert folder.startswith("X_1") and folder != "X_1"
    out = out / "2022" / folder
    assert sorted(p.name for p in out.iterdir()) == ["X_1.docx", "X_1.html", "X_1.ipynb", "X_1.pdf",
                                                     "X_1.project.json"]
    page = (out / "X_1.html").read_text("utf-8")
    assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    word = Document(str(out / "X_1.docx"))
    assert word.paragraphs[0].text.startswith(SCRIPT)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "X_1.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert SCRIPT in text


def test_invalid_sheet_writes_nothing(tmp_path, capsys):
    workbook = copy_reference(tmp_path / "in", 预算数="很多")
    out = tmp_path / "out"
    with pytest.raises(perfeval.SheetError) as caught:
        build_report(workbook, out)
    assert any(p.column == "预算数" for p in caught.value.problems)
    assert not out.exists() or not any(out.iterdir())
    assert cli_main(["report", str(workbook), "--out", str(out)]) == 2
    assert "预算数" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_failed_notebook_is_kept_and_reported(tmp_path):
    source = json.loads((ROOT / "notebooks" / "evaluation.ipynb").read_text("utf-8"))
    source["cells"].insert(3, nbformat.v4.new_code_cell("raise ValueError('坏了')"))
    broken = tmp_path / "broken.ipynb"
    broken.write_text(json.dumps(source, ensure_ascii=False), "utf-8")
    out = tmp_path / "out"
    with pytest.raises(NotebookFailed, match="ValueError：坏了"):
        build_report(REFERENCE_CSV, out, notebook=broken)
    assert [p.name for p in out.iterdir()] == ["AKT2022-001.failed.ipynb"]
