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
def test_kernel_reset_runs_no_full_collection_and_leaves_nothing_behind(tmp_path):
    """Before: `%reset -f` ran gc.collect() twice per report (≈ 70 ms each in a kernel holding pandas and
    matplotlib). Now the reset clears the same things without them."""
    from perfeval.report.notebook import Kernel

    with Kernel("python3") as kernel:
        _run(kernel, "import builtins, gc\n"
                     "builtins.perfeval_test_collections = []\n"
                     "_collect = gc.collect\n"
                     "def counted(*a, **k):\n"
                     "    builtins.perfeval_test_collections.append(1)\n"
                     "    return _collect(*a, **k)\n"
                     "gc.collect = counted\n"
                     "project = 'A'\n"
                     "project")
        kernel.prepare(tmp_path)
        content, text = _run(kernel, "import builtins, os\n"
                                     "print(len(builtins.perfeval_test_collections))\n"
                                     "print(sorted(k for k in globals()"
                                     " if 'perfeval' in k or k in ('project', 'counted')))\n"
                                     "print(len(Out), os.getcwd())")
    assert text.splitlines() == ["0", "[]", f"0 {tmp_path}"]
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
