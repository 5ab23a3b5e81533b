"""Geo-verification on hand-computed cases, and how it shows on synced visits.

Meridian arc at 26.42° N on WGS-84: M = a(1−e²)/(1−e²·sin²φ)^1.5 = 6,348,053 m/rad, i.e.
110,794.5 m per degree of latitude, so 0.001° north of a shop is 110.8 m away (verified,
threshold 150 m) and 0.002° is 221.6 m (out of range); 0.1° is 11,079 m.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from inspections.domain.geoverify import (
    Fix,
    TravelPoint,
    geo_verify,
    impossible_travel_keys,
    travel_speed_kmh,
)
from inspections.models import Visit
from tests.visit_support import make_checklist, shop, visit_payload

SHOP = (26.4207, 50.0888)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def verify(dlat, accuracy=5.0, fix=True):
    location = Fix(SHOP[0] + dlat, SHOP[1], accuracy) if fix else None
    return geo_verify(fix=location, establishment_lat=SHOP[0], establishment_lon=SHOP[1])


def test_verified_close_fix():
    result = verify(0.001)
    assert result.status == "verified"
    assert result.distance_m == pytest.approx(110.79, abs=0.5)


def test_out_of_range():
    result = verify(0.002)
    assert result.status == "out_of_range"
    assert result.distance_m == pytest.approx(221.59, abs=0.5)


def test_exact_spot_is_zero_metres():
    assert verify(0.0) == verify(0.0)
    assert verify(0.0).distance_m == pytest.approx(0.0, abs=1e-6)


def test_low_accuracy_wins_over_distance_and_keeps_the_distance():
    near = verify(0.0005, accuracy=250.0)
    far = verify(0.01, accuracy=250.0)
    assert (near.status, far.status) == ("low_accuracy", "low_accuracy")
    assert far.distance_m == pytest.approx(1107.9, abs=2)


def test_accuracy_at_the_threshold_is_still_accepted():
    assert verify(0.0005, accuracy=100.0).status == "verified"
    assert verify(0.0005, accuracy=100.1).status == "low_accuracy"


def test_no_fix():
    result = verify(0, fix=False)
    assert result.status == "no_fix" and result.distance_m is None


@override_settings(GEO_VERIFIED_MAX_DISTANCE_M=300.0)
def test_threshold_comes_from_settings():
    assert verify(0.002).status == "verified"


def point(key, minutes_start, minutes_end, dlat=0.0, fix=True):
    return TravelPoint(
        key=key,
        started_at=T0 + timedelta(minutes=minutes_start),
        finished_at=T0 + timedelta(minutes=minutes_end),
        lat=SHOP[0] + dlat if fix else None,
        lon=SHOP[1] if fix else None,
    )


def test_travel_speed_hand_computed():
    # 11,079 m in 5 minutes: 132.95 km/h (under 150); in 4 minutes: 166.2 km/h (over).
    previous = point(None, 0, 10)
    assert travel_speed_kmh(previous, point("a", 15, 20, dlat=0.1)) == pytest.approx(132.95, abs=0.2)
    assert travel_speed_kmh(previous, point("b", 14, 20, dlat=0.1)) == pytest.approx(166.19, abs=0.2)


def test_impossible_travel_against_stored_and_within_the_batch():
    stored = [point(None, 0, 10)]
    new = [point("ok", 15, 20, dlat=0.1), point("jump", 22, 30, dlat=0.0)]
    # "ok": 11.08 km in 5 min (133 km/h); "jump": back 11.08 km in 2 min after "ok" (332 km/h).
    assert impossible_travel_keys(new=new, stored=stored) == {"jump"}


def test_overlapping_visits_count_as_one_minute_and_no_fix_is_skipped():
    stored = [point(None, 0, 10)]
    jitter = point("jitter", 5, 12, dlat=0.0005)  # 55 m, overlapping: 55 m/min = 3.3 km/h
    assert impossible_travel_keys(new=[jitter], stored=stored) == set()
    blind = point("blind", 11, 12, fix=False)
    far = point("far", 13, 14, dlat=0.1)  # compared with the stored visit: 11 km in 3 min
    assert impossible_travel_keys(new=[blind, far], stored=stored) == {"far"}


def test_a_day_later_is_never_impossible():
    stored = [point(None, 0, 10)]
    assert impossible_travel_keys(new=[point("next_day", 60 * 25, 60 * 25 + 5, dlat=3.0)], stored=stored) == set()


@pytest.mark.django_db
def test_sync_stores_geo_status_and_flags_travel(api, dammam, inspector):
    version, _items = make_checklist()
    near = shop(dammam)
    far_away = shop(dammam, lat=near.lat + 0.1, lon=near.lon)
    base = timezone.now() - timedelta(hours=2)
    visits = [
        visit_payload(near, version, finished_at=base),
        visit_payload(near, version, finished_at=base + timedelta(minutes=20), location=None),
        visit_payload(
            near,
            version,
            finished_at=base + timedelta(minutes=40),
            location={"lat": near.lat, "lon": near.lon, "accuracy_m": 500.0},
        ),
        visit_payload(
            near,
            version,
            finished_at=base + timedelta(minutes=60),
            location={"lat": near.lat + 0.002, "lon": near.lon, "accuracy_m": 10.0},
        ),
        # 11 km from the previous fix, started 2 minutes after it finished.
        visit_payload(far_away, version, finished_at=base + timedelta(minutes=70), minutes=8),
    ]
    results = api.as_user(inspector).post("visits/sync", {"visits": visits}).json()["results"]
    stored = [Visit.objects.get(pk=r["visit_id"]) for r in results]
    assert [v.geo_status for v in stored] == ["verified", "no_fix", "low_accuracy", "out_of_range", "verified"]
    assert [v.impossible_travel for v in stored] == [False, False, False, False, True]
    assert stored[1].lat is None and stored[1].geo_distance_m is None
    assert stored[3].geo_distance_m == pytest.approx(221.6, abs=1)

    client = api.as_user(inspector)
    listed = client.get("visits", {"geo_status": "out_of_range"}).json()
    assert [v["id"] for v in listed["items"]] == [stored[3].id]
    flagged = client.get("visits", {"impossible_travel": "true"}).json()
    assert [v["id"] for v in flagged["items"]] == [stored[4].id]
    detail = client.get(f"visits/{stored[2].id}").json()
    assert detail["geo"]["status"] == "low_accuracy" and detail["geo"]["accuracy_m"] == 500.0

    # A later batch is compared with the stored visits: back to `near` 1 minute after `far_away`.
    (late,) = (
        api.as_user(inspector)
        .post(
            "visits/sync",
            {"visits": [visit_payload(near, version, finished_at=base + timedelta(minutes=75), minutes=4)]},
        )
        .json()["results"]
    )
    assert Visit.objects.get(pk=late["visit_id"]).impossible_travel is True


def test_the_geodesic_decides_at_the_limit():
    # 0.1° of latitude: 11.079 km on the ellipsoid, 11.120 km on the sphere. Timed for 149.5 km/h on
    # the ellipsoid (150.04 km/h on the sphere): not flagged; for 150.5 km/h: flagged.
    from geopy.distance import geodesic

    km = geodesic(SHOP, (SHOP[0] + 0.1, SHOP[1])).kilometers
    stored = [point(None, 0, 10)]
    for speed, expected in ((149.5, set()), (150.5, {"next"})):
        seconds = km / speed * 3600
        arrival = TravelPoint(
            key="next",
            started_at=T0 + timedelta(minutes=10, seconds=seconds),
            finished_at=T0 + timedelta(minutes=20, seconds=seconds),
            lat=SHOP[0] + 0.1,
            lon=SHOP[1],
        )
        assert impossible_travel_keys(new=[arrival], stored=stored) == expected, speed
