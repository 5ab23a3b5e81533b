"""Notification events: each writes outbox rows in the caller's transaction.

PLACEHOLDER SIGNATURES (issue 4 completes them: localized titles/bodies, dispatch on commit,
devices, FCM). Other apps call only these functions; keep their names and arguments.
"""

from notifications.models import Notification


def _notify(*, recipient, kind: str, dedupe_key: str, title: str, body: str, payload: dict) -> Notification:
    notification, _created = Notification.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={"recipient": recipient, "kind": kind, "title": title, "body": body, "payload": payload},
    )
    return notification


def notify_round_assigned(*, round) -> None:
    """Tell the round's inspector about a new round."""
    _notify(
        recipient=round.inspector,
        kind=Notification.Kind.ROUND_ASSIGNED,
        dedupe_key=f"round_assigned:{round.pk}:{round.inspector_id}",
        title="New round",
        body=f"Round on {round.date}",
        payload={"kind": "round_assigned", "round_id": round.pk},
    )


def notify_round_changed(*, round, previous_inspector=None, changes: dict | None = None) -> None:
    """Tell the inspector (and a previous inspector on reassignment) that a round changed."""


def notify_round_cancelled(*, round) -> None:
    """Tell the inspector a round was cancelled."""


def notify_critical_finding(*, finding) -> None:
    """Tell the supervisors of the finding's municipality at once."""
