"""The page in a real browser: ``make report-check`` (headless Chromium, Debian package ``chromium``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.reporting import browser_check
from harness.reporting.browser_check import EXIT_OK, EXIT_PROBLEMS, find_chromium

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="no chromium on PATH: apt-get update && apt-get install -y chromium (see reports/README.md)")

BAD_PAGE = """<!doctype html><html><head><meta charset=utf-8><title>bad</title></head><body>
<section id="top"><p>worst error: nan</p><p>the port returned NaN at t=3</p>
<pre data-verbatim>the port returned NaN at t=3 (quoted output: allowed)</pre><pre data-verbatim>None</pre>
<div style="width:3000px">far too wide</div><img src="img/missing.png" alt="gone">
<a href="#nowhere">a link to no section</a></section>
<script>console.error("boom")</script></body></html>
"""


@needs_chromium
def test_the_check_names_every_kind_of_problem(tmp_path, capsys):
    page = tmp_path / "index.html"
    page.write_text(BAD_PAGE)
    assert browser_check.main([str(page)]) == EXIT_PROBLEMS
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(line.startswith("report-check: ") for line in lines)
    text = "\n".join(lines)
    assert "console error" in text and "boom" in text
    assert "image does not load: img/missing.png" in text
    assert "horizontal overflow at 1280 px as loaded" in text and "div in #top reaches" in text
    assert 'placeholder text "nan"' in text and 'NaN" in #top: "the port returned NaN at t=3"' in text
    assert text.count("placeholder text") == 3  # the quoted answer is exempt, a verbatim box saying only None is not
    assert "in-page link to nothing: #nowhere" in text
    assert (tmp_path / "screenshot.png").read_bytes()[:8] == PNG_MAGIC


@needs_chromium
def test_a_clean_page_passes_and_gets_its_screenshots(tmp_path, capsys):
    page = tmp_path / "index.html"
    page.write_text("<!doctype html><html><head><meta charset=utf-8><title>ok</title></head><body>"
                    "<h1 id=a>fine</h1><a href='#a'>up</a><details><summary>more</summary><pre style='white-space:"
                    "pre-wrap;overflow-wrap:anywhere'>" + "x" * 5000 + "</pre></details></body></html>")
    top = tmp_path / "top.png"
    assert browser_check.main([str(page), "--top", str(top), "--width", "1400"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("report-check: OK")
    from PIL import Image

    assert Image.open(top).size == (1400, 900)
    assert Image.open(tmp_path / "screenshot.png").size[0] == 1400


def test_without_a_page_or_chromium_it_cannot_check(tmp_path, monkeypatch, capsys):
    assert browser_check.main([str(tmp_path / "missing.html")]) == browser_check.EXIT_CANNOT_CHECK
    (tmp_path / "index.html").write_text("<p>x</p>")
    monkeypatch.setenv("RNN_PARITY_CHROMIUM", "no-such-browser-here")
    assert browser_check.main([str(tmp_path / "index.html")]) == browser_check.EXIT_CANNOT_CHECK
    err = capsys.readouterr().err
    assert "apt-get install -y chromium" in err


@needs_chromium
@pytest.mark.keras
def test_a_generated_report_passes_the_browser_check(tmp_path_factory, capsys):
    """A small real report (a few sweep cases, a broken and a correct port) passes ``make report-check``."""
    from harness.cli import main

    root = tmp_path_factory.mktemp("reports")
    cases = tmp_path_factory.mktemp("cases-subset")
    for name in ("seed-000-lstm-sigmoid.json", "correct-simplernn.json"):
        data = json.loads((REPO / "cases" / name).read_text())
        data["port"] = str(REPO / data["port"])
        data["examples"] = 2
        (cases / name).write_text(json.dumps(data))
    assert main(["report", "--examples", "2", "--seed", "5", "--max-timesteps", "12", "--cells", "LSTM,GRU",
                 "--cases", str(cases), "--out", str(root), "--no-progress"]) == 0
    capsys.readouterr()
    code = browser_check.main([str(root / "latest" / "index.html")])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    shot = (root / "latest").resolve() / "screenshot.png"
    assert shot.read_bytes()[:8] == PNG_MAGIC
