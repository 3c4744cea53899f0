"""Extensions by entry point (perfeval.plugins): an installed package adds a subcommand (`perfeval.commands`)
or an evaluation scheme (`perfeval.schemes`) without perfeval knowing its files. A built-in name is never
replaced; a broken command plugin is skipped with a warning; a broken scheme plugin is a located error."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import perfeval
from perfeval.cli import main
from perfeval.scheme import SchemeError, load_scheme
from tests.test_custom_scheme import SCHEME_NAME, custom_scheme

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"


def install(site: Path, package: str, code: str, entry_points: str) -> None:
    """A distribution `package` 1.0 on `site` (a folder put on sys.path) with its module and entry points."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(textwrap.dedent(code), encoding="utf-8")
    info = site / f"{package}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    custom_scheme(tmp_path / "county.toml")  # 优 from 99 points: the reference (98.94) is 良
    install(folder, "perfeval_demo", f"""
        from pathlib import Path

        def register(subparsers):
            parser = subparsers.add_parser("demo-count", help="统计项目数（示例插件）")
            parser.add_argument("path")
            parser.set_defaults(func=run)

        def run(args):
            import perfeval
            print("项目数：", len(perfeval.load_projects(args.path, field_data=False)))
            return 0

        def county_scheme():
            return Path({str(tmp_path / "county.toml")!r})

        def not_a_scheme():
            return 42
        """, """
        [perfeval.commands]
        demo-count = perfeval_demo
        report = perfeval_demo
        broken = perfeval_demo_missing

        [perfeval.schemes]
        county = perfeval_demo:county_scheme
        bad = perfeval_demo:not_a_scheme
        third_party = perfeval_demo:county_scheme
        """)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_a_command_plugin_adds_a_subcommand_and_a_broken_one_is_skipped(site, capsys) -> None:
    assert main(["demo-count", str(REFERENCE)]) == 0
    captured = capsys.readouterr()
    assert "项目数： 1" in captured.out
    assert ("插件「broken」（perfeval_demo_missing，来自 perfeval_demo）无法加载，已跳过：ModuleNotFoundError"
            in captured.err)
    assert "插件「report」（perfeval_demo，来自 perfeval_demo）与已有命令同名，已忽略" in captured.err
    assert main(["validate", str(REFERENCE)]) == 0  # the built-in commands keep working


def test_report_stays_the_built_in_command(site) -> None:
    from perfeval.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert sub.choices["report"].prog.endswith("report")
    assert sub.choices["report"].get_default("func").__module__ == "perfeval.report.command"


def test_a_scheme_plugin_is_loaded_by_name_and_loads_again_by_its_spec(site) -> None:
    scheme = load_scheme("county")
    assert scheme.name == SCHEME_NAME and scheme.spec == "county"
    assert load_scheme(scheme.spec) == scheme
    evaluation = perfeval.evaluate(perfeval.load_project(REFERENCE, "county", field_data=False))
    assert evaluation.scheme.name == SCHEME_NAME and evaluation.total == pytest.approx(98.94)
    assert evaluation.grade == "良"


def test_score_command_takes_a_plugin_scheme(site, capsys) -> None:
    assert main(["score", str(REFERENCE), "--scheme", "county"]) == 0
    assert "良" in capsys.readouterr().out


def test_a_built_in_scheme_is_never_replaced_by_a_plugin(site) -> None:
    assert load_scheme("third_party").name != SCHEME_NAME


def test_a_broken_scheme_plugin_is_a_located_error(site) -> None:
    named = "评价方案插件「bad」（perfeval_demo:not_a_scheme，来自 perfeval_demo）给出的「42」不是方案"
    with pytest.raises(SchemeError, match=re.escape(named)):
        load_scheme("bad")
    with pytest.raises(SchemeError, match=r"应为 third_party（.*）、self（.*）、bad、county 或一个 \.toml 方案文件"):
        load_scheme("nowhere")
