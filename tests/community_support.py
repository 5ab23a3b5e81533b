"""Helpers for the community tests: an Open311 client and a shop with a public code."""

import io
import json
from xml.etree import ElementTree as ET

from django.test import Client

from community.services.shops import shop_code_ensure
from tests.visit_support import jpeg_bytes

BASE = "/open311/v2/"


class Open311:
    def __init__(self, ip: str = "10.1.0.1", language: str = "en", client: Client | None = None):
        self.client = client or Client(REMOTE_ADDR=ip)
        self.ip = ip
        self.language = language

    def get(self, path: str, params=None, **headers):
        return self.client.get(BASE + path, params or {}, headers={"Accept-Language": self.language, **headers})

    def post(self, path: str, data: dict, **headers):
        return self.client.post(
            BASE + path, data, REMOTE_ADDR=self.ip, headers={"Accept-Language": self.language, **headers}
        )


def photo(name: str = "shop.jpg", **kwargs) -> io.BytesIO:
    upload = io.BytesIO(jpeg_bytes(**kwargs))
    upload.name = name
    return upload


def code_of(establishment) -> str:
    return shop_code_ensure(establishment=establishment).code


def xml_rows(response, item: str) -> list[dict]:
    root = ET.fromstring(response.content)
    return [{child.tag: child.text for child in element} for element in root.findall(item)]


def as_json(response):
    return json.loads(response.content)
