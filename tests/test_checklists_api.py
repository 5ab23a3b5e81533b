"""GET checklists, GET checklists/{id}, GET checklists/versions/{id}; and the demo checklists."""

import pytest

from inspections.demo import checklists as demo_checklists
from inspections.models import Checklist, ChecklistItem, ChecklistVersion
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    demo_checklists.seed()
    return Checklist.objects.get(code="food-hygiene-licence")


def test_list_shows_published_version_summary(api, inspector, seeded):
    response = api.as_user(inspector).get("checklists")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    by_code = {row["code"]: row for row in body["items"]}
    food = by_code["food-hygiene-licence"]
    assert food["published_version"]["number"] == 1
    assert food["published_version"]["item_count"] == seeded.versions.get().items.count()
    assert {category["code"] for category in food["categories"]} >= {"grocery", "restaurant", "butcher"}


def test_detail_has_items_with_thresholds_choices_and_categories(api, inspector, seeded):
    response = api.as_user(inspector).get(f"checklists/{seeded.pk}")
    assert response.status_code == 200, response.content
    version = response.json()["published_version_detail"]
    items = {item["code"]: item for item in version["items"]}
    fridge = items["FH-03"]
    assert fridge["answer_type"] == "number" and fridge["min_value"] == 0 and fridge["max_value"] == 5
    assert fridge["severity"] == "critical" and fridge["photo_required_on_fail"] is True
    assert "butcher" in fridge["categories"]
    cleanliness = items["FH-06"]
    assert cleanliness["answer_type"] == "choice"
    assert cleanliness["failing_choices"] == ["poor", "very_poor"]
    # The field app shows labels, never bare codes; the value is what a visit sends back.
    assert cleanliness["choice_options"] == [
        {"value": "excellent", "label_ar": "ممتاز", "label_en": "Excellent", "fails": False},
        {"value": "good", "label_ar": "جيد", "label_en": "Good", "fails": False},
        {"value": "poor", "label_ar": "ضعيف", "label_en": "Poor", "fails": True},
        {"value": "very_poor", "label_ar": "ضعيف جداً", "label_en": "Very poor", "fails": True},
    ]
    assert fridge["choice_options"] == [] and fridge["unit"] == "°C"
    assert items["FH-01"]["text_ar"].startswith("رخصة البلدية")
    assert float(items["FH-07"]["fine_sar"]) == 5000


def test_version_endpoint_serves_retired_versions_but_not_drafts(api, inspector, seeded):
    retired = ChecklistVersionFactory(checklist=seeded, number=7, status=ChecklistVersion.Status.RETIRED)
    ChecklistItemFactory(version=retired, code="OLD")
    draft = ChecklistVersionFactory(checklist=seeded, number=8, status=ChecklistVersion.Status.DRAFT)
    client = api.as_user(inspector)
    response = client.get(f"checklists/versions/{retired.pk}")
    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == ["OLD"]
    assert client.get(f"checklists/versions/{draft.pk}").status_code == 404
    assert client.get("checklists/versions/999999").status_code == 404


def test_covid_checklist_is_bilingual_and_real(seeded):
    covid = Checklist.objects.get(code="covid19-shops").versions.get(status="published")
    codes = set(covid.items.values_list("code", flat=True))
    assert len(codes) >= 12
    texts = " ".join(covid.items.values_list("text_en", flat=True)).lower()
    for topic in ("mask", "distancing", "sanitiser", "temperature", "tawakkalna", "capacity", "trolleys"):
        assert topic in texts
    assert covid.items.filter(severity="critical").exists()
    assert not covid.items.filter(text_ar="").exists()


def test_seed_is_idempotent(seeded):
    counts = (Checklist.objects.count(), ChecklistVersion.objects.count(), ChecklistItem.objects.count())
    demo_checklists.seed()
    assert (Checklist.objects.count(), ChecklistVersion.objects.count(), ChecklistItem.objects.count()) == counts


def test_anonymous_is_401(api, seeded):
    assert api.get("checklists").status_code == 401


def test_bad_query_is_422(api, inspector, seeded):
    response = api.as_user(inspector).get("checklists", {"limit": "abc"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert api.as_user(inspector).get("checklists", {"limit": 5000}).status_code == 422


def test_a_choice_without_a_label_shows_its_value_in_both_languages(api, inspector, seeded):
    version = ChecklistVersionFactory(checklist=seeded, number=9, status=ChecklistVersion.Status.RETIRED)
    ChecklistItemFactory(
        version=version,
        code="ODOUR",
        answer_type="choice",
        choices=["none", "strong"],
        failing_choices=["strong"],
        choice_labels={"strong": {"ar": "قوية", "en": "Strong"}},
    )
    item = api.as_user(inspector).get(f"checklists/versions/{version.pk}").json()["items"][0]
    assert item["choice_options"] == [
        {"value": "none", "label_ar": "none", "label_en": "none", "fails": False},
        {"value": "strong", "label_ar": "قوية", "label_en": "Strong", "fails": True},
    ]


def test_openapi_documents_the_choice_labels(api):
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    option = schema["ChoiceOption"]["properties"]
    assert set(option) == {"value", "label_ar", "label_en", "fails"}
    assert "label" in option["label_ar"]["description"]
    assert "choice_options" in schema["ChecklistItemOut"]["properties"]
