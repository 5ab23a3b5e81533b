"""Who hears of enforcement events (the visit's inspector and the municipality's supervisors) and what
they read, in each recipient's language. Rows go through the generic notifications outbox in the
caller's transaction; dedupe keys make a repeated event notify once."""

from inspections.alerts.policy import supervisors_of
from inspections.domain.names import localized_name
from notifications.services import notification_create

TEXTS = {
    "penalty_issued": {
        "en": ("Penalty notice", "Notice {number}: {amount} SAR to {establishment} for {violation}."),
        "ar": ("إشعار مخالفة", "الإشعار {number}: غرامة {amount} ريال على {establishment} بسبب {violation}."),
    },
    "objection_filed": {
        "en": ("Objection filed", "The owner of {establishment} objected to notice {number}: a decision is due."),
        "ar": ("اعتراض جديد", "اعترض صاحب {establishment} على الإشعار {number}: بانتظار القرار."),
    },
    "objection_decided": {
        "en": ("Objection decided", "Notice {number} ({establishment}): {decision}, now {amount} SAR."),
        "ar": ("قرار اعتراض", "الإشعار {number} ({establishment}): {decision}، المبلغ الآن {amount} ريال."),
    },
}
DECISION_WORDS = {
    "upheld": {"en": "penalty upheld", "ar": "تأييد المخالفة"},
    "reduced": {"en": "penalty reduced", "ar": "تخفيض الغرامة"},
    "cancelled": {"en": "penalty cancelled", "ar": "إلغاء المخالفة"},
}


def _language(user) -> str:
    membership = getattr(user, "membership", None)
    language = getattr(membership, "language", "ar") or "ar"
    return language if language in ("ar", "en") else "ar"


def _recipients(notice) -> list:
    people = {notice.visit.inspector_id: notice.visit.inspector}
    for supervisor in supervisors_of(municipality_id=notice.municipality_id):
        people[supervisor.pk] = supervisor
    return [people[pk] for pk in sorted(people)]


def _notify(*, notice, kind: str, key: str, context: dict) -> None:
    for user in _recipients(notice):
        language = _language(user)
        establishment = notice.establishment
        name = localized_name(establishment, language)
        values = {
            "number": notice.number,
            "amount": notice.amount_sar,
            "establishment": name,
            **{field: value[language] if isinstance(value, dict) else value for field, value in context.items()},
        }
        title, body = TEXTS[kind][language]
        notification_create(
            recipient=user,
            kind=kind,
            dedupe_key=f"{key}:{user.pk}",
            title=title,
            body=body.format(**values),
            language=language,
            payload={"notice_id": notice.pk, "number": notice.number, "link": f"jawla://notices/{notice.pk}"},
        )


def notify_penalty_issued(*, notice) -> None:
    violation = notice.violation
    _notify(
        notice=notice,
        kind="penalty_issued",
        key=f"penalty_issued:{notice.pk}",
        context={"violation": {"en": violation.text_en, "ar": violation.text_ar}},
    )


def notify_objection_filed(*, objection) -> None:
    _notify(notice=objection.notice, kind="objection_filed", key=f"objection_filed:{objection.pk}", context={})


def notify_objection_decided(*, objection) -> None:
    _notify(
        notice=objection.notice,
        kind="objection_decided",
        key=f"objection_decided:{objection.pk}",
        context={"decision": DECISION_WORDS[objection.decision]},
    )
