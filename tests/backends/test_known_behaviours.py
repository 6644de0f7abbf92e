"""Each named behaviour is real on the installed version of its target: on a case built to show it,
Keras differs from the plain reference and the behaviour (and only it) explains the difference.
The same case on TensorFlow passes, so the label is never a cover for a harness bug."""

from __future__ import annotations

import pytest

from harness.target.behaviours import BEHAVIOURS

from .conftest import need, run_json

pytestmark = pytest.mark.backends


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_behaviour_is_real_on_its_target(name):
    behaviour = BEHAVIOURS[name]
    for target in behaviour.targets:
        need(target)
        got = run_json("-m", "tests.backends.probe", name, target)
        expected = "unsupported" if behaviour.error_match else "explained"
        assert got["status"] == expected and got["behaviour"] == name, got
        if expected == "explained":
            assert got["worst_ratio"] > 10, got  # a real difference, far outside the tolerance


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_same_case_passes_on_tensorflow(name):
    if "tensorflow" in BEHAVIOURS[name].targets:
        pytest.skip(f"{name} is Keras's own on every backend, TensorFlow included")
    got = run_json("-m", "tests.backends.probe", name, "tensorflow")
    assert got["status"] in ("pass", "ill-conditioned"), got


def test_keras2_hard_sigmoid_values():
    """The formula itself, from tf_keras (Keras 2) and Keras 3, each in its own process."""
    need("keras2")
    code = ("import json,sys; from harness.target.targets import use_target; use_target(sys.argv[1]); "
            "from harness.target.keras_env import import_keras; k=import_keras(); "
            "print(json.dumps([float(v) for v in k.activations.hard_sigmoid(k.backend.constant([-2.0,-1.0,1.0,2.0]) "
            "if hasattr(k.backend,'constant') else [-2.0,-1.0,1.0,2.0])]))")
    k2 = run_json("-c", code, "keras2")
    k3 = run_json("-c", code.replace("k.backend.constant([-2.0,-1.0,1.0,2.0]) if hasattr(k.backend,'constant') else ", ""),
                  "tensorflow")
    assert k2 == pytest.approx([0.1, 0.3, 0.7, 0.9], abs=1e-6)  # clip(0.2x + 0.5)
    assert k3 == pytest.approx([1 / 6, 1 / 3, 2 / 3, 5 / 6], abs=1e-6)  # clip(x/6 + 0.5)


def test_keras3_only_activations_are_exactly_those_tf_keras_lacks():
    need("keras2")
    code = ("import json; from harness.target.targets import use_target; use_target('keras2'); "
            "from harness.target.keras_env import import_keras; k = import_keras(); "
            "from reference_cells.activations import names, KERAS2_HARD_SIGMOID\n"
            "def ok(n):\n    try:\n        k.activations.get(n); return True\n    except Exception:\n        return False\n"
            "print(json.dumps(sorted(n for n in names() if n != KERAS2_HARD_SIGMOID and not ok(n))))")
    from harness.target.behaviours import KERAS3_ONLY_ACTIVATIONS

    assert run_json("-c", code) == sorted(KERAS3_ONLY_ACTIVATIONS)
