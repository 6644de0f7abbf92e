"""Hypothesis profiles: ``dev`` (fast), ``ci`` (derandomised, fixed examples), ``thorough``.

Select one with ``pytest --hypothesis-profile=NAME`` or ``RNN_PARITY_PROFILE=NAME``.
Each profile also fixes the size of what the strategies draw (longest
sequence, largest batch), read by the tests through :func:`limits`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

DEFAULT_PROFILE = "dev"


@dataclass(frozen=True)
class Limits:
    max_examples: int
    max_timesteps: int
    max_batch: int
    max_units: int


PROFILES = {
    "dev": Limits(max_examples=15, max_timesteps=32, max_batch=4, max_units=16),
    "ci": Limits(max_examples=40, max_timesteps=64, max_batch=5, max_units=32),
    "thorough": Limits(max_examples=500, max_timesteps=256, max_batch=8, max_units=64),
}

_COMMON = dict(
    deadline=None,  # Keras builds and traces on first use of a signature; timing is for `make bench`
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def register_profiles() -> None:
    for name, lim in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=lim.max_examples,
            derandomize=name == "ci",
            database=None if name == "ci" else settings.default.database,
            **_COMMON,
        )


def active_profile() -> str:
    name = os.environ.get("RNN_PARITY_PROFILE", "") or settings.get_current_profile_name()
    return name if name in PROFILES else DEFAULT_PROFILE


def limits() -> Limits:
    """Size limits of the active profile."""
    return PROFILES[active_profile()]
