"""pytest plugin (registered through the ``pytest11`` entry point as ``rnn_parity``).

Provides the ``rnn_parity`` fixture::

    def test_my_port(rnn_parity):
        rnn_parity.assert_matches(my_gru, layer="GRU", reset_after=True)

Importing this module is cheap: Keras is only imported when the fixture is used.
"""

from __future__ import annotations

from typing import Any

import pytest


class RnnParity:
    """Session helper: one Keras runner (and one family-layer runner) shared by every test
    that uses the fixture."""

    def __init__(self) -> None:
        self._runner = None
        self._family_runner = None

    @property
    def runner(self):
        if self._runner is None:
            from harness.runner import KerasRunner

            self._runner = KerasRunner()
        return self._runner

    @property
    def family_runner(self):
        if self._family_runner is None:
            from harness.family import FamilyRunner

            self._family_runner = FamilyRunner()
        return self._family_runner

    def check(self, port: Any, *, layer: str, **kwargs: Any):
        from harness.api import check_port
        from harness.family_check import CHECK_FAMILY_KINDS

        runner = self.family_runner if layer in CHECK_FAMILY_KINDS else self.runner
        return check_port(port, layer=layer, runner=runner, **kwargs)

    def assert_matches(self, port: Any, *, layer: str, **kwargs: Any):
        from harness.check_output import render

        report = self.check(port, layer=layer, **kwargs)
        if report.verdict != "match":
            pytest.fail("\n" + render(report), pytrace=False)
        return report


@pytest.fixture(scope="session")
def rnn_parity() -> RnnParity:
    return RnnParity()
