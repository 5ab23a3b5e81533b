"""The pure rules shared by the services, tested without a database: the one answer pass/fail rule
(visit sync and amendments both use it) and the one Asia/Riyadh calendar."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from inspections.domain.answers import answer_failed
from inspections.domain.calendar import RIYADH, local_day_start, next_working_day, riyadh_today


def item(answer_type, **fields):
    defaults = {"choices": None, "failing_choices": None, "min_value": None, "max_value": None}
    return SimpleNamespace(answer_type=answer_type, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("value", "expected"), [("yes", False), ("no", True), ("na", False), ("maybe", None), (1, None), (None, None)]
)
def test_yes_no_na_fails_on_no_only(value, expected):
    assert answer_failed(item("yes_no_na"), value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, False), (0.5, True), (9, True), (True, None), ("3", None), (float("nan"), None), (float("inf"), None)],
)
def test_number_fails_outside_its_limits(value, expected):
    assert answer_failed(item("number", min_value=1, max_value=8), value) is expected


def test_choice_fails_on_a_failing_choice_and_refuses_unknown_values():
    choice = item("choice", choices=["good", "poor"], failing_choices=["poor"])
    assert answer_failed(choice, "good") is False
    assert answer_failed(choice, "poor") is True
    assert answer_failed(choice, "excellent") is None
    assert answer_failed(item("choice"), "good") is None  # a choice item without choices takes nothing


def test_an_unknown_answer_type_fits_no_value():
    assert answer_failed(item("photo"), "yes") is None


def test_next_working_day_skips_friday_and_saturday():
    assert next_working_day(date(2026, 11, 26)) == date(2026, 11, 29)  # Thursday → Sunday
    assert next_working_day(date(2026, 11, 29)) == date(2026, 11, 30)  # Sunday → Monday


def test_today_and_day_bounds_are_in_riyadh():
    assert riyadh_today() == datetime.now(UTC).astimezone(RIYADH).date()
    start = local_day_start(date(2026, 11, 30))
    assert start.astimezone(UTC) == datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
