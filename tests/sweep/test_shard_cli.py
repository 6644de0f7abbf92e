"""``sweep --shard K/N`` + ``merge`` give the unsharded sweep's records, byte for byte; ``report --merge``."""

from __future__ import annotations

import json

from harness import cli

SWEEP = ["sweep", "--cells", "LSTM,SimpleRNN", "--examples", "3", "--per-config", "2", "--seed", "5",
         "--max-timesteps", "6", "--no-progress"]


def test_shards_merge_into_the_unsharded_sweep_and_a_report(tmp_path, capsys):
    assert cli.main(SWEEP + ["--out", str(tmp_path / "all")]) == cli.EXIT_OK
    for k in (1, 2):
        assert cli.main(SWEEP + ["--shard", f"{k}/2", "--out", str(tmp_path / f"s{k}")]) == cli.EXIT_OK
    assert json.loads((tmp_path / "s2" / "provenance.json").read_text())["options"]["shard"] == [2, 2]
    assert cli.main(["merge", str(tmp_path / "s2"), str(tmp_path / "s1"), "--out", str(tmp_path / "merged")]) == cli.EXIT_OK
    for name in ("records.csv", "cases.csv", "summary.csv"):
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "all" / name).read_bytes(), name

    code = cli.main(["report", "--merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--no-cases", "--no-progress",
                     "--out", str(tmp_path / "reports")])
    assert code == cli.EXIT_OK
    cases = (tmp_path / "reports" / "latest" / "cases.csv").read_text()
    assert cases.count("rnn-parity replay") == 6


def test_merge_with_a_missing_shard_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(SWEEP + ["--shard", "1/2", "--out", str(tmp_path / "s1")]) == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main(["merge", str(tmp_path / "s1"), "--out", str(tmp_path / "m")]) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "2/2 missing" in err
    assert not (tmp_path / "m").exists()


def test_ctrl_c_keeps_the_finished_cases_streamed_and_marks_the_output_incomplete(tmp_path, monkeypatch, capsys):
    import harness.sweep.run as sweep

    real, calls = sweep.check_case, []

    def interrupted_on_the_fourth(spec, runner, **options):
        calls.append(spec)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(spec, runner, **options)

    monkeypatch.setattr(sweep, "check_case", interrupted_on_the_fourth)
    assert cli.main(SWEEP + ["--out", str(tmp_path)]) == 130
    cases = (tmp_path / "cases.csv").read_text().splitlines()
    assert len(cases) == 1 + 3  # header + the three finished cases (a group cut in the middle included)
    records = (tmp_path / "records.csv").read_text().splitlines()
    assert {line.split(",")[0] for line in records[1:]} == {line.split(",")[0] for line in cases[1:]}
    assert json.loads((tmp_path / "provenance.json").read_text())["complete"] is False
    assert not list(tmp_path.glob(".records.csv.*"))  # no temporary file left behind
