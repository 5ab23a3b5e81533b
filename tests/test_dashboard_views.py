"""The dashboard's pages through Django's test client: session login, role refusal, language, assets."""

from django.test import Client

from tests.factories import UserFactory


def login(client: Client, username: str):
    return client.post("/dashboard/login/", {"username": username, "password": "pass12345"})


def test_anonymous_is_sent_to_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/")


def test_leadership_logs_in_and_sees_the_arabic_page(client, leader, dammam, khobar):
    leader.membership.language = "ar"  # the model's default: the factory makes English-speaking users
    leader.membership.save()
    response = login(client, "leader")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    page = client.get("/dashboard/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="ar" dir="rtl">' in html  # Arabic unless the person switched
    assert "/static/leaflet/leaflet.js" in html and "unpkg" not in html and "cdn" not in html.lower()
    assert "الدمام" in html and "الخبر" in html  # the municipality filter, in the caller's scope
    assert " هـ" in html  # today's Hijri date beside the Gregorian one


def test_supervisor_filter_lists_only_their_municipalities(client, supervisor, dammam, khobar):
    login(client, "sup_dammam")
    html = client.get("/dashboard/").content.decode()
    # By name: a bare id could be another select's value (the map cells' select has 6 to 9).
    assert f'<option value="{dammam.id}">Dammam</option>' in html
    assert f'<option value="{khobar.id}">Khobar</option>' not in html


def test_inspector_is_refused_at_login(client, inspector):
    response = login(client, "insp_dammam")
    assert response.status_code == 200  # the form again, with the reason
    assert "_auth_user_id" not in client.session
    assert client.get("/dashboard/").status_code == 302


def test_inspector_with_a_session_gets_403(client, inspector):
    client.force_login(inspector)
    assert client.get("/dashboard/").status_code == 403


def test_wrong_password(client, leader):
    response = client.post("/dashboard/login/", {"username": "leader", "password": "nope"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_language_switch_turns_the_page_english(client, leader):
    leader.membership.language = "ar"
    leader.membership.save()
    login(client, "leader")
    assert 'dir="rtl"' in client.get("/dashboard/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    assert response.status_code == 302
    html = client.get("/dashboard/").content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert " AH" in html


def test_session_auth_works_on_the_api(client, leader, dammam):
    login(client, "leader")
    response = client.get("/api/v1/analytics/violation-rates")
    assert response.status_code == 200


def test_user_without_membership_cannot_log_in(client, db):
    UserFactory(username="nobody")
    login(client, "nobody")
    assert "_auth_user_id" not in client.session


def test_static_assets_are_found():
    from django.contrib.staticfiles import finders

    for asset in (
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "analytics/dashboard.js",
        "analytics/dashboard.css",
        "fonts/ibm-plex-sans-arabic/IBMPlexSansArabic-Regular.ttf",
    ):
        assert finders.find(asset), asset


def test_indicators_page_for_leadership_in_arabic_with_scope_and_months(client, leader, amanah, dammam, khobar):
    leader.membership.language = "ar"
    leader.membership.save()
    login(client, "leader")
    response = client.get("/dashboard/indicators/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "مؤشرات الأداء المؤسسي" in html and "/static/analytics/indicators.js" in html
    assert f'<option value="{dammam.id}">الدمام</option>' in html and f'<option value="{amanah.id}">' in html
    assert "جمادى الأولى" in html  # the Umm al-Qura month names for the Hijri month selector
    assert "<script>" not in html and "style=" not in html  # the CSP allows no inline script or style
    assert 'data-admin=""' in html  # leadership reads; only admins get the target forms


def test_indicators_page_refuses_inspectors_and_sends_anonymous_to_login(client, inspector):
    response = client.get("/dashboard/indicators/")
    assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/")
    client.force_login(inspector)
    assert client.get("/dashboard/indicators/").status_code == 403


def test_indicators_page_marks_admins(client, admin_user):
    client.force_login(admin_user)
    assert 'data-admin="1"' in client.get("/dashboard/indicators/").content.decode()


def test_the_map_tiles_come_from_the_field_apps_setting(client, leader, settings):
    settings.MAP_TILE_URL = "https://tiles.example.sa/{z}/{x}/{y}.png"
    client.force_login(leader)
    html = client.get("/dashboard/").content.decode()
    assert 'data-tile-url="https://tiles.example.sa/{z}/{x}/{y}.png"' in html  # GET config serves the same value
    assert client.get("/api/v1/config").json()["map_tile_url"] == settings.MAP_TILE_URL
