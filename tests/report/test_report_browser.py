"""A real browser opens the report: headless Chromium (Debian package ``chromium``,
installed by ``.ci/run``) loads the report of a tiny run and of a two-run comparison from
disk, at laptop and at phone width.

A probe script is added to a copy of the page (the report itself is not changed): it
records script errors, which images decoded, whether the shown grid and the metrics table
have a size on screen, and whether the page is wider than the window. ``--dump-dom``
hands the result back; ``--screenshot`` must not be blank.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ganforge.report import build_report
from report_helpers import fake_eval


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; "
                                                         ".ci/run installs it)")

ERRORS = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });</script>"""

PROBE = """<script>window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var shown = function (el) { var r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  var grids = Array.prototype.slice.call(document.querySelectorAll('.grids img'));
  var table = document.querySelector('table.metrics');
  document.body.setAttribute('data-probe', JSON.stringify({
    errors: window.__errors,
    images: imgs.length,
    decoded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    grids: grids.length,
    grids_shown: grids.filter(shown).length,
    sliders: document.querySelectorAll('.slider input[type=range]').length,
    table_shown: table ? shown(table) && table.querySelectorAll('tbody tr').length : 0,
    scroll_width: document.documentElement.scrollWidth,
    inner_width: window.innerWidth,
    script: document.body.getAttribute('data-script')
  }));
});</script>"""


def _chrome(*args, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--disable-background-networking", "--mute-audio",
           f"--user-data-dir={cwd / 'profile'}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


#: Headless Chromium's window is at least 500 px wide, so a phone is a 375 px iframe (the
#: page's media queries then see 375 px); its probe result is copied out to the wrapper.
PHONE = """<!DOCTYPE html><html><body style="margin:0"><iframe id="f" title="report at phone width"
src="SRC" style="width:WIDTHpx;height:900px;border:0"></iframe><script>
document.getElementById('f').addEventListener('load', function () {
  document.body.setAttribute('data-probe', this.contentDocument.body.getAttribute('data-probe'));
});</script></body></html>"""


def _probe(report: Path, tmp: Path, width: int) -> dict:
    text = report.read_text()
    probe = tmp / f"probe-{width}.html"
    probe.write_text(text.replace("<head>", "<head>" + ERRORS, 1).replace("</body>", PROBE + "</body>", 1))
    target = probe
    if width < 500:
        target = tmp / f"phone-{width}.html"
        target.write_text(PHONE.replace("SRC", probe.name).replace("WIDTH", str(width)))
    res = _chrome(f"--window-size={max(width, 500)},900", "--allow-file-access-from-files", "--virtual-time-budget=5000",
                  "--dump-dom", target.as_uri(), cwd=tmp)
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'data-probe="([^"]*)"', res.stdout)
    assert m, res.stdout[:500] + res.stderr[-2000:]
    console = [line for line in res.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    import html

    return json.loads(html.unescape(m.group(1)))


def _screenshot(report: Path, tmp: Path, width: int, height: int) -> np.ndarray:
    from PIL import Image

    shot = tmp / f"shot-{width}.png"
    res = _chrome(f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={shot}",
                  report.as_uri(), cwd=tmp)
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    im = np.asarray(Image.open(shot).convert("RGB"))
    assert im.shape[:2] == (height, width)
    return im


def _check(report: Path, tmp: Path, n_runs: int) -> None:
    for width in (1280, 375):  # a laptop and a phone
        p = _probe(report, tmp, width)
        assert p["inner_width"] == width, p
        assert p["errors"] == [] and p["script"] == "ok", p
        assert p["images"] > 0 and p["decoded"] == p["images"], p
        assert p["grids"] == 2 * n_runs and p["grids_shown"] == n_runs, p  # the slider shows one grid per run
        assert p["sliders"] == n_runs, p
        assert p["table_shown"] >= 5, p  # the metrics table is on screen with its rows
        assert p["scroll_width"] <= p["inner_width"] + 1, p  # no sideways scrolling of the page itself
        im = _screenshot(report, tmp, max(width, 500), 1400)
        gray = im.mean(axis=2)
        assert gray.std() > 20, "the screenshot is blank"
        assert len(np.unique(im.reshape(-1, 3)[::7], axis=0)) > 50


def test_browser_opens_a_single_run_report(run_copy, tmp_path):
    run = run_copy(0)
    fake_eval(run, {"fid": (12.5, "lower", 1.1)}, shares=[0.1] * 10)
    _check(build_report([run]), tmp_path, 1)


def test_browser_opens_a_two_run_comparison(run_copy, tmp_path):
    a, b = run_copy(0, "a-run"), run_copy(1, "b-run")
    _check(build_report([a, b], tmp_path / "cmp.html"), tmp_path, 2)
