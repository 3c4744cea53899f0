"""Reports near the floor (issue 10, item 4, target (b)): what a warm batch worker and its kernel no longer
pay for every project, each checked by the behaviour that replaced it."""

from __future__ import annotations

import pytest


def _run(kernel, code: str) -> tuple[dict, str]:
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(kernel.km.get_connection_info())
    client.start_channels()
    out: list[dict] = []
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=60, output_hook=out.append)
    finally:
        client.stop_channels()
    text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
    return reply["content"], text


# ---------------------------------------------------------------- the kernel reset between projects

@pytest.mark.slow
def test_kernel_reset_collects_once_freezes_the_rest_and_leaves_nothing_behind(tmp_path):
    """Before: `%reset -f` ran gc.collect() twice per report, each walking the whole heap (≈ 70 ms in a kernel
    holding pandas and matplotlib). Now the reset collects once and freezes what survived, so that collection
    (and every later one) walks only what the last project made."""
    from perfeval.report.notebook import Kernel

    with Kernel("python3") as kernel:
        _run(kernel, "import builtins, gc\n"
                     "builtins.perfeval_test_collections = []\n"
                     "def counted(*a, _log=builtins.perfeval_test_collections, _collect=gc.collect, **k):\n"
                     "    _log.append(1)  # defaults: the reset clears this cell's globals\n"
                     "    return _collect(*a, **k)\n"
                     "gc.collect = counted\n"
                     "project = 'A'\n"
                     "project")
        kernel.prepare(tmp_path)
        content, text = _run(kernel, "import builtins, os\n"
                                     "import gc\n"
                                     "print(len(builtins.perfeval_test_collections), gc.get_freeze_count() > 0)\n"
                                     "print(sorted(k for k in globals()"
                                     " if 'perfeval' in k or k in ('project', 'counted')))\n"
                                     "print(len(Out), os.getcwd())")
    assert text.splitlines() == ["1 True", "[]", f"0 {tmp_path}"]
    assert content["execution_count"] == 1


# ---------------------------------------------------------------- the chart font

def test_chart_font_face_is_read_once(monkeypatch):
    """Before: every chart opened the CJK face to read its character map (≈ 10 ms, three charts a report)."""
    import matplotlib as mpl
    from matplotlib import ft2font

    from perfeval import fonts

    fonts.register_cjk_font()
    opened: list[str] = []
    real = ft2font.FT2Font
    monkeypatch.setattr(ft2font, "FT2Font", lambda *a, **k: opened.append(a[0]) or real(*a, **k))
    for _ in range(3):
        assert fonts.register_cjk_font() == fonts.FAMILY
    assert opened == []
    assert mpl.rcParams["axes.unicode_minus"] is True and mpl.rcParams["font.sans-serif"][0] == fonts.FAMILY


# ---------------------------------------------------------------- a job process's heap

def test_settle_heap_collects_a_jobs_garbage_and_freezes_the_rest():
    """Before: a warm job process's heap stayed in the collector's sight, and the full collections WeasyPrint
    triggers walked all of it (≈ 0.25 s of each PDF). Now what a job leaves is collected, the rest frozen."""
    import gc
    import weakref

    from perfeval.batch.worker import settle_heap

    class Node:
        pass

    kept, dropped = Node(), Node()
    dropped.me = dropped  # a cycle: only the collector frees it
    gone = weakref.ref(dropped)
    del dropped
    try:
        settle_heap()
        assert gone() is None
        assert gc.get_freeze_count() > 0
        assert all(o is not kept for o in gc.get_objects())  # frozen: out of the collector's sight
    finally:
        gc.unfreeze()


# ---------------------------------------------------------------- importing the report stack

def _python(code: str) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                          timeout=120).stdout.strip()


def test_processes_perfeval_owns_import_papermill_without_the_rfc3987_grammar():
    """Before: importing papermill in a batch's forkserver (and in `perfeval report`) built jsonschema's optional
    RFC 3987 Lark grammar, 1.3–1.5 CPU-s of a 1.5 s import. Now such a process skips that module, and nbformat
    still validates notebooks."""
    out = _python("import sys, perfeval.report.startup, papermill, nbformat\n"
                  "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
                  "nbformat.validate(nb)\n"
                  "print(sys.modules['rfc3987_syntax'] is None, 'lark' in sys.modules)")
    assert out == "True False"


def test_library_use_of_the_report_stack_is_left_alone():
    out = _python("import sys, perfeval.report, perfeval.report.build\n"
                  "print('rfc3987_syntax' in sys.modules)")
    assert out == "False"


def test_batch_forkserver_sets_up_first_and_preloads_no_chart_library():
    from perfeval.batch.runner import PRELOAD

    assert PRELOAD[0] == "perfeval.report.startup"
    assert not any(name.startswith("matplotlib") for name in PRELOAD)  # the kernel draws the charts


# ---------------------------------------------------------------- Word table cells

def _python_docx_cell_text(cell, text: str, numeric: bool, bold: bool, style: str) -> None:
    """The cell text as python-docx's own API writes it (what `docx._cell_text` did before)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    paragraph.style = style
    if numeric:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        run.bold = bold or None
        if i < len(lines) - 1:
            run.add_break()


@pytest.mark.parametrize("text", ["", "得分", " 前后有空格 ", "第一行\n第二行", "a\tb", "\n空行在前\n\n", "x\ry"])
@pytest.mark.parametrize(("numeric", "bold"), [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("style", ["Normal", "Title"])
def test_word_cell_text_is_the_xml_python_docx_writes(text, numeric, bold, style):
    """Before: each cell went through python-docx's paragraph and run API (≈ a fifth of the Word export). Now
    the elements are built directly; the XML is the same, element for element."""
    from docx import Document
    from lxml import etree

    from perfeval.report.docx import _cell_text

    ours, theirs = Document(), Document()
    a, b = ours.add_table(rows=1, cols=1).cell(0, 0), theirs.add_table(rows=1, cols=1).cell(0, 0)
    _cell_text(a, text, numeric, bold, style)
    _python_docx_cell_text(b, text, numeric, bold, style)
    assert etree.tostring(a._tc) == etree.tostring(b._tc)
