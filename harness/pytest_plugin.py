"""pytest plugin (registered through the ``pytest11`` entry point as ``rnn_parity``).

Provides the ``rnn_parity`` fixture::

    def test_my_port(rnn_parity):
        rnn_parity.assert_matches(my_gru, layer="GRU", reset_after=True)

Importing this module imports only pytest and :mod:`harness` (whose facade is
lazy): Keras and the check load when the fixture is first used.
"""

from __future__ import annotations

from typing import Any

import pytest


class RnnParity:
    """Session helper: one Keras runner shared by every test that uses the fixture."""

    def __init__(self) -> None:
        self._runner = None

    @property
    def runner(self):
        if self._runner is None:
            from harness.target.runner import KerasRunner

            self._runner = KerasRunner()
        return self._runner

    def check(self, port: Any, *, layer: str, **kwargs: Any):
        from harness.api import check_port

        return check_port(port, layer=layer, runner=self.runner, **kwargs)

    def assert_matches(self, port: Any, *, layer: str, **kwargs: Any):
        from harness.check.output import render

        report = self.check(port, layer=layer, **kwargs)
        if report.verdict != "match":
            pytest.fail("\n" + render(report), pytrace=False)
        return report


@pytest.fixture(scope="session")
def rnn_parity() -> RnnParity:
    return RnnParity()
