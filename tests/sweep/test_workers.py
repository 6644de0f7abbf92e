"""Worker processes: results in group order whatever the finishing order; a failing group is recorded."""

from __future__ import annotations

import time

from harness.sweep.workers import ignore_interrupts, run_in_order


def slow_square(n: int) -> int:
    """Early groups take longest, so workers finish them last."""
    if n == 3:
        raise RuntimeError("group 3 is broken")
    time.sleep(0.02 * (6 - n))
    return n * n


def test_results_come_back_in_group_order_and_a_failing_group_is_recorded():
    finished: list[int] = []
    results = run_in_order(
        slow_square, list(range(6)), workers=2,
        on_result=lambda i, r: finished.append(i),
        on_lost=lambda i, exc: f"error: {exc}",
        initializer=ignore_interrupts,
    )
    assert results == [0, 1, 4, "error: group 3 is broken", 16, 25]
    assert sorted(finished) == list(range(6))  # every group reported once, in whatever order


def test_the_parent_can_take_groups_too_and_order_is_kept():
    here: list[int] = []

    def local(n: int) -> int:
        here.append(n)
        return n * n if n != 3 else -1

    results = run_in_order(slow_square, list(range(8)), workers=2, on_result=lambda i, r: None,
                           on_lost=lambda i, exc: "lost", initializer=ignore_interrupts, local=local)
    assert here  # the parent started on the last groups at once
    expected = [n * n for n in range(8)]
    expected[3] = -1 if 3 in here else "lost"
    assert results == expected


def test_every_group_runs_exactly_once():
    runs: list[int] = []

    def local(n: int) -> int:
        runs.append(n)
        return n * n if n != 3 else -1

    run_in_order(slow_square, list(range(10)), workers=2, on_result=lambda i, r: None,
                 on_lost=lambda i, exc: "lost", initializer=ignore_interrupts, local=local)
    assert len(runs) == len(set(runs))  # the parent never re-runs a group it already took
