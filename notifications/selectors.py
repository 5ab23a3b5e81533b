"""Reads of the notifications app: a user only ever sees their own devices and notifications."""

from django.db.models import QuerySet

from notifications.models import Device, Notification


def notifications_for(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    """The caller's inbox, newest first; `unread=True` only unread, `False` only read."""
    notifications = Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")
    if unread is True:
        notifications = notifications.filter(read_at__isnull=True)
    elif unread is False:
        notifications = notifications.filter(read_at__isnull=False)
    return notifications


def devices_for(*, user) -> QuerySet[Device]:
    return Device.objects.filter(user_id=user.pk)
