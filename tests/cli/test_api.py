"""The library surface port authors use: assert_port_matches and the pytest plugin."""

from __future__ import annotations

import numpy as np
import pytest

from harness import assert_port_matches
from harness.api import check_port
from reference_cells import Conventions, run_sequence

pytest_plugins = ["pytester"]

FIXED = dict(units=4, features=2, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True,
             return_sequences=True, return_state=False, go_backwards=False, stateful=False, unroll=False,
             zero_output_for_mask=False, dropout=0.0, recurrent_dropout=0.0)


def _gru(conventions: Conventions):
    def port(x, weights, config):
        return run_sequence("GRU", x, weights, config, conventions=conventions, dtype=np.float32).layer_return()

    return port


@pytest.mark.keras
def test_assert_port_matches_accepts_a_correct_port(keras_runner):
    report = assert_port_matches(_gru(Conventions()), layer="GRU", examples=3, runner=keras_runner, **FIXED)
    assert report.verdict == "match"


@pytest.mark.keras
def test_assert_port_matches_fails_with_the_cli_answer(keras_runner):
    with pytest.raises(AssertionError) as failure:
        assert_port_matches(_gru(Conventions(gru_update="swapped")), layer="GRU", examples=3, runner=keras_runner, **FIXED)
    message = str(failure.value)
    assert "MISMATCH" in message and "gru-update-convention" in message and "--replay" in message


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="not_an_option"):
        check_port(_gru(Conventions()), layer="GRU", examples=1, not_an_option=1)


@pytest.mark.keras
def test_pytest_plugin_fixture(pytester):
    pytester.makepyfile(
        """
        import numpy as np
        from reference_cells import Conventions, run_sequence

        def swapped(x, weights, config):
            return run_sequence("GRU", x, weights, config, conventions=Conventions(gru_update="swapped"),
                                dtype=np.float32).layer_return()

        def test_broken(rnn_parity):
            rnn_parity.assert_matches(swapped, layer="GRU", examples=2, units=3, features=2, go_backwards=False,
                                      return_state=False, stateful=False)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cause [[]gru-update-convention[]]*"])
