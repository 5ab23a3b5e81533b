"""Push backends: `console` (logs each message; the embedded default) and `fcm` (firebase-admin,
switched on by FCM_CREDENTIALS_FILE). A backend takes up to 500 messages and returns one result
per message, in order."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

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
    if settings.PUSH_BACKEND == "fcm":
        from notifications import fcm  # the only module that imports firebase_admin

        return fcm.send_batch
    return console_send
