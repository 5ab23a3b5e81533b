"""Push registration and the in-app inbox. Everything is the caller's own: another user's device
or notification is a 404."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.pagination import paginate

from backend.api_basics import ERRORS, Page
from notifications import services
from notifications.schemas import DeviceIn, DeviceOut, NotificationOut, ReadAllOut
from notifications.selectors import devices_for, notifications_for

router = Router(tags=["notifications"])


@router.post("devices", response={200: DeviceOut, 201: DeviceOut, **ERRORS})
def device_register(request: HttpRequest, payload: DeviceIn):
    """Register this phone's FCM token (201), or re-register it (200): a token registered by another
    user moves to the caller, and a token deactivated after FCM refused it is active again."""
    device, created = services.device_register(user=request.user, token=payload.token, platform=payload.platform)
    return Status(201 if created else 200, DeviceOut.model_validate(device))


@router.delete("devices/{token}", response={204: None, **ERRORS})
def device_unregister(request: HttpRequest, token: str):
    """Forget one of the caller's devices (on logout). Another user's token is a 404, and so is a token
    that has since moved to another user (re-registered there: the phone is theirs now); theirs stays."""
    services.device_unregister(device=get_object_or_404(devices_for(user=request.user), token=token))
    return Status(204, None)


@router.get("notifications", response={200: list[NotificationOut], **ERRORS})
@paginate(Page)
def notifications_list(request: HttpRequest, unread: bool | None = None):
    """The caller's inbox, newest first. `unread=true`: only the unread ones."""
    return notifications_for(user=request.user, unread=unread)


@router.post("notifications/read-all", response={200: ReadAllOut, **ERRORS})
def notifications_read_all(request: HttpRequest):
    """Mark every notification of the caller read; answers how many changed."""
    return ReadAllOut(updated=services.notifications_mark_all_read(user=request.user))


@router.post("notifications/{notification_id}/read", response={200: NotificationOut, **ERRORS})
def notification_read(request: HttpRequest, notification_id: int):
    """Mark one of the caller's notifications read (idempotent). Another user's is a 404."""
    notification = get_object_or_404(notifications_for(user=request.user), pk=notification_id)
    return NotificationOut.model_validate(services.notification_mark_read(notification=notification))
