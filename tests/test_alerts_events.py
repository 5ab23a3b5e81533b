"""Alerts (inspections/alerts): events write outbox rows in the caller's transaction, in the recipient's
language, once per event."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inspections.alerts import policy as alerts
from inspections.alerts.texts import MESSAGES, Kind, render
from inspections.models import Finding, Membership, Round, RoundStop
from inspections.services.rounds import rounds_day_close
from notifications.models import Delivery, Notification
from tests.factories import (
    ChecklistItemFactory,
    DeviceFactory,
    EstablishmentFactory,
    RoundFactory,
    RoundStopFactory,
    VisitFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


def _arabic(user):
    Membership.objects.filter(user=user).update(language="ar")
    user.refresh_from_db()
    return user


@pytest.fixture
def round_(dammam, inspector):
    round_ = RoundFactory(municipality=dammam, inspector=inspector)
    for _ in range(3):
        RoundStopFactory(round=round_, establishment=EstablishmentFactory(municipality=dammam))
    return round_


def test_round_assigned_is_written_in_english_with_string_payload_and_sent_on_commit(
    round_, inspector, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=inspector)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        alerts.notify_round_assigned(round=round_)
        # Written in the caller's transaction, not sent before it commits.
        assert Notification.objects.get().status == Notification.Status.PENDING
    assert len(callbacks) == 1
    notification = Notification.objects.get()
    assert notification.recipient == inspector
    assert notification.kind == Kind.ROUND_ASSIGNED
    assert notification.title == "New inspection round"
    assert "3 stops" in notification.body and "Dammam" in notification.body
    assert notification.payload["round_id"] == str(round_.pk)
    assert notification.payload["kind"] == "round_assigned"
    assert notification.payload["link"] == f"jawla://rounds/{round_.pk}"
    assert all(isinstance(value, str) for value in notification.payload.values())
    assert notification.status == Notification.Status.SENT  # console backend in tests
    assert Delivery.objects.get().device == device


def test_round_assigned_in_arabic_for_an_arabic_recipient(round_, inspector):
    _arabic(inspector)
    alerts.notify_round_assigned(round=round_)
    notification = Notification.objects.get()
    assert notification.language == "ar"
    assert notification.title == "جولة رقابية جديدة"
    assert "الدمام" in notification.body


def test_rolled_back_cause_leaves_no_notification_and_queues_nothing(round_, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        alerts.notify_round_assigned(round=round_)
        raise RuntimeError("the round service failed after notifying")
    assert Notification.objects.count() == 0
    assert callbacks == []


def test_an_event_run_twice_notifies_once(round_):
    alerts.notify_round_assigned(round=round_)
    alerts.notify_round_assigned(round=round_)
    alerts.notify_round_cancelled(round=round_)
    alerts.notify_round_cancelled(round=round_)
    assert Notification.objects.filter(kind=Kind.ROUND_ASSIGNED).count() == 1
    assert Notification.objects.filter(kind=Kind.ROUND_CANCELLED).count() == 1


def test_reassignment_tells_the_new_and_the_previous_inspector(round_, inspector, dammam):
    newcomer = make_user(Membership.Role.INSPECTOR, dammam, username="newcomer")
    round_.inspector = newcomer
    round_.save()
    alerts.notify_round_changed(round=round_, previous_inspector=inspector, changes={"inspector": [1, 2]})
    alerts.notify_round_changed(round=round_, previous_inspector=inspector, changes={"inspector": [1, 2]})
    assert Notification.objects.get(recipient=newcomer).kind == Kind.ROUND_ASSIGNED
    previous = Notification.objects.get(recipient=inspector)
    assert previous.kind == Kind.ROUND_CHANGED
    assert previous.payload["change"] == "unassigned"
    assert "another inspector" in previous.body


def test_a_change_then_another_change_notifies_twice(round_, inspector):
    alerts.notify_round_changed(round=round_, changes={"date": ["2026-01-01", "2026-01-02"]})
    alerts.notify_round_changed(round=round_, changes={"date": ["2026-01-01", "2026-01-02"]})
    assert Notification.objects.filter(kind=Kind.ROUND_CHANGED).count() == 1
    round_.notes = "later"
    round_.save()
    alerts.notify_round_changed(round=round_, changes={"notes": ["", "later"]})
    changed = Notification.objects.filter(kind=Kind.ROUND_CHANGED).order_by("pk")
    assert changed.count() == 2
    assert "(notes)" in changed.last().body


def test_change_words_name_what_the_rounds_service_changed(round_, inspector):
    _arabic(inspector)
    alerts.notify_round_changed(
        round=round_, changes={"stops_added": [7], "reordered": [3, 1], "optimized": True, "follow_up_added": [9]}
    )
    body = Notification.objects.get().body
    assert "إضافة منشآت، ترتيب المسار، إضافة زيارة متابعة" in body


def _critical_finding(dammam, inspector):
    item = ChecklistItemFactory(severity="critical", text_en="Food stored below 5 °C", text_ar="حفظ الأغذية")
    visit = VisitFactory(establishment=EstablishmentFactory(municipality=dammam), inspector=inspector)
    answer = visit.answers.create(item=item, item_code=item.code, value="no", failed=True)
    return Finding.objects.create(
        visit=visit,
        answer=answer,
        establishment=visit.establishment,
        municipality=dammam,
        item_code=item.code,
        severity="critical",
        due_date=timezone.localdate() + timedelta(days=1),
        opened_at=timezone.now(),
    )


def test_critical_finding_reaches_every_supervisor_of_the_municipality_and_only_them(
    dammam, khobar, amanah, inspector, supervisor, supervisor_khobar
):
    amanah_supervisor = make_user(Membership.Role.SUPERVISOR, username="sup_amanah", amanah=amanah)
    _arabic(amanah_supervisor)
    finding = _critical_finding(dammam, inspector)
    alerts.notify_critical_finding(finding=finding)
    alerts.notify_critical_finding(finding=finding)
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"sup_dammam", "sup_amanah"}
    english = Notification.objects.get(recipient=supervisor)
    assert english.kind == Kind.CRITICAL_FINDING
    assert "Food stored below 5 °C" in english.body
    assert english.payload["finding_id"] == str(finding.pk)
    assert Notification.objects.get(recipient=amanah_supervisor).title == "مخالفة حرجة"


def test_morning_reminder_once_per_round_and_day(round_, inspector, dammam):
    RoundFactory(municipality=dammam, inspector=inspector, status=Round.Status.CANCELLED)
    RoundFactory(municipality=dammam, inspector=inspector, date=timezone.localdate() + timedelta(days=1))
    assert alerts.alerts_remind_rounds(day=timezone.localdate()) == 1
    assert alerts.alerts_remind_rounds(day=timezone.localdate()) == 0
    reminder = Notification.objects.get(kind=Kind.ROUND_REMINDER)
    assert reminder.recipient == inspector
    assert "3 stops are waiting" in reminder.body


def test_end_of_day_tells_the_supervisor_about_open_stops(round_, supervisor, supervisor_khobar):
    first = round_.stops.order_by("position").first()
    RoundStop.objects.filter(pk=first.pk).update(status=RoundStop.Status.VISITED)
    assert rounds_day_close(day=timezone.localdate()) == 1
    assert rounds_day_close(day=timezone.localdate()) == 0
    alert = Notification.objects.get(kind=Kind.STOPS_OPEN)
    assert alert.recipient == supervisor
    assert "2 of 3 stops open" in alert.body
    assert alert.payload["open_stops"] == "2"


def test_follow_ups_due_grouped_per_inspector(dammam, inspector):
    finding = _critical_finding(dammam, inspector)
    Finding.objects.filter(pk=finding.pk).update(due_date=timezone.localdate())
    assert alerts.alerts_follow_ups_due(day=timezone.localdate()) == 1
    assert alerts.alerts_follow_ups_due(day=timezone.localdate()) == 0
    due = Notification.objects.get(kind=Kind.FOLLOW_UP_DUE)
    assert due.recipient == inspector
    assert due.payload["finding_ids"] == str(finding.pk)


def test_weekly_summary_to_leadership_counts_their_scope(dammam, inspector, leader, supervisor):
    VisitFactory.create_batch(2, establishment=EstablishmentFactory(municipality=dammam), outcome="violations")
    VisitFactory(establishment=EstablishmentFactory(municipality=dammam))
    assert alerts.alerts_weekly_summary(day=timezone.localdate()) == 1
    assert alerts.alerts_weekly_summary(day=timezone.localdate()) == 0
    summary = Notification.objects.get(kind=Kind.WEEKLY_SUMMARY)
    assert summary.recipient == leader
    assert summary.payload["visits"] == "3" and summary.payload["violations"] == "2"
    assert "3 visits, 2 with violations" in summary.body


def test_inactive_recipient_gets_nothing(round_, inspector):
    inspector.is_active = False
    inspector.save()
    alerts.notify_round_assigned(round=round_)
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_every_push_text_has_its_arabic(message):
    """An Arabic-speaking inspector never gets an English push (each title and body is translated)."""
    context = {name: "X" for name in ("date", "municipality", "stops", "changes", "inspector", "open")}
    context |= {name: "X" for name in ("establishment", "item", "times", "count", "reason", "visits")}
    context |= {name: "X" for name in ("violations", "opened", "open_critical")}
    arabic, english = render(message, "ar", **context), render(message, "en", **context)
    assert arabic.title != english.title and arabic.body != english.body, arabic
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic.title + arabic.body)
