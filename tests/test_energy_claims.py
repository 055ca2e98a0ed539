"""The chapter on when "about 50 %" holds: its exercise check passes on the solution and fails on wrong answers.
Its figures are tested with the energy chapter's, tests/test_energy_chapter.py."""

import pytest

from grsn_edu.course.checks import energy_claims as checks
from grsn_edu.course.solutions import energy_claims as sol


def test_check_break_even_rate(check_contract):
    check_contract(checks.check_break_even_rate, sol.break_even_rate,
                   {"a \\+ b \\* r": lambda i, h, f: f})
    assert sol.break_even_rate(2, 128, 0.5) == pytest.approx(checks.reference_break_even_rate(2, 128, 0.5))
