"""Targets (--target/--backend), the named-behaviour registry and the cross-target matrix,
without the optional extras: what runs in the default CI on TensorFlow alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from harness.target import behaviours as known_behaviours, targets
from harness.layers.case import CaseSpec
from harness.cli import main
from harness.oracle.compare import compare, summarize
from harness.target.behaviours import BEHAVIOURS, explain_drift, explain_error
from tests.helpers import case_floor, reference_outputs
from harness.reporting.matrix import matrix_frame, matrix_html, run_targets, write_matrix
from harness.layers.cell import CellSpec
from reference_cells import Conventions


def _missing(name: str, monkeypatch) -> None:
    real = targets.importlib.util.find_spec
    monkeypatch.setattr(targets.importlib.util, "find_spec",
                        lambda mod, *a: None if mod == targets.get(name).module else real(mod, *a))


@pytest.mark.parametrize("command", [["sweep", "--examples", "1"], ["check", "cases/correct-lstm.json"],
                                     ["check-model", "nothing.keras"], ["report", "--no-cases"], ["replay", "x"]])
@pytest.mark.parametrize("name", ["jax", "torch", "keras2"])
def test_missing_backend_is_one_line_naming_the_extra(name, command, monkeypatch, capsys):
    _missing(name, monkeypatch)
    assert main([*command, "--target", name]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"pip install -e '.[{name}]'" in err and f"--target {name}" in err


def test_backend_is_an_alias_of_target(monkeypatch, capsys):
    _missing("jax", monkeypatch)
    assert main(["sweep", "--backend", "jax", "--examples", "1"]) == 2
    assert "'.[jax]'" in capsys.readouterr().err


def test_unknown_target_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--target", "cntk"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--target" in err and "keras2" in err and len(err.strip().splitlines()) == 1


def test_switching_backend_after_keras_import_is_refused(monkeypatch):
    import keras  # noqa: F401 - the default test process runs Keras 3 on TensorFlow

    monkeypatch.setattr(targets, "installed", lambda name: True)
    with pytest.raises(targets.TargetError, match="already imported with the tensorflow backend"):
        targets.use_target("jax")


def test_active_target_defaults_to_tensorflow_and_follows_keras_backend(monkeypatch):
    monkeypatch.delenv(targets.ENV_VAR, raising=False)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert targets.active().name == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert targets.active().name == "torch"
    monkeypatch.setenv(targets.ENV_VAR, "keras2")
    assert targets.active().name == "keras2" and targets.active().keras_backend == "tensorflow"


def test_pyproject_extras_match_the_targets():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for target in targets.TARGETS.values():
        if target.extra:
            assert target.extra in extras
    assert extras["torch"] == ["torch==2.13.0"]  # the CPU wheel on disk; anything else pulls a CUDA build


# ------------------------------------------------------------------ registry
def test_registry_entries_are_complete():
    for name, b in BEHAVIOURS.items():
        assert b.name == name and b.summary and b.source
        assert set(b.targets) <= set(targets.NAMES)
        # TensorFlow is the origin: it can only carry a crash of Keras's own, never a numeric difference.
        assert "tensorflow" not in b.targets or b.error_match, name
        assert b.error_match or b.spec_change or b.renames or not b.conventions.is_keras(), name
        assert b.error_match or b.applies is not None, name  # a numeric behaviour must say when it shows


def test_known_error_becomes_unsupported_only_on_its_target():
    from harness.oracle.compare import error_result

    err = error_result("c", "SimpleRNN", "ValueError: Unknown activation function 'celu' cannot be deserialized.")
    assert explain_error(err, "keras2").status == "unsupported"
    assert explain_error(err, "keras2").behaviour == "keras2-missing-activation"
    assert explain_error(err, "tensorflow").status == "error"
    other = error_result("c", "SimpleRNN", "ValueError: something else")
    assert explain_error(other, "keras2").status == "error"


def _jax_rule_case() -> CaseSpec:
    """A GRU case with a random h0 and a row whose first step is masked (where the JAX rule shows)."""
    layer = CellSpec(kind="GRU", units=3, features=2, return_sequences=True)
    for seed in range(100):
        spec = CaseSpec(layer=layer, batch=3, timesteps=6, mask="mixed", initial_state=True, seed=seed)
        if not spec.build().mask[:, 0].all():
            return spec
    raise AssertionError("no seed with a masked first step")


def _judge(data, actual):
    expected = reference_outputs(data)
    noise = case_floor(data)
    return summarize("c", data.spec.layer.kind, compare("c", data.spec.layer.kind, actual, expected, noise), noise)


def _as_keras(named):
    return {k: dataclasses.replace(v, values=v.values.astype(np.float32)) for k, v in named.items()}


def test_explain_drift_names_the_behaviour_that_reproduces_keras():
    data = _jax_rule_case().build()
    jax_like = _as_keras(reference_outputs(data, conventions=Conventions(mask="state")))
    plain = _judge(data, jax_like)
    assert plain.status == "drift"  # the behaviour is visible on this case
    explained = explain_drift(plain, data, None, jax_like, "jax")
    assert explained.status == "explained" and explained.behaviour == "jax-masked-output-is-state"
    assert explained.worst_ratio == plain.worst_ratio  # the size of the known difference is kept
    assert explain_drift(plain, data, None, jax_like, "tensorflow").status == "drift"  # not a TF behaviour
    assert explain_drift(plain, data, None, jax_like, "torch").status == "drift"


def test_explain_drift_does_not_label_a_different_bug():
    data = _jax_rule_case().build()
    wrong = _as_keras(reference_outputs(data, conventions=Conventions(mask="state", gru_update="swapped")))
    plain = _judge(data, wrong)
    assert plain.status == "drift"
    assert explain_drift(plain, data, None, wrong, "jax").status == "drift"


def test_keras2_hard_sigmoid_is_explained_only_when_the_case_uses_it():
    layer = CellSpec(kind="LSTM", units=4, features=3, recurrent_activation="hard_sigmoid", return_sequences=True)
    data = CaseSpec(layer=layer, batch=2, timesteps=10, input_scale=3.0, seed=4).build()
    assert known_behaviours.BEHAVIOURS["keras2-hard-sigmoid"].renames == {"hard_sigmoid": "hard_sigmoid_keras2"}
    keras2 = dataclasses.replace(data.spec, layer=layer.replace(recurrent_activation="hard_sigmoid_keras2"))
    tf_keras_like = _as_keras(reference_outputs(dataclasses.replace(data, spec=keras2)))
    plain = _judge(data, tf_keras_like)
    assert plain.status == "drift" and plain.first_t == 0  # the change starts at the first step
    assert explain_drift(plain, data, None, tf_keras_like, "keras2").behaviour == "keras2-hard-sigmoid"


# -------------------------------------------------------------------- matrix
def _cases() -> pd.DataFrame:
    rows = [
        ("tensorflow", "GRU", "pass", None, 0.05, 1e-7, "masked,initial-state"),
        ("jax", "GRU", "explained", "jax-masked-output-is-state", 2e4, 0.9, "masked,initial-state"),
        ("jax", "GRU", "drift", None, 50.0, 1e-3, "plain"),
        ("keras2", "GRU", "unsupported", "keras2-missing-activation", float("nan"), float("nan"), "plain"),
    ]
    return pd.DataFrame(rows, columns=["target", "cell", "status", "behaviour", "worst_ratio", "worst_abs_err", "groups"])


def test_matrix_counts_each_group_and_names_behaviours():
    frame = matrix_frame(_cases())
    masked = frame[(frame.group == "masked") & (frame.target == "jax")].iloc[0]
    assert masked.explained == 1 and masked.worst_ratio == 2e4 and masked.behaviours == "jax-masked-output-is-state"
    assert set(frame[frame.target == "jax"].group) == {"masked", "initial-state", "plain"}
    plain_k2 = frame[(frame.group == "plain") & (frame.target == "keras2")].iloc[0]
    assert plain_k2.unsupported == 1 and np.isnan(plain_k2.worst_ratio)


def test_matrix_html_marks_known_and_unexplained_differently():
    text = matrix_html(matrix_frame(_cases()), skipped={"torch": "not installed"})
    assert "class='known'" in text and "class='bad'" in text and "class='ok'" in text
    assert "jax-masked-output-is-state" in text and "torch: not installed" in text


def test_missing_targets_are_skipped_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setattr(targets, "installed", lambda name: False)
    run = run_targets(["jax", "keras2"], out=tmp_path, cells=["GRU"], examples=1, seed=0, max_timesteps=4, echo=False)
    assert run.cases.empty and "'.[jax]'" in run.skipped["jax"] and "'.[keras2]'" in run.skipped["keras2"]
    paths = write_matrix(run, tmp_path)
    assert all(p.is_file() for p in paths)


@pytest.mark.keras
def test_matrix_runs_the_default_target_in_a_subprocess(tmp_path, monkeypatch):
    """One real subprocess sweep (tensorflow only): the cases come back tagged with the target."""
    run = run_targets(["tensorflow"], out=tmp_path, cells=["SimpleRNN"], examples=2, seed=3, max_timesteps=6, echo=False)
    assert not run.skipped and set(run.cases.target) == {"tensorflow"} and len(run.cases) == 2
    frame = matrix_frame(run.cases)
    assert (frame.drift == 0).all() and (frame.worst_ratio <= 1).all()


def test_jax_spatial_mask_convention_masks_along_width():
    """The reference side of jax-convlstm-mask-broadcast: with batch == width, position w of every
    sample follows sample w's mask; without a mask it is the Keras rule."""
    from reference_cells.conv_lstm import run_conv_lstm

    rng = np.random.default_rng(0)
    b = w = 3
    x = rng.standard_normal((b, 4, w, 2))
    weights = [rng.normal(0, 0.5, (1, 2, 8)), rng.normal(0, 0.5, (1, 2, 8)), rng.normal(0, 0.5, (8,))]
    config = {"filters": 2, "kernel_size": 1, "padding": "same", "return_sequences": True}
    mask = np.ones((b, 4), bool)
    mask[0, 2] = False  # sample 0 masked at t=2
    keras = run_conv_lstm(1, x, weights, config, mask=mask).outputs
    jax = run_conv_lstm(1, x, weights, config, mask=mask, conventions=Conventions(mask="jax-spatial")).outputs
    # Keras rule: sample 0 carries its whole output at t=2; JAX: width position 0 of *every* sample does.
    assert np.allclose(keras[0, 2], keras[0, 1]) and not np.allclose(keras[1, 2, 0], keras[1, 1, 0])
    assert np.allclose(jax[1, 2, 0], jax[1, 1, 0]) and np.allclose(jax[1:, 2, 1:], keras[1:, 2, 1:])
    assert not np.allclose(jax[0, 2, 1:], jax[0, 1, 1:])  # sample 0's other positions are not masked
    unmasked = run_conv_lstm(1, x, weights, config, conventions=Conventions(mask="jax-spatial")).outputs
    assert np.array_equal(unmasked, run_conv_lstm(1, x, weights, config).outputs)
