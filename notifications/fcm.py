"""Firebase Cloud Messaging through firebase-admin: the ONLY module that imports firebase_admin.

`send_batch` sends up to 500 messages with `messaging.send_each` and classifies each answer:
a dead token (UNREGISTERED, SENDER_ID_MISMATCH, INVALID_ARGUMENT about the token) → `invalid_token`;
quota, unavailable and internal errors → `retry` (the task retries with backoff and jitter);
anything else → `error`. firebase-admin itself already retries HTTP 500/503 a few times.
"""

from __future__ import annotations

import threading

import firebase_admin
from django.conf import settings
from firebase_admin import credentials, exceptions, messaging

from notifications.push import PushMessage, PushResult

APP_NAME = "jawla"
HTTP_TIMEOUT_SECONDS = 30  # below the send task's time limit
_lock = threading.Lock()
_app: firebase_admin.App | None = None

DEAD_TOKEN_ERRORS = (messaging.UnregisteredError, messaging.SenderIdMismatchError)
TRANSIENT_ERRORS = (
    messaging.QuotaExceededError,
    exceptions.ResourceExhaustedError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
)


def get_app() -> firebase_admin.App:
    """The firebase app for FCM_CREDENTIALS_FILE, created once per process."""
    global _app
    with _lock:
        if _app is None:
            credential = credentials.Certificate(settings.FCM_CREDENTIALS_FILE)
            _app = firebase_admin.initialize_app(credential, {"httpTimeout": HTTP_TIMEOUT_SECONDS}, name=APP_NAME)
        return _app


def reset() -> None:
    """Forget the app (e.g. after the credentials file changed)."""
    global _app
    with _lock:
        if _app is not None:
            firebase_admin.delete_app(_app)
            _app = None


def build_message(message: PushMessage) -> messaging.Message:
    android = messaging.AndroidConfig(priority="high", collapse_key=message.collapse_key or None)
    apns = messaging.APNSConfig(
        headers={"apns-collapse-id": message.collapse_key[:64]} if message.collapse_key else None,
        payload=messaging.APNSPayload(aps=messaging.Aps(sound="default")),
    )
    return messaging.Message(
        fid=message.token,
        notification=messaging.Notification(title=message.title, body=message.body),
        data=message.data,
        android=android,
        apns=apns,
    )


def _is_dead_token(error: Exception) -> bool:
    if isinstance(error, DEAD_TOKEN_ERRORS):
        return True
    if isinstance(error, exceptions.InvalidArgumentError):
        # INVALID_ARGUMENT is about the token only when FCM says so (a bad payload must not
        # deactivate every device): look at the field violations, then at the message.
        response = getattr(error, "http_response", None)
        try:
            details = response.json()["error"].get("details", []) if response is not None else []
        except (ValueError, KeyError, AttributeError):
            details = []
        for detail in details:
            for violation in detail.get("fieldViolations", []) or []:
                if "token" in str(violation.get("field", "")) or "fid" in str(violation.get("field", "")):
                    return True
        return "registration token" in str(error).lower()
    return False


def _describe(error: Exception) -> str:
    return f"{type(error).__name__} ({getattr(error, 'code', '') or 'no code'}): {error}"[:1000]


def send_batch(batch: list[PushMessage]) -> list[PushResult]:
    """Send up to 500 messages; one PushResult per message, in order."""
    if not batch:
        return []
    if len(batch) > 500:
        raise ValueError("FCM send_each takes at most 500 messages")
    try:
        response = messaging.send_each([build_message(message) for message in batch], app=get_app())
    except exceptions.FirebaseError as error:  # the whole call failed (e.g. the OAuth token)
        outcome = "retry" if isinstance(error, (*TRANSIENT_ERRORS, exceptions.UnknownError)) else "error"
        return [PushResult(outcome=outcome, error=_describe(error)) for _ in batch]
    results = []
    for answer in response.responses:
        if answer.success:
            results.append(PushResult(outcome="sent", message_id=answer.message_id or ""))
        elif _is_dead_token(answer.exception):
            results.append(PushResult(outcome="invalid_token", error=_describe(answer.exception)))
        elif isinstance(answer.exception, TRANSIENT_ERRORS):
            results.append(PushResult(outcome="retry", error=_describe(answer.exception)))
        else:
            results.append(PushResult(outcome="error", error=_describe(answer.exception)))
    return results
