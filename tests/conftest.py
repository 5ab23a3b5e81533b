"""Shared fixtures: the API client with bearer tokens, users of every role over two
municipalities (Dammam and Khobar), and a clean cache per test."""

import pytest
from django.core.cache import cache
from django.test import Client

from inspections.models import Membership
from inspections.services.auth import access_token_for
from tests.factories import DAMMAM, KHOBAR, AmanahFactory, MunicipalityFactory, make_user

Role = Membership.Role


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


class ApiClient:
    """django.test.Client for /api/v1/ with JSON bodies and an optional bearer user."""

    prefix = "/api/v1/"

    def __init__(self, user=None, language: str = "en"):
        self.client = Client()
        self.user = user
        self.language = language

    def as_user(self, user) -> "ApiClient":
        return ApiClient(user=user, language=self.language)

    def _headers(self, extra: dict | None) -> dict:
        headers = {"Accept-Language": self.language}
        if self.user is not None:
            headers["Authorization"] = f"Bearer {access_token_for(user=self.user)}"
        headers.update(extra or {})
        return headers

    def _url(self, path: str) -> str:
        return path if path.startswith("/") else self.prefix + path

    def get(self, path, params=None, headers=None):
        return self.client.get(self._url(path), params or {}, headers=self._headers(headers))

    def post(self, path, json=None, headers=None, **kwargs):
        if "data" in kwargs:  # multipart
            return self.client.post(self._url(path), kwargs["data"], headers=self._headers(headers))
        return self.client.post(self._url(path), json, content_type="application/json", headers=self._headers(headers))

    def patch(self, path, json=None, headers=None):
        return self.client.patch(self._url(path), json, content_type="application/json", headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.client.delete(self._url(path), headers=self._headers(headers))

    def raw(self, method: str, path: str, body: bytes, content_type: str = "application/json", headers=None):
        return getattr(self.client, method.lower())(
            self._url(path), body, content_type=content_type, headers=self._headers(headers)
        )


@pytest.fixture
def api():
    return ApiClient()


@pytest.fixture
def amanah(db):
    return AmanahFactory()


@pytest.fixture
def dammam(amanah):
    return MunicipalityFactory(
        code="DAMMAM", name_en="Dammam", name_ar="الدمام", centre_lat=DAMMAM[0], centre_lon=DAMMAM[1], parent=amanah
    )


@pytest.fixture
def khobar(amanah):
    return MunicipalityFactory(
        code="KHOBAR", name_en="Khobar", name_ar="الخبر", centre_lat=KHOBAR[0], centre_lon=KHOBAR[1], parent=amanah
    )


@pytest.fixture
def inspector(dammam):
    return make_user(Role.INSPECTOR, dammam, username="insp_dammam")


@pytest.fixture
def inspector_khobar(khobar):
    return make_user(Role.INSPECTOR, khobar, username="insp_khobar")


@pytest.fixture
def supervisor(dammam):
    return make_user(Role.SUPERVISOR, dammam, username="sup_dammam")


@pytest.fixture
def supervisor_khobar(khobar):
    return make_user(Role.SUPERVISOR, khobar, username="sup_khobar")


@pytest.fixture
def leader(amanah, dammam, khobar):
    return make_user(Role.LEADERSHIP, username="leader", amanah=amanah)


@pytest.fixture
def admin_user(dammam, khobar):
    return make_user(Role.ADMIN, username="admin_user")
