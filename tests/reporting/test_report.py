"""The drift report: complete files, valid images, working links, comparisons, growth patterns."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.reporting.patterns import growth_pattern

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])


@pytest.fixture(scope="module")
def report_run(tmp_path_factory) -> Path:
    """One small report with a few sweep cases and a subset of cases/ (a broken and a correct port)."""
    root = tmp_path_factory.mktemp("reports")
    cases = tmp_path_factory.mktemp("cases-subset")
    for name in ("seed-000-lstm-sigmoid.json", "correct-simplernn.json"):
        text = (REPO / "cases" / name).read_text()
        data = json.loads(text)
        data["port"] = str(REPO / data["port"])  # the copy lives elsewhere; keep the port path valid
        data["examples"] = 3
        (cases / name).write_text(json.dumps(data))
    code = main(["report", "--examples", "3", "--seed", "5", "--max-timesteps", "16", "--cases", str(cases),
                 "--out", str(root), "--no-progress"])
    assert code == 0
    return root


@pytest.mark.keras
def test_run_directory_is_complete(report_run: Path):
    latest = report_run / "latest"
    assert latest.is_symlink()
    run = latest.resolve()
    for name in ("index.html", "summary.md", "records.csv", "records.parquet", "cases.csv", "ports.csv", "summary.csv",
                 "provenance.json", "img/sweep-heatmap.png"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    assert not list(report_run.glob(".*.partial")), "a finished run leaves no partial directory"
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["complete"] is True and prov["seed"] == 5
    assert {"keras", "backend", "tensorflow", "numpy", "hypothesis", "python"} <= set(prov["versions"])
    assert prov["git_commit"] and prov["time_utc"] and prov["machine"]["cpus"]


@pytest.mark.keras
def test_every_image_the_page_shows_is_a_valid_png(report_run: Path):
    import matplotlib.image as mpimg

    run = (report_run / "latest").resolve()
    parser = _Links()
    parser.feed((run / "index.html").read_text())
    assert len(parser.images) >= 2  # the heat map and at least the broken seed port's plot
    for src in parser.images:
        path = run / src
        assert path.read_bytes()[:8] == PNG_MAGIC, src
        pixels = mpimg.imread(path)
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert float(pixels[..., :3].std()) > 0.01, f"{src} is blank"
    for href in parser.links:
        if href.startswith("#"):  # an in-page link: its section exists
            assert href[1:] in parser.ids, f"link to no section {href}"
        else:
            assert (run / href).is_file(), f"broken link {href}"


@pytest.mark.keras
def test_page_and_tables_name_the_flags_and_replay(report_run: Path):
    run = (report_run / "latest").resolve()
    page = (run / "index.html").read_text()
    assert "seed-000-lstm-sigmoid" in page and "activation" in page and "--replay" in page
    ports = pd.read_csv(run / "ports.csv")
    assert set(ports["case"]) == {"seed-000-lstm-sigmoid", "correct-simplernn"}
    assert ports["agrees"].all()
    records = pd.read_csv(run / "records.csv")
    assert list(records.columns[:4]) == ["source", "case_id", "cell", "tensor"]
    assert set(records["source"]) >= {"sweep", "seed-000-lstm-sigmoid"}
    assert records.equals(pd.read_parquet(run / "records.parquet").astype(records.dtypes.to_dict())) or len(records) == len(
        pd.read_parquet(run / "records.parquet"))
    cases = pd.read_csv(run / "cases.csv")
    assert {"groups", "pattern", "replay", "layer.units", "timesteps"} <= set(cases.columns)
    md = (run / "summary.md").read_text()
    assert md.startswith("# rnn-parity drift report") and "| cell |" in md


@pytest.mark.keras
def test_runs_never_overwrite_and_compare(report_run: Path, capsys):
    first = (report_run / "latest").resolve()
    code = main(["report", "--examples", "2", "--seed", "6", "--max-timesteps", "8", "--no-cases", "--out", str(report_run),
                 "--no-progress"])
    assert code == 0
    second = (report_run / "latest").resolve()
    assert second != first and first.is_dir()
    capsys.readouterr()
    assert main(["report", "--compare", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("compare ") and "started drifting: 0" in out and "ports whose answer changed: 2" in out


def test_compare_rejects_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", "--compare", str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an rnn-parity report run" in err[0]


@pytest.mark.parametrize(
    "errors, expected",
    [
        ([1e-8] * 10, "within tolerance"),
        ([0.0] * 4 + [0.5] * 6, "onset at step 4"),
        ([0.05, 0.04, 0.06, 0.05, 0.05, 0.04, 0.05, 0.06], "constant offset"),
        ([1e-3 * 3**k for k in range(8)], "growing"),
        ([0.9 * 0.3**k for k in range(12)], "decaying"),
        ([0.5], "single step"),
    ],
    ids=["within", "onset", "constant", "growing", "decaying", "single"],
)
def test_growth_pattern(errors, expected):
    errors = np.array(errors)
    tolerance = np.full_like(errors, 1e-6)
    if expected == "decaying":
        tolerance = np.full_like(errors, 1e-9)
    assert growth_pattern(errors, tolerance) == expected


def test_reports_dir_holds_only_its_readme_in_git():
    ignore = (REPO / ".gitignore").read_text()
    assert re.search(r"^/reports/\*$", ignore, re.M) and "!/reports/README.md" in ignore
    assert (REPO / "reports" / "README.md").is_file()


#: Files that hold numbers, not timings or run ids: the same seed must give the same bytes.
DETERMINISTIC_FILES = ("records.csv", "records.parquet", "cases.csv", "summary.csv")


@pytest.mark.keras
def test_same_seed_gives_byte_identical_record_files(tmp_path, capsys):
    runs = []
    for name in ("a", "b"):
        argv = ["report", "--examples", "2", "--seed", "11", "--max-timesteps", "12", "--cells", "LSTM,GRU",
                "--no-cases", "--out", str(tmp_path / name), "--no-progress"]
        assert main(argv) == 0
        runs.append((tmp_path / name / "latest").resolve())
    capsys.readouterr()
    for file in DETERMINISTIC_FILES:
        assert (runs[0] / file).read_bytes() == (runs[1] / file).read_bytes(), file


def test_representative_example_of_a_port_case():
    """The example shown is the drifting one with the longest sequence returned per step."""
    import pandas as _pd

    from harness.reporting.examples import representative_example

    cases = _pd.DataFrame([
        {"source": "bi", "status": "drift", "case_id": "last-only", "timesteps": 20, "first_t": 19, "layer.return_sequences": False},
        {"source": "bi", "status": "drift", "case_id": "sequence", "timesteps": 8, "first_t": 0, "layer.return_sequences": True},
        {"source": "bi", "status": "pass", "case_id": "passing", "timesteps": 30, "first_t": None, "layer.return_sequences": True},
    ])
    assert representative_example(cases, "bi") == "sequence"
