"""End to end in a real browser: `perfeval lab` serves explore.ipynb on localhost, headless
Chromium runs all cells, a what-if widget is changed and the displayed score follows.

Needs Debian's chromium (/usr/bin/chromium, installed by .ci/run) and the `playwright` Python
package, which drives that browser (no browser is downloaded). The screenshot is kept under
test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "csv" / "AKT2022-001.csv"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="需要 Debian 的 chromium（/usr/bin/chromium）：apt-get install -y chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fontconfig(tmp: Path) -> Path:
    """A fontconfig file adding the bundled Noto Sans CJK (PyPI noto-cjk-sans-otc) to the system
    fonts, so the browser draws Chinese labels without any system CJK font."""
    import noto_cjk_sans_otc

    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{Path(noto_cjk_sans_otc.FONT_PATH).parent}</dir>\n"
        f"  <cachedir>{tmp / 'fontcache'}</cachedir>\n</fontconfig>\n", encoding="utf-8")
    return conf


def _quiet_lab_settings(settings: Path) -> None:
    """No news or update checks (no network, no pop-ups over the notebook)."""
    target = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('{"fetchNews": "false", "checkForUpdates": false}', encoding="utf-8")


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"perfeval lab exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {timeout:g}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def lab_server(tmp_path: Path):
    port, token = _free_port(), secrets.token_hex(16)
    _quiet_lab_settings(tmp_path / "settings")
    env = {**os.environ, "JUPYTER_TOKEN": token,
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "MPLCONFIGDIR": str(tmp_path / "mpl")}
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        # a copy of the notebook in tmp (the command copies it there), so autosave never
        # touches the committed, output-free notebook
        proc = subprocess.Popen(
            [sys.executable, "-m", "perfeval.cli", "lab", str(REFERENCE), "--dir", str(tmp_path / "nb"),
             "--port", str(port), "--no-browser"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)
        yield f"http://127.0.0.1:{port}", token, tmp_path
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def test_whatif_in_jupyterlab_updates_the_displayed_score(lab_server) -> None:
    from playwright.sync_api import expect, sync_playwright

    import perfeval
    from perfeval.workbench.tables import num

    base_url, token, tmp = lab_server
    assert (tmp / "nb" / "explore.ipynb").is_file()
    project = perfeval.load_project(REFERENCE)
    index = int(project.indicators.index[project.indicators["name"] == "社保金缴费资金及时发放率（%）"][0])
    row = int(project.indicators.at[index, "row"])
    before = perfeval.evaluate(project)
    after = perfeval.evaluate(project.with_indicator(index, actual="100%"))
    assert after.total != before.total

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "e2e_explore_whatif.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                     env={**os.environ, "FONTCONFIG_FILE": str(_fontconfig(tmp))})
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base_url}/lab/tree/explore.ipynb?token={token}")
            page.locator(".jp-NotebookPanel").first.wait_for(timeout=90_000)
            # the kernel must be up before "Run All Cells", or JupyterLab asks which kernel to start
            expect(page.get_by_text("Python 3 (ipykernel) | Idle").first).to_be_visible(timeout=90_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

            score = page.locator(".perfeval-whatif-total .perfeval-score").first
            expect(score).to_have_text(num(before.total), timeout=120_000)
            choice = page.locator(".perfeval-whatif-indicator select").first
            choice.select_option(label=f"第{row}行 产出/社保金缴费资金及时发放率（%）")
            actual = page.locator(".perfeval-whatif-actual input").first
            expect(actual).to_have_value("96%", timeout=30_000)
            actual.fill("100%")
            actual.press("Enter")
            expect(score).to_have_text(num(after.total), timeout=30_000)
            expect(page.locator(".perfeval-whatif-total .perfeval-grade").first).to_have_text(after.grade)
            page.locator(".perfeval-whatif-total").first.scroll_into_view_if_needed()
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000

