"""The alert policy: who hears what about rounds and findings, written through the generic outbox.

Events (`notify_*`) are called by the rounds and findings services inside their own transactions;
the scheduled jobs (`alerts_*`) by inspections/tasks.py. Every alert is rendered in its recipient's
language and written with a dedupe key, so an event or a job that runs twice notifies once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from inspections.alerts.texts import Kind, change_words, language_or_default, render
from inspections.domain.calendar import riyadh_today
from inspections.domain.names import localized_name, person_name
from inspections.models import Finding, Membership, Municipality, Round, RoundStop, Visit
from inspections.selectors.scope import visible_to
from notifications.models import Notification
from notifications.services import NotificationDraft, notification_revise, notifications_create

User = get_user_model()


def language_of(user) -> str:
    """The recipient's language (Membership.language; Arabic when unknown)."""
    membership = getattr(user, "membership", None)
    return language_or_default(getattr(membership, "language", None))


def _draft(
    *, recipient, kind: str, dedupe_key: str, payload: dict, context: dict, message: str | None = None
) -> NotificationDraft | None:
    """One alert for `recipient`, rendered in their language (None: no recipient)."""
    if recipient is None:
        return None
    language = language_of(recipient)
    text = render(message or kind, language, **context)
    return NotificationDraft(
        recipient=recipient,
        kind=kind,
        dedupe_key=dedupe_key,
        title=text.title,
        body=text.body,
        language=language,
        payload=payload,
    )


def _alert(
    *, recipient, kind: str, dedupe_key: str, payload: dict, context: dict, message: str | None = None
) -> Notification | None:
    """Write one alert for `recipient` (None: already sent, or no recipient)."""
    draft = _draft(
        recipient=recipient, kind=kind, dedupe_key=dedupe_key, payload=payload, context=context, message=message
    )
    written = notifications_create([draft]) if draft is not None else []
    return written[0] if written else None


def _stamp(*parts) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:16]


def supervisors_of(*, municipality_id: int) -> list:
    """Active supervisors whose scope covers the municipality (directly or through its Amanah)."""
    return supervisors_of_each(municipality_ids=[municipality_id])[municipality_id]


def supervisors_of_each(*, municipality_ids) -> dict[int, list]:
    """`supervisors_of` for several municipalities in three reads whatever their number (the
    municipalities' Amanahs, the supervisors who may cover any of them, which of them each one's
    membership names), in user id order."""
    ids = sorted(set(municipality_ids))
    parent_of = dict(Municipality.objects.filter(id__in=ids).values_list("id", "parent_id"))
    amanah_ids = set(ids) | {parent for parent in parent_of.values() if parent}
    candidates = list(
        User.objects.filter(is_active=True, membership__role=Membership.Role.SUPERVISOR)
        .filter(Q(membership__municipalities__in=ids) | Q(membership__amanah_id__in=amanah_ids))
        .select_related("membership")
        .distinct()
        .order_by("pk")
    )
    named: dict[int, set[int]] = {}
    for membership_id, municipality_id in Membership.municipalities.through.objects.filter(
        membership_id__in=[user.membership.pk for user in candidates], municipality_id__in=ids
    ).values_list("membership_id", "municipality_id"):
        named.setdefault(membership_id, set()).add(municipality_id)
    return {
        municipality_id: [
            user
            for user in candidates
            if municipality_id in named.get(user.membership.pk, ())
            or (
                user.membership.amanah_id is not None
                and user.membership.amanah_id in (municipality_id, parent_of.get(municipality_id))
            )
        ]
        for municipality_id in ids
    }


# --- rounds -----------------------------------------------------------------------------------------


def _round_context(round, language: str) -> dict:
    return {
        "date": round.date.isoformat() if hasattr(round.date, "isoformat") else str(round.date),
        "municipality": localized_name(round.municipality, language),
        "stops": round.stops.exclude(status=RoundStop.Status.CANCELLED).count(),
    }


def _round_payload(round) -> dict:
    return {"round_id": round.pk, "date": round.date, "link": f"jawla://rounds/{round.pk}"}


def _notify_round(
    *, round, recipient, kind: str, dedupe_key: str, message: str | None = None, extra=None
) -> Notification | None:
    if recipient is None:
        return None
    language = language_of(recipient)
    context = _round_context(round, language)
    context.update((extra or {}).get("context", {}))
    if "changes" in (extra or {}):
        context["changes"] = change_words(extra["changes"], language)
    payload = _round_payload(round)
    payload.update((extra or {}).get("payload", {}))
    return _alert(
        recipient=recipient, kind=kind, dedupe_key=dedupe_key, payload=payload, context=context, message=message
    )


def notify_round_assigned(*, round) -> None:
    """Tell the round's inspector about a new round (once per round and inspector)."""
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_ASSIGNED,
        dedupe_key=f"round_assigned:{round.pk}:{round.inspector_id}",
    )


def notify_round_changed(*, round, previous_inspector=None, changes: dict | None = None) -> None:
    """Tell the inspector (and a previous inspector on reassignment) that a round changed.

    On reassignment the new inspector hears "new round" and the previous one "given to another
    inspector". The dedupe key covers the changes and the round's `updated_at`, so calling this
    twice for the same change notifies once while a later change notifies again.
    """
    reassigned = previous_inspector is not None and previous_inspector.pk != round.inspector_id
    if not reassigned and set(changes or {}) == {"follow_up_added"}:
        _notify_follow_ups_added(round=round, added=list(changes["follow_up_added"]))
        return
    stamp = _stamp(changes, getattr(round, "updated_at", None))
    if reassigned:
        notify_round_assigned(round=round)
        _notify_round(
            round=round,
            recipient=previous_inspector,
            kind=Kind.ROUND_CHANGED,
            message="round_unassigned",
            dedupe_key=f"round_unassigned:{round.pk}:{previous_inspector.pk}:{stamp}",
            extra={"payload": {"change": "unassigned"}},
        )
        other_changes = {key: value for key, value in (changes or {}).items() if key != "inspector"}
        if not other_changes:
            return
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_CHANGED,
        dedupe_key=f"round_changed:{round.pk}:{round.inspector_id}:{stamp}",
        extra={"changes": changes or {}, "payload": {"change": ",".join(sorted(map(str, changes or {})))}},
    )


@transaction.atomic
def _notify_follow_ups_added(*, round, added: list) -> None:
    """One notification per round and Riyadh day for follow-ups added (findings open them one visit at a
    time, so a busy round used to fill the inbox). The first is sent; later ones the same day update its
    text and count in the inbox without a second push, so the phone hears once."""
    dedupe_key = f"round_follow_ups:{round.pk}:{round.inspector_id}:{riyadh_today().isoformat()}"

    def revise(existing: Notification) -> tuple[str, str, dict]:
        known = [pk for pk in existing.payload.get("establishment_ids", "").split(",") if pk]
        merged = known + [str(pk) for pk in added if str(pk) not in known]
        context = _round_context(round, existing.language) | {"count": len(merged)}
        text = render("round_follow_ups_added", existing.language, **context)
        return text.title, text.body, {**existing.payload, "establishment_ids": ",".join(merged)}

    if notification_revise(dedupe_key=dedupe_key, revise=revise) is not None:
        return
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_CHANGED,
        message="round_follow_ups_added",
        dedupe_key=dedupe_key,
        extra={
            "context": {"count": len(added)},
            "payload": {"change": "follow_up_added", "establishment_ids": ",".join(map(str, added))},
        },
    )


def notify_round_cancelled(*, round) -> None:
    """Tell the inspector a round was cancelled."""
    _notify_round(
        round=round,
        recipient=round.inspector,
        kind=Kind.ROUND_CANCELLED,
        dedupe_key=f"round_cancelled:{round.pk}:{round.inspector_id}",
    )


# --- findings ---------------------------------------------------------------------------------------


def _critical_drafts(
    *, finding, supervisors, message: str, dedupe: str, context: dict, payload: dict
) -> list[NotificationDraft]:
    """One alert per supervisor of the finding's municipality, in the supervisor's language."""
    answer = getattr(finding, "answer", None)
    item = getattr(answer, "item", None)
    drafts = []
    for supervisor in supervisors:
        language = language_of(supervisor)
        item_text = getattr(item, "text_en" if language == "en" else "text_ar", "") if item is not None else ""
        drafts.append(
            _draft(
                recipient=supervisor,
                kind=Kind.CRITICAL_FINDING,
                message=message,
                dedupe_key=f"{dedupe}:{supervisor.pk}",
                context={
                    "establishment": localized_name(finding.establishment, language),
                    "municipality": localized_name(finding.municipality, language),
                    "item": item_text or finding.item_code,
                    **context,
                },
                payload={
                    "finding_id": finding.pk,
                    "establishment_id": finding.establishment_id,
                    "severity": finding.severity,
                    "link": f"jawla://findings/{finding.pk}",
                    **payload,
                },
            )
        )
    return drafts


def notify_critical_findings(*, opened=(), repeated=()) -> None:
    """Critical findings just opened, and open critical findings failed again (`(finding, visit id)`
    pairs): each tells the supervisors of its municipality at once, one alert per supervisor, and a
    repeat once per repeating visit. The visit sync calls this once per batch: the supervisors of all
    the findings' municipalities are read together and every alert is written together
    (notifications_create)."""
    opened, repeated = list(opened), list(repeated)
    supervisors = supervisors_of_each(
        municipality_ids={finding.municipality_id for finding in opened}
        | {finding.municipality_id for finding, _visit_id in repeated}
    )

    drafts = []
    for finding in opened:
        drafts += _critical_drafts(
            finding=finding,
            supervisors=supervisors[finding.municipality_id],
            message=Kind.CRITICAL_FINDING,
            dedupe=f"critical_finding:{finding.pk}",
            context={},
            payload={"visit_id": finding.visit_id},
        )
    for finding, visit_id in repeated:
        drafts += _critical_drafts(
            finding=finding,
            supervisors=supervisors[finding.municipality_id],
            message="critical_finding_repeated",
            dedupe=f"critical_finding_repeated:{finding.pk}:{visit_id}",
            context={"times": finding.repeat_count + 1},
            payload={"visit_id": visit_id, "repeat_count": finding.repeat_count},
        )
    notifications_create(drafts)


def notify_critical_finding(*, finding) -> None:
    """Tell the supervisors of the finding's municipality at once (one row per supervisor)."""
    notify_critical_findings(opened=[finding])


def notify_critical_finding_repeated(*, finding, visit_id: int) -> None:
    """An open critical finding failed again (at `visit_id`): tell the municipality's supervisors
    again, once per repeating visit."""
    notify_critical_findings(repeated=[(finding, visit_id)])


# --- scheduled (called by inspections/tasks.py; each is idempotent through dedupe keys) ---------------


@transaction.atomic
def alerts_remind_rounds(*, day: date) -> int:
    """Morning reminder: each inspector with a round today hears how many stops wait."""
    rounds = Round.objects.filter(date=day, status__in=[Round.Status.PLANNED, Round.Status.IN_PROGRESS], is_draft=False)
    created = 0
    for round in rounds.select_related("inspector__membership", "municipality"):
        result = _notify_round(
            round=round,
            recipient=round.inspector,
            kind=Kind.ROUND_REMINDER,
            dedupe_key=f"round_reminder:{round.pk}:{round.inspector_id}:{day.isoformat()}",
        )
        created += result is not None
    return created


@transaction.atomic
def alerts_stops_open(*, day: date) -> int:
    """End of day: the supervisors of each round of `day` that ended with stops not visited hear it."""
    open_statuses = [RoundStop.Status.PENDING, RoundStop.Status.MISSED]
    rounds = (
        Round.objects.filter(date=day, is_draft=False)
        .exclude(status=Round.Status.CANCELLED)
        .annotate(
            open_stops=Count("stops", filter=Q(stops__status__in=open_statuses)),
            all_stops=Count("stops", filter=~Q(stops__status=RoundStop.Status.CANCELLED)),
        )
        .filter(open_stops__gt=0)
        .select_related("inspector", "municipality")
    )
    rounds = list(rounds)
    supervisors = supervisors_of_each(municipality_ids={round.municipality_id for round in rounds})
    created = 0
    for round in rounds:
        for supervisor in supervisors[round.municipality_id]:
            language = language_of(supervisor)
            inspector = person_name(round.inspector)
            result = _alert(
                recipient=supervisor,
                kind=Kind.STOPS_OPEN,
                dedupe_key=f"stops_open:{round.pk}:{supervisor.pk}:{day.isoformat()}",
                context={
                    "inspector": inspector,
                    "date": day.isoformat(),
                    "municipality": localized_name(round.municipality, language),
                    "open": round.open_stops,
                    "stops": round.all_stops,
                },
                payload={**_round_payload(round), "open_stops": round.open_stops},
            )
            created += result is not None
    return created


@transaction.atomic
def alerts_follow_ups_due(*, day: date) -> int:
    """Each inspector with open findings due today hears how many follow-ups are due (one row a day)."""
    findings = (
        Finding.objects.filter(status=Finding.Status.OPEN, due_date=day)
        .select_related("visit", "follow_up_stop__round")
        .order_by("pk")
    )
    per_inspector: dict[int, list[int]] = {}
    for finding in findings:
        stop = finding.follow_up_stop
        inspector_id = stop.round.inspector_id if stop is not None else finding.visit.inspector_id
        per_inspector.setdefault(inspector_id, []).append(finding.pk)
    created = 0
    for inspector in User.objects.filter(pk__in=per_inspector).select_related("membership"):
        finding_ids = per_inspector[inspector.pk]
        result = _alert(
            recipient=inspector,
            kind=Kind.FOLLOW_UP_DUE,
            dedupe_key=f"follow_up_due:{inspector.pk}:{day.isoformat()}",
            context={"count": len(finding_ids)},
            payload={
                "date": day,
                "finding_ids": ",".join(map(str, finding_ids)),
                "link": f"jawla://findings?due={day.isoformat()}",
            },
        )
        created += result is not None
    return created


@transaction.atomic
def alerts_weekly_summary(*, day: date) -> int:
    """Leadership hears the last 7 days (up to and including `day`) in their scope, once per ISO week."""
    start = timezone.make_aware(timezone.datetime.combine(day - timedelta(days=6), timezone.datetime.min.time()))
    end = start + timedelta(days=7)
    year, week, _weekday = day.isocalendar()
    leaders = User.objects.filter(is_active=True, membership__role=Membership.Role.LEADERSHIP).select_related(
        "membership"
    )
    created = 0
    for leader in leaders:
        visits = visible_to(Visit.objects.filter(finished_at__gte=start, finished_at__lt=end), user=leader)
        totals = visits.aggregate(visits=Count("*"), violations=Count("pk", filter=Q(has_violation=True)))
        findings = visible_to(Finding.objects.all(), user=leader)
        opened = findings.filter(opened_at__gte=start, opened_at__lt=end).count()
        open_critical = findings.filter(status=Finding.Status.OPEN, severity="critical").count()
        result = _alert(
            recipient=leader,
            kind=Kind.WEEKLY_SUMMARY,
            dedupe_key=f"weekly_summary:{year}-W{week:02d}:{leader.pk}",
            context={**totals, "opened": opened, "open_critical": open_critical},
            payload={
                "week": f"{year}-W{week:02d}",
                "visits": totals["visits"],
                "violations": totals["violations"],
                "opened": opened,
                "open_critical": open_critical,
                "link": "jawla://analytics",
            },
        )
        created += result is not None
    return created


def notify_visit_returned(*, visit, reason: str, at) -> Notification | None:
    """Tell the inspector a supervisor sent their visit back, and why."""
    establishment = visit.establishment
    language = language_of(visit.inspector)
    return _alert(
        recipient=visit.inspector,
        kind=Kind.VISIT_RETURNED,
        dedupe_key=f"visit_returned:{visit.pk}:{at.isoformat()}",
        payload={"visit_id": visit.pk, "link": f"jawla://visits/{visit.pk}"},
        context={
            "establishment": localized_name(establishment, language),
            "date": timezone.localtime(visit.finished_at).date().isoformat(),
            "reason": reason,
        },
    )
