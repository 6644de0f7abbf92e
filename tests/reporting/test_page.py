"""The report page from small hand-made tables (no Keras): navigation, no placeholders, coverage, ill-conditioning."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.reporting.conditioning import by_cause, likely_cause, per_kind
from harness.reporting.coverage import case_options, coverage_table, gaps, step_judgement
from harness.reporting.plots import TENSOR_COLOURS, case_plot, tensor_colour
from harness.reporting.render import write_index_html

PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9_])(nan|None|undefined|NaN|inf)(?![A-Za-z0-9_])")


def _case(case_id: str, cell: str, status: str, *, source: str = "sweep", amplification: float = 2.0, timesteps: int = 4,
          activation: str = "tanh", recurrent_activation: str | None = "sigmoid", gain: float = 1.0, **extra) -> dict:
    row = {"case_id": case_id, "cell": cell, "status": status, "worst_abs_err": 1e-7, "worst_rel_err": 1e-7,
           "worst_ratio": 0.01, "amplification": amplification, "first_tensor": None, "first_t": np.nan,
           "first_index": None, "first_err": np.nan, "first_tolerance": np.nan, "error": np.nan, "behaviour": np.nan,
           "source": source, "groups": "plain", "pattern": "within tolerance", "flags": "", "layer.kind": cell,
           "layer.activation": activation, "layer.recurrent_activation": recurrent_activation,
           "layer.use_bias": True, "layer.reset_after": True, "layer.return_sequences": True,
           "layer.return_state": False, "layer.go_backwards": False, "layer.stateful": False, "layer.unroll": False,
           "layer.recurrent_dropout": 0.0, "timesteps": timesteps, "mask": "none", "initial_state": False,
           "recurrent_gain": gain, "replay": f"rnn-parity replay --token {'A' * 300}", "layer.recipe": np.nan}
    row.update(extra)
    return row


def _records(case_id: str, cell: str, steps: int, *, source: str = "sweep", unjudged_from: int | None = None,
             bad_from: int | None = None) -> list[dict]:
    rows = []
    for tensor in ("output", "h"):
        for t in range(steps):
            judged = unjudged_from is None or t < unjudged_from
            err = 0.5 if bad_from is not None and t >= bad_from else 1e-8
            rows.append({"source": source, "case_id": case_id, "cell": cell, "tensor": tensor, "t": t,
                         "max_abs_err": err, "max_rel_err": err, "index": "0,0", "floor": 1e-8, "tolerance": 3.2e-7,
                         "judged": judged, "within": err <= 3.2e-7 or not judged})
    return rows


@pytest.fixture()
def tables():
    cases = pd.DataFrame([
        _case("LSTM-ok", "LSTM", "pass"),
        _case("GRU-drifts", "GRU", "drift", first_tensor="output", first_t=2, first_err=0.5, first_tolerance=3.2e-7,
              pattern="onset at step 2"),
        _case("GRU-overflows", "GRU", "ill-conditioned", amplification=np.inf, recurrent_activation="exponential", timesteps=6),
        _case("SimpleRNN-chaos", "SimpleRNN", "ill-conditioned", amplification=5e4, recurrent_activation=None, gain=3.0),
        _case("LSTM-crashed", "LSTM", "error", error="ValueError: shapes differ"),
        _case("broken-port/LSTM-x", "LSTM", "drift", source="broken-port", flags="bias", first_tensor="h", first_t=0,
              first_err=0.5, first_tolerance=3.2e-7),
    ])
    records = pd.DataFrame(_records("LSTM-ok", "LSTM", 4) + _records("GRU-drifts", "GRU", 4, bad_from=2)
                           + _records("GRU-overflows", "GRU", 6, unjudged_from=2)
                           + _records("SimpleRNN-chaos", "SimpleRNN", 4, unjudged_from=3)
                           + _records("broken-port/LSTM-x", "LSTM", 4, source="broken-port", bad_from=0))
    ports = pd.DataFrame([
        {"case": "broken-port", "layer": "LSTM", "description": "a port that adds the bias twice, which gives NaN later",
         "command": "rnn-parity check cases/broken-port.json", "expected_verdict": "mismatch", "expected_flags": "bias",
         "verdict": "mismatch", "flags": "bias", "answer": "MISMATCH ...", "seconds": 1.0, "agrees": True},
        {"case": "surprising-port", "layer": "GRU", "description": "should match", "command": "rnn-parity check x.json",
         "expected_verdict": "match", "expected_flags": np.nan, "verdict": "mismatch", "flags": "unexplained",
         "answer": "MISMATCH ...", "seconds": 1.0, "agrees": False},
        {"case": "no-expectation", "layer": "GRU", "description": np.nan, "command": "rnn-parity check y.json",
         "expected_verdict": np.nan, "expected_flags": np.nan, "verdict": "match", "flags": np.nan,
         "answer": "MATCH", "seconds": 0.5, "agrees": np.nan},
    ])
    return cases, records, ports


class _Page(HTMLParser):
    """Visible text (outside data-verbatim elements), ids, in-page links, open <details> ids."""

    def __init__(self) -> None:
        super().__init__()
        self.ids, self.links, self.open_details, self.closed_details = set(), [], [], []
        self.text: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag == "details":
            (self.open_details if "open" in attrs else self.closed_details).append(attrs.get("id"))
        verbatim = "data-verbatim" in attrs or (bool(self._stack) and self._stack[-1][1]) or tag in ("style", "script")
        if tag not in ("br", "img", "meta", "link"):
            self._stack.append((tag, verbatim))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not (self._stack and self._stack[-1][1]):
            self.text.append(data)


def _render(tmp_path: Path, cases, records, ports, images=None) -> tuple[str, _Page]:
    page = tmp_path / "index.html"
    write_index_html(page, run_id="run-1", provenance={"versions": {"keras": "3", "tensorflow": None}, "seed": 1},
                     cases=cases, ports=ports, heatmap=None, case_images=images or {}, complete=True,
                     files=["cases.csv"], records=records)
    text = page.read_text()
    parsed = _Page()
    parsed.feed(text)
    return text, parsed


def test_page_has_no_placeholder_for_a_missing_or_infinite_value(tmp_path, tables):
    _, page = _render(tmp_path, *tables)
    visible = " ".join(page.text)
    assert not PLACEHOLDER.findall(visible), PLACEHOLDER.findall(visible)
    assert "overflow" in visible and "no expected answer" in visible


def test_navigation_summary_contents_and_links(tmp_path, tables):
    text, page = _render(tmp_path, *tables)
    for section in ("summary", "contents", "problems", "ports", "sweep", "ill-conditioning", "coverage", "files"):
        assert section in page.ids, section
    assert all(link in page.ids for link in page.links), [l for l in page.links if l not in page.ids]
    # problems first: the port whose answer was not the expected one is open and comes before the others
    assert "port-surprising-port" in page.open_details
    assert "port-broken-port" in page.closed_details and "port-no-expectation" in page.closed_details
    assert text.index('id="port-surprising-port"') < text.index('id="port-broken-port"')
    summary = text[text.index('id="summary"'):text.index('id="contents"')]
    assert "1 drifted sweep case" in summary and "GRU-drifts" in summary and "surprising-port" in summary
    assert "could not run" in summary and "#case-GRU-drifts" in summary
    # the drifted case and the failed one have open sections; each table row links to its section
    assert "case-GRU-drifts" in page.open_details and "case-LSTM-crashed" in page.open_details
    assert {"port-broken-port", "port-surprising-port", "case-GRU-drifts", "kind-GRU"} <= set(page.links)


def test_long_tokens_sit_in_wrapping_boxes(tmp_path, tables):
    text, _ = _render(tmp_path, *tables)
    assert re.search(r"pre\{[^}]*overflow-wrap:anywhere", text) and re.search(r"pre\{[^}]*overflow:auto", text)
    assert '<pre class="cmd">rnn-parity replay --token AAAA' in text


def test_ill_conditioning_per_kind_and_by_cause(tables):
    cases, records, _ = tables
    from harness.reporting.coverage import with_steps

    sweep = with_steps(cases[cases["source"] == "sweep"], records)
    kinds = per_kind(sweep).set_index("cell")
    assert kinds.loc["GRU", "overflowed"] == 1 and kinds.loc["GRU", "ill"] == 1
    assert kinds.loc["GRU", "steps"] == 10 and kinds.loc["GRU", "judged_steps"] == 6  # 4 + 2 of 6
    assert kinds.loc["GRU", "worst_finite_amplification"] == 2.0  # the overflowed case has no finite value
    causes = by_cause(sweep).set_index("cause")
    assert causes.loc["recurrent_activation", "case_ids"] == ["GRU-overflows"]
    assert causes.loc["gain", "case_ids"] == ["SimpleRNN-chaos"]
    assert likely_cause(pd.Series({"layer.activation": "tanh", "timesteps": 50})) == ("long", "T = 50")
    composite = pd.Series({"layer.recipe": '{"composite": "StackedRNN", "cell_kwargs": [{"activation": "relu"}]}'})
    assert likely_cause(composite) == ("activation", "relu")


def test_coverage_counts_values_and_names_gaps(tables):
    cases, records, _ = tables
    table = coverage_table(cases, records)
    row = table[(table["option"] == "layer kind") & (table["value"] == "GRU")].iloc[0]
    assert row["sweep_cases"] == 2 and row["port_cases"] == 0 and row["judged_share"] == pytest.approx(6 / 10)
    missing = table[(table["option"] == "layer kind") & (table["value"] == "Bidirectional")].iloc[0]
    assert missing["sweep_cases"] == 0 and missing["port_cases"] == 0 and np.isnan(missing["judged_share"])
    said = gaps(table)
    assert any(s.startswith("layer kind: no case with Bidirectional") for s in said)
    assert any(s.startswith("go_backwards: no case with true") for s in said)
    judged = step_judgement(records)
    assert judged.loc["GRU-overflows", "steps"] == 6 and judged.loc["GRU-overflows", "judged_steps"] == 2
    composite = pd.Series({"cell": "Bidirectional", "mask": "mixed", "timesteps": 12, "layer.recipe":
                        '{"composite": "Bidirectional", "inner_kwargs": {"return_sequences": true, "activation": "tanh"}, '
                        '"merge_mode": null}'})
    options = case_options(composite)
    assert options["return_sequences"] == "true" and options["timesteps"] == "9-32"
    assert options["merge_mode (Bidirectional)"].startswith("none")


def test_one_colour_per_tensor_name_and_a_readable_plot(tmp_path, tables):
    assert tensor_colour("output") == TENSOR_COLOURS["output"] and tensor_colour("h") != tensor_colour("c")
    assert tensor_colour("weird_tensor") == tensor_colour("weird_tensor")  # stable for names not listed
    assert len(set(TENSOR_COLOURS.values())) == len(TENSOR_COLOURS)
    import matplotlib.image as mpimg

    _, records, _ = tables
    path = case_plot(records[records["case_id"] == "GRU-overflows"], tmp_path / "p.png", title="GRU-overflows")
    pixels = mpimg.imread(path)
    assert pixels.shape[1] >= 1000 and pixels.shape[0] >= 350  # large enough to read at the page's width
