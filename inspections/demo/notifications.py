"""Demo data: notifications (part of `manage.py seed_demo`). Idempotent: a second run adds nothing.

The earlier parts already wrote notification rows through the real events (round assignments,
critical findings). This part runs today's scheduled jobs once, as beat would (morning reminder,
follow-ups due, the weekly summary for leadership), and gives every demo user a demo phone so the
console push backend shows each message being "sent" in the worker's log. Dispatch is queued on
commit; the worker started by `make run` sends them.
"""

import secrets

from django.contrib.auth import get_user_model

from inspections.alerts.policy import alerts_follow_ups_due, alerts_remind_rounds, alerts_weekly_summary
from inspections.demo.records import demo_only
from inspections.domain.calendar import riyadh_today
from notifications.models import Device, Notification

User = get_user_model()


def seed(*, stdout=None) -> None:
    today = riyadh_today()
    demo_users = demo_only(User.objects.all())
    for user in demo_users.filter(is_active=True, membership__isnull=False).order_by("pk"):
        # Random, like a real FCM token: a guessable one could be registered by anyone (POST devices moves a
        # token to whoever registers it) to read another user's alerts on the demo.
        if not Device.objects.filter(user=user).exists():
            Device.objects.create(
                user=user, token=f"demo-{secrets.token_urlsafe(32)}", platform=Device.Platform.ANDROID
            )
    if User.objects.filter(is_active=True).exclude(pk__in=demo_users.values("pk")).exists():
        # The scheduled jobs notify everyone they concern: with real users here, leave them to beat.
        if stdout is not None:
            stdout.write("  scheduled notifications left to beat: this database also has users the demo did not create")
        return
    reminders = alerts_remind_rounds(day=today)
    follow_ups = alerts_follow_ups_due(day=today)
    summaries = alerts_weekly_summary(day=today)
    if stdout is not None:
        stdout.write(
            f"  {reminders} morning reminders, {follow_ups} follow-up alerts, {summaries} weekly summaries; "
            f"{Notification.objects.count()} notifications in the inboxes"
        )
