"""Push messages and backends. A backend is any callable named by settings.PUSH_BACKEND (a dotted
path) that takes up to 500 PushMessages and returns one PushResult per message, in order:
`console_send` here (logs each message; the embedded default) or `notifications.fcm.send_batch`
(firebase-admin, switched on by FCM_CREDENTIALS_FILE). This module never imports a backend."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("notifications.push")


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str = ""
    platform: str = "android"


@dataclass(frozen=True)
class PushResult:
    """`sent`; `invalid_token` (deactivate the device); `retry` (transient: quota, unavailable,
    internal); `error` (anything else, recorded and not retried)."""

    outcome: str
    message_id: str = ""
    error: str = ""


Backend = Callable[[list[PushMessage]], list[PushResult]]


def console_send(batch: list[PushMessage]) -> list[PushResult]:
    results = []
    for message in batch:
        logger.info(
            "push (console) to %s…: %s | %s | %s",
            message.token[:12],
            message.title,
            message.body,
            json.dumps(message.data, ensure_ascii=False, sort_keys=True),
        )
        results.append(PushResult(outcome="sent", message_id=f"console/{uuid.uuid4()}"))
    return results


def get_backend() -> Backend:
    """The backend named by settings.PUSH_BACKEND (a dotted path), imported on first use: firebase_admin
    is loaded only where FCM is the backend."""
    return import_string(settings.PUSH_BACKEND)
