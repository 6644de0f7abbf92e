"""The documentation: generated pages up to date, a short README, links that resolve.

Fast: renders the pages from the registries (no Keras model is built) and reads Markdown.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.docs_pages import flags_page, known_differences_page, main

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_COMMAND = re.compile(r"\b(make [a-z][\w-]*|rnn-parity [a-z][\w-]*|python3? -m \S+|pip install)")


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code (links there are not links)."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for line in _FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = _slug(match.group(1))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


@pytest.mark.parametrize(("name", "render"), [("flags.md", flags_page),
                                              ("known-differences.md", known_differences_page)])
def test_generated_pages_are_up_to_date(name, render):
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing: run `make docs`"
    assert path.read_text(encoding="utf-8") == render(), f"docs/{name} is stale: run `make docs`"


def test_check_mode_names_a_stale_page(tmp_path, monkeypatch, capsys):
    import harness.docs_pages as docs_pages

    monkeypatch.setattr(docs_pages, "_docs_dir", lambda: tmp_path / "docs")
    (tmp_path / "docs").mkdir()
    assert main(["--check"]) == 1
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and "docs/flags.md" in message and "make docs" in message
    assert main([]) == 0
    assert main(["--check"]) == 0


def test_readme_is_short():
    length = len(README.read_text(encoding="utf-8"))
    assert length <= 12_000, f"README.md is {length} characters (limit 12,000): move depth into docs/"


def test_readme_starts_with_make_report_and_make_test():
    commands = [m.group(1) for m in _COMMAND.finditer(README.read_text(encoding="utf-8"))]
    assert commands[:2] == ["make report", "make test"], f"first commands in README.md: {commands[:3]}"


def test_every_page_starts_with_a_paragraph():
    for path in sorted(DOCS.glob("*.md")):
        blocks = [b for b in path.read_text(encoding="utf-8").split("\n\n") if not b.startswith("<!--")]
        assert blocks[0].startswith("# "), f"{path.name}: no title"
        assert blocks[1][:1].isalnum(), f"{path.name}: no opening paragraph after the title"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no heading #{anchor})")
    assert not broken, f"{page.relative_to(REPO)}: broken links: {', '.join(broken)}"


def test_report_screenshot_is_referenced():
    assert (DOCS / "report-top.png").is_file()
    assert any("report-top.png" in p.read_text(encoding="utf-8") for p in PAGES)
