"""The HTML report in a real browser: Debian's headless Chromium loads it offline (every host
name unresolvable, so a request to the network would fail and be logged), and the rendered page
is checked – the DOM after rendering holds the estimates table and the embedded figures, the
console shows no error, and the screenshot is a drawn page, not a blank one.

Skipped, saying why, only where no Chromium binary exists (install it with
``apt-get install -y chromium``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest

from cerebro.core.registry import methods
from cerebro.core.spec import parse_spec
from cerebro.report.document import render_report

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (apt-get install -y chromium)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any network request fails, logged
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={cwd / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = []
    for kind in ("abtest", "uplift"):
        method = methods()[kind]
        module, function = method.example.split(":")
        fields, data = getattr(import_module(module), function)()
        results.append(method.run(parse_spec({"kind": kind, **fields}), data))
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(render_report(results, title="Browser check"), encoding="utf-8")
    return path


def console_errors(stderr: str) -> list[str]:
    """Console messages and failed loads Chromium logs (its own D-Bus noise is not the page's)."""
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line or "net::ERR" in line or "Failed to load" in line
    ]


def test_the_rendered_dom_holds_the_tables_and_figures(report: Path) -> None:
    run = chromium("--dump-dom", report.as_uri(), cwd=report.parent)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert "<title>Browser check</title>" in dom
    assert len(re.findall(r'<table class="cerebro estimates"', dom)) == 2
    assert len(re.findall(r'<img src="data:image/png;base64,', dom)) == 2
    assert 'data-kind="uplift"' in dom and "Executive summary" in dom
    assert console_errors(run.stderr) == []


def test_the_screenshot_is_a_drawn_page(report: Path) -> None:
    shot = report.parent / "report.png"
    run = chromium(
        f"--screenshot={shot}", "--window-size=1200,2400", report.as_uri(), cwd=report.parent
    )
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    assert console_errors(run.stderr) == []
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2400, 1200)
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # text, tables and a plot, not a blank or error page


def test_the_console_check_sees_a_page_error(tmp_path: Path) -> None:
    """The check above can fail: a page that logs an error to the console is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>console.error("boom")</script></body></html>')
    run = chromium("--dump-dom", page.as_uri(), cwd=tmp_path)
    assert any("boom" in line for line in console_errors(run.stderr))
