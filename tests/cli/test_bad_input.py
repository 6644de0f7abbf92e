"""Bad input, every command: one line naming the argument, exit 2, no traceback, nothing written.

Each row is (id, argv, fragment): ``fragment`` must appear in the one error line, so the
message names what to fix. ``{tmp}`` in argv is replaced by a scratch directory holding the
malformed files made by :func:`_files`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import cli

PORT = "cases/ports/correct_lstm.py:lstm"
SIMPLE = "cases/ports/correct_simple_rnn.py:simple_rnn"
ROOT = Path(__file__).resolve().parents[2]


def _files(tmp: Path) -> None:
    (tmp / "not_callable.py").write_text("lstm = 3\n")
    (tmp / "syntax_error.py").write_text("def lstm(x:\n")
    (tmp / "import_error.py").write_text("import module_that_is_not_there\n")
    (tmp / "config_not_json.json").write_text("units: 3\n")
    (tmp / "config_list.json").write_text("[1, 2]\n")
    (tmp / "config_unknown_key.json").write_text(json.dumps({"units": 4, "colour": "red"}))
    (tmp / "case_not_json.json").write_text("{name: x")
    case = {"name": "x", "port": f"{ROOT / 'cases/ports/correct_lstm.py'}:lstm", "layer": "LSTM", "expected": {"verdict": "match", "flags": []}}
    (tmp / "case_unknown_key.json").write_text(json.dumps({**case, "colour": "red"}))
    (tmp / "case_no_port.json").write_text(json.dumps({k: v for k, v in case.items() if k != "port"}))
    (tmp / "case_bad_layer.json").write_text(json.dumps({**case, "layer": "Transformer"}))
    (tmp / "case_bad_set.json").write_text(json.dumps({**case, "set": {"units": 0}}))
    (tmp / "case_bad_precision.json").write_text(json.dumps({**case, "precision": "half-ish"}))
    (tmp / "text.keras").write_text("not a model\n")
    (tmp / "garbage.h5").write_bytes(b"\x00\x01garbage" * 100)
    (tmp / "dir.keras").mkdir()
    (tmp / "inputs.txt").write_text("1 2 3\n")


BAD = [
    # --- check: the port
    ("port-missing-file", ["check", "nope.py:f", "--layer", "LSTM"], "nope.py"),
    ("port-missing-name", ["check", "cases/ports/correct_lstm.py:nothere", "--layer", "LSTM"], "nothere"),
    ("port-no-name", ["check", "cases/ports/correct_lstm.py", "--layer", "LSTM"], "file.py:name"),
    ("port-not-callable", ["check", "{tmp}/not_callable.py:lstm", "--layer", "LSTM"], "lstm"),
    ("port-syntax-error", ["check", "{tmp}/syntax_error.py:lstm", "--layer", "LSTM"], "syntax_error.py"),
    ("port-import-error", ["check", "{tmp}/import_error.py:lstm", "--layer", "LSTM"], "module_that_is_not_there"),
    ("port-missing-module", ["check", "no_such_package.mod:f", "--layer", "LSTM"], "no_such_package"),
    ("layer-missing", ["check", PORT], "--layer"),
    ("layer-unknown", ["check", PORT, "--layer", "Transformer"], "--layer"),
    ("no-port-no-export", ["check", "--layer", "LSTM"], "--export"),
    ("port-and-export", ["check", PORT, "--layer", "LSTM", "--export", "onnx"], "not both"),
    ("export-unknown", ["check", "--export", "coreml", "--layer", "LSTM"], "coreml"),
    ("export-activation-without-export", ["check", PORT, "--layer", "LSTM", "--export-activation", "hard_sigmoid=clip"],
     "needs --export"),
    ("export-activation-unknown", ["check", "--export", "onnx", "--layer", "LSTM", "--export-activation", "sigmoid=fast"],
     "hard_sigmoid=clip"),
    ("export-activation-composite", ["check", "--export", "onnx", "--layer", "Bidirectional", "--export-activation",
                                     "hard_sigmoid=clip"], "SimpleRNN/LSTM/GRU"),
    # --- check: options out of range, unknown, contradictory
    ("units-zero", ["check", PORT, "--layer", "LSTM", "--units", "0"], "--units"),
    ("features-zero", ["check", PORT, "--layer", "LSTM", "--features", "0"], "--features"),
    ("examples-zero", ["check", PORT, "--layer", "LSTM", "--examples", "0"], "--examples"),
    ("timeout-negative", ["check", PORT, "--layer", "LSTM", "--timeout", "-1"], "--timeout"),
    ("timesteps-negative", ["check", PORT, "--layer", "LSTM", "--set", "timesteps=-3"], "timesteps"),
    ("batch-zero", ["check", PORT, "--layer", "LSTM", "--set", "batch=0"], "batch"),
    ("units-not-a-number", ["check", PORT, "--layer", "LSTM", "--set", "units=abc"], "units"),
    ("dropout-out-of-range", ["check", PORT, "--layer", "LSTM", "--set", "dropout=1.5"], "dropout"),
    ("option-unknown", ["check", PORT, "--layer", "LSTM", "--set", "colour=red"], "colour"),
    ("option-no-equals", ["check", PORT, "--layer", "LSTM", "--set", "units"], "units"),
    ("activation-unknown", ["check", PORT, "--layer", "LSTM", "--set", "activation=nope"], "nope"),
    ("mask-unknown", ["check", PORT, "--layer", "LSTM", "--set", "mask=sometimes"], "mask"),
    ("reset-after-not-gru", ["check", PORT, "--layer", "LSTM", "--set", "reset_after=false"], "reset_after"),
    ("recurrent-activation-simplernn", ["check", SIMPLE, "--layer", "SimpleRNN", "--set", "recurrent_activation=sigmoid"],
     "recurrent_activation"),
    ("chunks-not-stateful", ["check", PORT, "--layer", "LSTM", "--set", "chunks=3"], "chunks"),
    ("chunks-over-timesteps", ["check", PORT, "--layer", "LSTM", "--set", "stateful=true", "--set", "timesteps=2",
                               "--set", "chunks=5"], "chunks"),
    ("precision-unknown", ["check", PORT, "--layer", "LSTM", "--precision", "float8"], "--precision: 'float8' is not one of float32, float16, bfloat16, fixed<W,I>"),
    ("precision-fixed-bad", ["check", PORT, "--layer", "LSTM", "--precision", "fixed<3,9>"], "--precision: 'fixed<3,9>' is not a valid fixed<W,I>"),
    ("precision-conv-lstm", ["check", PORT, "--layer", "ConvLSTM2D", "--precision", "float16"], "float32 only"),
    ("case-bad-precision", ["check", "{tmp}/case_bad_precision.json"], "precision: 'half-ish'"),
    # --- check: --config and case files
    ("config-missing", ["check", PORT, "--layer", "LSTM", "--config", "{tmp}/nothere.json"], "--config"),
    ("config-not-json", ["check", PORT, "--layer", "LSTM", "--config", "{tmp}/config_not_json.json"], "--config"),
    ("config-not-object", ["check", PORT, "--layer", "LSTM", "--config", "{tmp}/config_list.json"], "--config"),
    ("config-unknown-key", ["check", PORT, "--layer", "LSTM", "--config", "{tmp}/config_unknown_key.json"], "colour"),
    ("case-missing", ["check", "{tmp}/nothere.json"], "nothere.json"),
    ("case-not-json", ["check", "{tmp}/case_not_json.json"], "case_not_json.json"),
    ("case-unknown-key", ["check", "{tmp}/case_unknown_key.json"], "colour"),
    ("case-no-port", ["check", "{tmp}/case_no_port.json"], "port"),
    ("case-bad-layer", ["check", "{tmp}/case_bad_layer.json"], "Transformer"),
    ("case-bad-set", ["check", "{tmp}/case_bad_set.json"], "units"),
    # --- check-model
    ("model-missing", ["check-model", "{tmp}/nothere.keras"], "nothere.keras"),
    ("model-precision-unknown", ["check-model", "{tmp}/text.keras", "--precision", "float8"], "--precision"),
    ("model-precision-no-port", ["check-model", "{tmp}/text.keras", "--precision", "float16"], "--precision applies"),
    ("model-not-a-model", ["check-model", "/etc/hostname"], "MODEL"),
    ("model-text-as-keras", ["check-model", "{tmp}/text.keras"], "text.keras"),
    ("model-garbage-h5", ["check-model", "{tmp}/garbage.h5"], "garbage.h5"),
    ("model-directory", ["check-model", "{tmp}/dir.keras"], "dir.keras"),
    # --- sweep, report, replay
    ("sweep-unknown-cell", ["sweep", "--cells", "Foo", "--examples", "1"], "Foo"),
    ("sweep-negative-examples", ["sweep", "--examples", "-1"], "--examples"),
    ("sweep-zero-timesteps", ["sweep", "--max-timesteps", "0"], "--max-timesteps"),
    ("sweep-min-over-max", ["sweep", "--min-timesteps", "90", "--max-timesteps", "10"], "--min-timesteps"),
    ("sweep-negative-gain", ["sweep", "--recurrent-gains", "1,-3"], "--recurrent-gains"),
    ("sweep-scales-not-numbers", ["sweep", "--input-scales", "big"], "--input-scales"),
    ("sweep-zero-workers", ["sweep", "--workers", "0"], "--workers"),
    ("sweep-zero-per-config", ["sweep", "--per-config", "0"], "--per-config"),
    ("sweep-shard-out-of-range", ["sweep", "--shard", "3/2"], "--shard"),
    ("merge-not-sweeps", ["merge", "{tmp}/a", "{tmp}/b", "--out", "{tmp}/merged"], "a"),
    ("report-negative-examples", ["report", "--examples", "-1", "--out", "{tmp}/reports"], "--examples"),
    ("report-cases-missing", ["report", "--examples", "1", "--cases", "{tmp}/nodir", "--out", "{tmp}/reports"], "nodir"),
    ("report-compare-not-runs", ["report", "--compare", "{tmp}/a", "{tmp}/b"], "a"),
    ("report-nothing", ["report", "--examples", "0", "--no-cases", "--no-core-grid", "--out", "{tmp}/reports"],
     "nothing to report"),
    ("report-export-unknown", ["report", "--examples", "1", "--exports", "coreml", "--out", "{tmp}/reports"], "coreml"),
    ("report-export-examples-zero", ["report", "--examples", "1", "--exports", "onnx", "--export-examples", "0",
                                     "--out", "{tmp}/reports"], "--export-examples"),
    ("replay-bad-token", ["replay", "not-a-token"], "token"),
]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch) -> Path:
    _files(tmp_path)
    monkeypatch.chdir(ROOT)  # the PORT paths above are relative to the repository
    return tmp_path


@pytest.mark.parametrize("argv, fragment", [pytest.param(a, f, id=i) for i, a, f in BAD])
def test_bad_input_is_one_line_naming_the_argument(scratch: Path, capsys, argv: list[str], fragment: str):
    argv = [a.replace("{tmp}", str(scratch)) for a in argv]
    before = sorted(p.relative_to(scratch) for p in scratch.rglob("*"))
    with_json = argv + ["--json", str(scratch / "answer.json")] if argv[0] in ("check", "check-model") else argv
    try:
        code = cli.main([*with_json, "--no-progress"] if argv[0] in ("sweep", "report") else with_json)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == cli.EXIT_ERROR, captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "error" in lines[0] and fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    after = sorted(p.relative_to(scratch) for p in scratch.rglob("*"))
    assert after == before, f"bad input left files behind: {set(after) - set(before)}"


def test_debug_shows_the_traceback(scratch: Path):
    with pytest.raises(Exception):
        cli.main(["--debug", "check", PORT, "--layer", "LSTM", "--set", "timesteps=-3"])
