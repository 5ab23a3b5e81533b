"""factory_boy factories for every model. Coordinates default to central Dammam."""

import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from inspections import models as m
from inspections.domain.geo import h3_cells
from notifications import models as n

User = get_user_model()

DAMMAM = (26.4207, 50.0888)
KHOBAR = (26.2794, 50.2083)


def square(lat: float, lon: float, half: float = 0.05) -> dict:
    """A GeoJSON square polygon (lon, lat order, closed ring) centred on (lat, lon)."""
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


class AmanahFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Municipality
        django_get_or_create = ("code",)

    code = "EP-AMANAH"
    name_ar = "أمانة المنطقة الشرقية"
    name_en = "Eastern Province Amanah"
    kind = m.Municipality.Kind.AMANAH
    boundary = None


class MunicipalityFactory(factory.django.DjangoModelFactory):
    """A sub-municipality with a square boundary around (centre_lat, centre_lon)."""

    class Meta:
        model = m.Municipality

    code = factory.Sequence(lambda i: f"MUN-{i}")
    name_ar = factory.Sequence(lambda i: f"بلدية {i}")
    name_en = factory.Sequence(lambda i: f"Municipality {i}")
    kind = m.Municipality.Kind.BALADIYA
    parent = factory.SubFactory(AmanahFactory)
    centre_lat = DAMMAM[0]
    centre_lon = DAMMAM[1]
    boundary = factory.LazyAttribute(lambda o: square(o.centre_lat, o.centre_lon))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda i: f"user{i}")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", "pass12345")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = m.Membership.Role.INSPECTOR
    language = "en"

    @factory.post_generation
    def municipalities(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.municipalities.set(extracted)


def make_user(
    role: str,
    *municipalities: m.Municipality,
    username: str | None = None,
    amanah=None,
    language="en",
    national: bool = False,
):
    """A user with a membership of `role` over `municipalities` (or the whole `amanah`, or, for the
    ministry's leadership, `national`: every Amanah)."""
    user = UserFactory(**({"username": username} if username else {}))
    MembershipFactory(
        user=user, role=role, municipalities=list(municipalities), amanah=amanah, language=language, national=national
    )
    return user


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Category
        django_get_or_create = ("code",)

    code = "grocery"
    name_ar = "بقالة"
    name_en = "Grocery"


class EstablishmentFactory(factory.django.DjangoModelFactory):
    """An establishment at the centre of its municipality unless lat/lon are given."""

    class Meta:
        model = m.Establishment

    name_ar = factory.Sequence(lambda i: f"منشأة {i}")
    name_en = factory.Sequence(lambda i: f"Shop {i}")
    category = factory.SubFactory(CategoryFactory)
    licence_no = factory.Sequence(lambda i: f"LIC-{i:07d}")
    municipality = factory.SubFactory(MunicipalityFactory)
    lat = factory.LazyAttribute(lambda o: o.municipality.centre_lat)
    lon = factory.LazyAttribute(lambda o: o.municipality.centre_lon)
    h3_r5 = factory.LazyAttribute(lambda o: h3_cells(o.lat, o.lon)["h3_r5"])
    h3_r6 = factory.LazyAttribute(lambda o: h3_cells(o.lat, o.lon)["h3_r6"])
    h3_r7 = factory.LazyAttribute(lambda o: h3_cells(o.lat, o.lon)["h3_r7"])
    h3_r8 = factory.LazyAttribute(lambda o: h3_cells(o.lat, o.lon)["h3_r8"])
    h3_r9 = factory.LazyAttribute(lambda o: h3_cells(o.lat, o.lon)["h3_r9"])


class ChecklistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Checklist

    code = factory.Sequence(lambda i: f"checklist-{i}")
    name_ar = "قائمة فحص"
    name_en = "Checklist"


class ChecklistVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ChecklistVersion

    checklist = factory.SubFactory(ChecklistFactory)
    number = 1
    status = m.ChecklistVersion.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class ChecklistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ChecklistItem

    version = factory.SubFactory(ChecklistVersionFactory)
    code = factory.Sequence(lambda i: f"ITEM-{i}")
    position = factory.Sequence(lambda i: i)
    text_ar = "هل البند مستوفى؟"
    text_en = "Is the item satisfied?"
    answer_type = m.ChecklistItem.AnswerType.YES_NO_NA
    severity = m.ChecklistItem.Severity.MINOR
    fine_sar = 100


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Round

    date = factory.LazyFunction(lambda: timezone.localdate())
    municipality = factory.SubFactory(MunicipalityFactory)
    inspector = factory.SubFactory(UserFactory)
    checklist = factory.SubFactory(ChecklistFactory)


class RoundStopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.RoundStop

    round = factory.SubFactory(RoundFactory)
    establishment = factory.SubFactory(EstablishmentFactory)
    position = factory.Sequence(lambda i: i)


class VisitFactory(factory.django.DjangoModelFactory):
    """A stored visit (bypassing the sync service): for read-side tests such as analytics."""

    class Meta:
        model = m.Visit

    client_id = factory.LazyFunction(uuid.uuid4)
    establishment = factory.SubFactory(EstablishmentFactory)
    inspector = factory.SubFactory(UserFactory)
    checklist_version = factory.SubFactory(ChecklistVersionFactory)
    municipality = factory.LazyAttribute(lambda o: o.establishment.municipality)
    category = factory.LazyAttribute(lambda o: o.establishment.category)
    finished_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyAttribute(lambda o: o.finished_at - timedelta(minutes=10))
    received_at = factory.LazyAttribute(lambda o: o.finished_at)
    lat = factory.LazyAttribute(lambda o: o.establishment.lat)
    lon = factory.LazyAttribute(lambda o: o.establishment.lon)
    accuracy_m = 10.0
    outcome = m.Visit.Outcome.COMPLIANT
    geo_status = m.Visit.GeoStatus.VERIFIED
    geo_distance_m = 0.0
    has_violation = factory.LazyAttribute(lambda o: o.outcome == m.Visit.Outcome.VIOLATIONS)
    h3_r5 = factory.LazyAttribute(lambda o: o.establishment.h3_r5)
    h3_r6 = factory.LazyAttribute(lambda o: o.establishment.h3_r6)
    h3_r7 = factory.LazyAttribute(lambda o: o.establishment.h3_r7)
    h3_r8 = factory.LazyAttribute(lambda o: o.establishment.h3_r8)
    h3_r9 = factory.LazyAttribute(lambda o: o.establishment.h3_r9)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = n.Device

    user = factory.SubFactory(UserFactory)
    token = factory.Sequence(lambda i: f"fcm-token-{i}-{uuid.uuid4().hex}")
    platform = n.Device.Platform.ANDROID
