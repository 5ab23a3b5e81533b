"""Who hears of enforcement events: the inspector of the visit and the municipality's supervisors.

Each event writes outbox rows through the notifications app in the caller's transaction (its
dedupe keys make a repeated event notify once).
"""

from notifications.models import Notification
from notifications.services import notification_create, supervisors_of

Kind = Notification.Kind

DECISION_WORDS = {
    "upheld": {"en": "penalty upheld", "ar": "تأييد المخالفة"},
    "reduced": {"en": "penalty reduced", "ar": "تخفيض الغرامة"},
    "cancelled": {"en": "penalty cancelled", "ar": "إلغاء المخالفة"},
}


def _language(user) -> str:
    membership = getattr(user, "membership", None)
    return getattr(membership, "language", "ar") or "ar"


def _recipients(notice) -> list:
    people = {notice.visit.inspector_id: notice.visit.inspector}
    for supervisor in supervisors_of(municipality_id=notice.municipality_id):
        people[supervisor.pk] = supervisor
    return [people[pk] for pk in sorted(people)]


def _notify(*, notice, kind: str, key: str, context: dict) -> None:
    for user in _recipients(notice):
        language = _language(user)
        establishment = notice.establishment.name_en if language == "en" and notice.establishment.name_en else None
        notification_create(
            recipient=user,
            kind=kind,
            dedupe_key=f"{key}:{user.pk}",
            context={
                "number": notice.number,
                "amount": notice.amount_sar,
                "establishment": establishment or notice.establishment.name_ar,
                **{name: value[language] if isinstance(value, dict) else value for name, value in context.items()},
            },
            payload={"notice_id": notice.pk, "number": notice.number, "link": f"jawla://notices/{notice.pk}"},
        )


def notify_penalty_issued(*, notice) -> None:
    violation = notice.violation
    _notify(
        notice=notice,
        kind=Kind.PENALTY_ISSUED,
        key=f"penalty_issued:{notice.pk}",
        context={"violation": {"en": violation.text_en, "ar": violation.text_ar}},
    )


def notify_objection_filed(*, objection) -> None:
    _notify(notice=objection.notice, kind=Kind.OBJECTION_FILED, key=f"objection_filed:{objection.pk}", context={})


def notify_objection_decided(*, objection) -> None:
    _notify(
        notice=objection.notice,
        kind=Kind.OBJECTION_DECIDED,
        key=f"objection_decided:{objection.pk}",
        context={"decision": DECISION_WORDS[objection.decision]},
    )
