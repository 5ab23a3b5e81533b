"""The one rule for names in the reader's language (inspections.domain.names), without a database."""

from types import SimpleNamespace

import pytest

from inspections.domain.names import label, localized_name, person_name


@pytest.mark.parametrize(
    ("name_ar", "name_en", "language", "expected"),
    [
        ("الدمام", "Dammam", "ar", "الدمام"),
        ("الدمام", "Dammam", "en", "Dammam"),
        ("الدمام", "Dammam", "en-gb", "Dammam"),
        ("الدمام", "", "en", "الدمام"),  # no English name: the Arabic one, never a blank cell
        ("", "Dammam", "ar", "Dammam"),
        ("الدمام", "Dammam", None, "الدمام"),  # unknown language: Arabic first
        ("", "", "ar", ""),
    ],
)
def test_label_falls_back_to_the_other_language(name_ar, name_en, language, expected):
    assert label(name_ar, name_en, language) == expected


def test_localized_name_of_a_record_and_of_nothing():
    shop = SimpleNamespace(name_ar="بقالة النخيل", name_en="")
    assert localized_name(shop, "en") == "بقالة النخيل"
    assert localized_name(SimpleNamespace(name_ar="ب", name_en="B"), "en") == "B"
    assert localized_name(None, "ar") == ""


def test_a_person_is_named_by_full_name_else_username():
    from django.contrib.auth.models import User

    assert person_name(User(username="insp_dammam", first_name="Saad", last_name="Ali")) == "Saad Ali"
    assert person_name(User(username="insp_dammam")) == "insp_dammam"  # never an empty cell
