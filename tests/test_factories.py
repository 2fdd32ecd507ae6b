"""Test patients are always synthetic: their NHS numbers stay in the 999 range however many
a run makes."""

from __future__ import annotations

import pytest
from nhs_number.validate import is_valid

from tests.support.factories import synthetic_nhs_number


@pytest.mark.parametrize("n", [0, 1, 1_262, 1_263 * 7919, 10_000_000, 123_456_789_012])
def test_a_synthetic_nhs_number_is_valid_and_in_the_999_range(n: int) -> None:
    number = synthetic_nhs_number(n)
    assert len(number) == 10 and number.startswith("999") and is_valid(number)
