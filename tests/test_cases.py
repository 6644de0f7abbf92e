"""The example ports in ``cases/``: each case file gets the verdict and flags it expects.

Every ``cases/*.json`` names a port (a correct one, a re-created user seed, or a
port with a known bug) and the answer ``rnn-parity check`` must give for it.
One test per case file, plus coverage checks: every catalogue flag has a case
that expects it, every cell kind has a correct port, and correct ports are
expected (and, in the per-case test, found) to get no flags.
C ports under ``cases/ports/c/`` are compiled once per session with ``cc``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness.check.case_files import CASES_DIR, condition_mismatches, load_case_file, run_case_file
from harness.check.catalogue import FLAGS
from harness.check.output import render

pytestmark = pytest.mark.keras

REPO_ROOT = CASES_DIR.parent
CASE_PATHS = sorted(CASES_DIR.glob("*.json"))
C_SOURCES = sorted((CASES_DIR / "ports" / "c").glob("*.c"))


def _cases():
    return [load_case_file(p) for p in CASE_PATHS]


@pytest.fixture(scope="session")
def c_ports() -> list[Path]:
    """Compile every C port next to its source (atomically, so parallel workers do not clash)."""
    found = [shutil.which(c) for c in (os.environ.get("CC"), "cc", "gcc", "clang") if c]
    compiler = next((c for c in found if c), None)
    if compiler is None:
        pytest.skip("no C compiler found ($CC, cc, gcc or clang): cannot build the C ports in cases/ports/c/")
    binaries = []
    for source in C_SOURCES:
        binary = source.with_suffix("")
        fd, tmp = tempfile.mkstemp(prefix=f".{binary.name}-", dir=binary.parent)
        os.close(fd)
        try:
            done = subprocess.run([compiler, "-O2", "-o", tmp, str(source), "-lm"], capture_output=True, text=True)
            assert done.returncode == 0, f"{compiler} failed on {source}:\n{done.stderr}"
            os.replace(tmp, binary)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        binaries.append(binary)
    return binaries


@pytest.mark.parametrize("path", CASE_PATHS, ids=[p.stem for p in CASE_PATHS])
def test_case_gets_expected_answer(path: Path, keras_runner, request) -> None:
    case = load_case_file(path)
    assert case.expected_verdict is not None, f"{path.name}: no expected verdict"
    if case.adapter == "subprocess":
        request.getfixturevalue("c_ports")
    report = run_case_file(case, runner=keras_runner)
    answer = render(report)
    assert report.verdict == case.expected_verdict, (
        f"{case.name}: verdict {report.verdict!r}, expected {case.expected_verdict!r}\n{answer}"
    )
    assert report.flags == sorted(case.expected_flags), (
        f"{case.name}: flags {report.flags}, expected {sorted(case.expected_flags)}\n{answer}"
    )
    if case.expected_verdict == "match":
        assert report.flags == [] and report.diagnosis is None, f"{case.name}: a correct port got a diagnosis\n{answer}"
    wrong = condition_mismatches(case, report)
    assert not wrong, f"{case.name}: {'; '.join(wrong)}\n{answer}"


def test_conditional_cases_expect_a_condition() -> None:
    """Some cases are ports right in some configurations only, with the condition expected."""
    conditional = [case for case in _cases() if any(case.expected_when.values())]
    assert len(conditional) >= 3, "cases/ needs conditional ports whose expected answer names the condition"


def test_every_flag_has_a_case() -> None:
    covered = {flag for case in _cases() for flag in case.expected_flags}
    unknown = covered - set(FLAGS)
    assert not unknown, f"case files expect flags the catalogue does not have: {sorted(unknown)}"
    missing = [flag for flag in FLAGS if flag not in covered]
    assert not missing, f"no case in cases/ expects these flags: {missing}"


def test_every_flag_has_a_single_fault_case() -> None:
    """Each flag is also the *only* expected flag of some case, so it is tested on its own."""
    alone = {case.expected_flags[0] for case in _cases() if len(case.expected_flags) == 1}
    missing = [flag for flag in FLAGS if flag not in alone]
    assert not missing, f"these flags only appear together with others: {missing}"


def test_correct_ports_expect_no_flags() -> None:
    matches = [case for case in _cases() if case.expected_verdict == "match"]
    assert matches, "no correct ports in cases/"
    for case in matches:
        assert case.expected_flags == (), f"{case.name}: a case expected to match cannot expect flags"
    kinds = {case.layer for case in matches}
    wanted = {"SimpleRNN", "LSTM", "GRU", "Bidirectional", "ConvLSTM2D"}
    assert wanted <= kinds, f"correct ports only for {sorted(kinds)}; missing {sorted(wanted - kinds)}"


def test_mismatch_cases_expect_flags() -> None:
    for case in _cases():
        if case.expected_verdict == "mismatch":
            assert case.expected_flags, f"{case.name}: a mismatch case must name the flag(s) it expects"
