"""Request and response bodies of the notifications API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.api_basics import StrictIn


class DeviceIn(StrictIn):
    token: str = Field(min_length=1, max_length=4096, pattern=r"^[^\s/]+$", description="FCM registration token")
    platform: Literal["android", "ios", "web"]


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    token: str
    platform: str
    is_active: bool
    created_at: datetime


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    payload: dict[str, str] = Field(description="Deep-link data for the app: kind, ids, link (string values)")
    language: str
    status: str = Field(description="Push status: pending, sent, no_device or failed")
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None


class ReadAllOut(BaseModel):
    updated: int
