"""Shared fixtures: Hypothesis profiles and one Keras runner per session.

Profiles: ``dev`` (default, fast), ``ci`` (derandomised), ``thorough``;
choose with ``--hypothesis-profile=NAME`` or ``RNN_PARITY_PROFILE=NAME``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from harness.target.keras_env import quiet_environment
from harness.layers.profiles import DEFAULT_PROFILE, register_profiles

quiet_environment()
register_profiles()
settings.load_profile(os.environ.get("RNN_PARITY_PROFILE", DEFAULT_PROFILE))


@pytest.fixture(scope="session")
def keras_runner():
    """One runner for the whole session, so layers and traces are reused across tests."""
    from harness.target.runner import KerasRunner

    return KerasRunner()
