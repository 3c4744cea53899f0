"""CLI conventions (issue 11, item 5): help and examples for every command, --version, --option errors that
list the valid keys, help that never breaks a word, one output layout and one --kernel default for
report and batch."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import perfeval
from perfeval.cli import build_parser, display_width, main, option_keys, wrap_cjk

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "AKT2022-001.xlsx"
COMMANDS = ("validate", "score", "template", "report", "batch", "synth", "lab", "panel", "survey", "materials")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help(argv: list[str], capsys, monkeypatch, columns: int = 80) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    with pytest.raises(SystemExit) as stop:
        main([*argv, "-h"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_every_command_is_registered() -> None:
    assert set(_subparsers(build_parser())) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_a_description_arguments_and_examples(command: str, capsys, monkeypatch) -> None:
    text = _help([command], capsys, monkeypatch)
    parser = _subparsers(build_parser())[command]
    assert parser.description and len(parser.description) > 20
    assert parser.description.split("\n")[0][:12] in text.replace("\n", "")
    for action in parser._actions:  # every argument, positional ones included, says what it is
        assert action.help, f"{command}: {action.dest} has no help"
    examples = text.split("示例：\n", 1)[1].splitlines()
    assert examples and all(line.startswith(("  perfeval ", "      ")) for line in examples if line)
    assert any(line.startswith(f"  perfeval {command}") for line in examples)
    assert "show this help" not in text and "Traceback" not in text


def test_top_level_help_lists_commands_and_examples(capsys, monkeypatch) -> None:
    text = _help([], capsys, monkeypatch)
    for command in COMMANDS:
        assert f"    {command} " in text
    assert "示例：" in text and "--version" in text


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"perfeval {perfeval.__version__}"


def _tokens(parser: argparse.ArgumentParser) -> set[str]:
    """ASCII words of a parser's help texts (options, key=value, paths) that a wrap must keep whole."""
    texts = [parser.description or "", parser.epilog or ""] + [a.help or "" for a in parser._actions]
    return {t for text in texts for t in re.findall(r"[A-Za-z0-9_][\x21-\x7e]*[A-Za-z0-9_]", text) if len(t) > 3}


@pytest.mark.parametrize("columns", [50, 80, 120])
def test_help_never_breaks_a_word(columns: int, capsys, monkeypatch) -> None:
    for command, parser in _subparsers(build_parser()).items():
        text = _help([command], capsys, monkeypatch, columns)
        for token in _tokens(parser):
            assert token in text, f"{command} -h at {columns} columns breaks {token!r}"
        width = max(40, min(columns - 2, 100))
        for line in text.splitlines():  # a line is too wide only when it is one token that cannot be broken
            assert display_width(line) <= width or len(line.split()) == 1 or line.lstrip().startswith(
                ("[", "perfeval")), (command, line)
    text = _help(["score"], capsys, monkeypatch, 60)
    assert "qualitative_scale" in text and "qualitativ\n" not in text


def test_wrap_cjk_keeps_tokens_and_punctuation() -> None:
    lines = wrap_cjk("评分选项，如 qualitative_scale=four_grade、execution_denominator=allocated（可重复）", 24)
    assert "qualitative_scale=four_grade、" in lines[1] and lines[-1].endswith("（可重复）")
    assert all(not line.startswith(("，", "、", "）")) for line in lines)
    assert all(display_width(line) <= 24 or " " not in line for line in lines)


@pytest.mark.parametrize("command", ["score", "report"])
def test_unknown_option_lists_the_valid_keys(command: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = [command, str(REFERENCE), "--option", "foo=1"] + (["--out", str(out)] if command == "report" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "未知的评分选项：foo；可用：" in err
    for key in option_keys():
        assert key in err
    assert not out.exists()


@pytest.mark.parametrize("bad, says", [
    ("foo", "格式不正确，应为 KEY=VALUE"),
    ("=1", "格式不正确，应为 KEY=VALUE"),
    ("decimals=two", "decimals=「two」无效，应为整数"),
    ("deviation_threshold=nan", "deviation_threshold=「nan」无效，应为数值"),
    ("rounding=up", "应为 half_up、half_even、truncate 之一"),
])
def test_bad_option_is_a_chinese_error_with_exit_2(bad: str, says: str, capsys) -> None:
    assert main(["score", str(REFERENCE), "--option", bad]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_option_without_equals_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command in ("score", "report"):
        done = subprocess.run([sys.executable, "-m", "perfeval.cli", command, str(REFERENCE), "--option", "foo",
                               *(["--out", str(tmp_path / "r")] if command == "report" else [])],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "评分选项「foo」格式不正确" in done.stderr
        assert "可用：rounding、decimals" in done.stderr
    assert not (tmp_path / "r").exists()


def test_good_options_still_score(capsys) -> None:
    assert main(["score", str(REFERENCE), "--option", "negative_rule=linear", "--option", "decimals=1",
                 "--option", "over_achievement_threshold=2", "--json"]) == 0
    options = {"negative_rule": "linear", "decimals": 1, "over_achievement_threshold": 2.0}
    expected = perfeval.evaluate(perfeval.load_project(REFERENCE), options=options)
    assert json.loads(capsys.readouterr().out)["total"] == pytest.approx(expected.total)
    assert expected.options.decimals == 1 and isinstance(expected.options.decimals, int)


def test_report_writes_into_the_batch_layout(tmp_path: Path, monkeypatch, capsys) -> None:
    """`perfeval report` puts a project's files where `perfeval batch` puts them: OUT/<年度>/<项目编号>/."""
    import perfeval.report.build as build
    from perfeval.batch import manifest

    calls = {}

    def fake_build(evaluation, formats, out_dir, **kwargs):
        calls.update(out_dir=Path(out_dir), kwargs=kwargs, project=evaluation.project.id)
        return {"html": Path(out_dir) / "AKT2022-001.html"}

    monkeypatch.setattr(build, "build", fake_build)  # the evaluated project (read once) is what is built
    assert main(["report", str(REFERENCE), "--out", str(tmp_path / "reports"), "--format", "html"]) == 0
    batch_folder = manifest.Layout(tmp_path / "reports").project_dir(
        2022, manifest.folder_names(["AKT2022-001"])["AKT2022-001"])
    assert calls["out_dir"] == batch_folder == tmp_path / "reports" / "2022" / "AKT2022-001"
    assert calls["project"] == "AKT2022-001"
    assert calls["kwargs"]["kernel"] is None  # the notebook's own kernel, as in batch
    assert str(batch_folder) in capsys.readouterr().out


def test_kernel_default_is_the_same_for_report_and_batch() -> None:
    commands = _subparsers(build_parser())
    kernels = {name: next(a for a in commands[name]._actions if a.dest == "kernel") for name in ("report", "batch")}
    assert kernels["report"].default is None and kernels["batch"].default is None
    assert kernels["report"].help == kernels["batch"].help and "python3" in kernels["report"].help
    from perfeval.report.notebook import kernel_name_of, notebook_path

    assert kernel_name_of(notebook_path()) == "python3"  # what the help says the default is


@pytest.mark.parametrize("argv, says", [
    (["score"], "缺少必需的参数：PATH"),
    (["bogus"], "命令 不能是「bogus」，可选：validate"),
    (["score", "x.xlsx", "--bad"], "无法识别的参数：--bad"),
    (["score", "x.xlsx", "--option"], "--option 后面需要一个值"),
    (["synth", "--projects", "x", "--out", "y"], "--projects 应为整数：x"),
])
def test_argument_errors_are_chinese_with_exit_2(argv: list[str], says: str, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "-h 查看帮助" in err and "usage:" not in err
