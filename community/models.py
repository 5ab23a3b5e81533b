"""Community participation: public reports (Open311) de-duplicated into cases, volunteers, the public
code printed on every shop front, and signed webhooks for the municipality's other systems.

Depends on `inspections` one way: a case points at an establishment and, once triaged, at a round
stop; inspections never imports this app. A case's progress (acknowledged, in progress, closed with
the inspection's result) is derived from that stop and its visit when read (selectors/cases.py).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ServiceType(models.Model):
    """A report type offered on Open311 (`services.json`): food hygiene, expired products, ...

    `attributes` lists the GeoReport v2 attribute definitions of `services/{code}.json`.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_ar = models.CharField(_("Arabic name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    description_ar = models.TextField(_("Arabic description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    group = models.CharField(_("group"), max_length=100, blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    attributes = models.JSONField(_("attributes (GeoReport v2)"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("report type")
        verbose_name_plural = _("report types")

    def __str__(self) -> str:
        return self.code


class Volunteer(models.Model):
    """A registered reporter of the municipality's volunteer programme (a user without a membership)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer")
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")

    def __str__(self) -> str:
        return str(self.user)


class Case(models.Model):
    """Public reports of one problem merged together (same type and establishment, or nearby, within a window).

    Stored state is only what a supervisor decided: dismissed (with a reason) or triaged into a round
    stop. Everything after that follows the stop and its visit and is derived when read.
    """

    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="cases")
    establishment = models.ForeignKey(
        "inspections.Establishment", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    municipality = models.ForeignKey("inspections.Municipality", on_delete=models.PROTECT, related_name="cases")
    lat = models.FloatField()
    lon = models.FloatField()
    h3_r9 = models.BigIntegerField(db_index=True)
    description = models.TextField(max_length=4000, blank=True)
    opened_at = models.DateTimeField(db_index=True)
    last_reported_at = models.DateTimeField()
    round_stop = models.ForeignKey(
        "inspections.RoundStop", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    dismissed_reason = models.TextField(blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # Set by the reconciler once the "report.closed" side effects (webhook event) were written.
    closed_announced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["service_type", "establishment", "opened_at"]),
            models.Index(fields=["municipality", "opened_at"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"


def report_photo_path(report: "Report", filename: str) -> str:
    return f"reports/{report.photo_token[:2]}/{report.photo_token}.jpg"


def _photo_token() -> str:
    return secrets.token_hex(16)


class Report(models.Model):
    """One citizen's submission. Contact, device and IP are private: never in a public answer."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="reports")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, null=True, blank=True, related_name="reports")
    # Who reported, for counting reporters: the volunteer, else the device id, else the contact, else the IP.
    reporter_key = models.CharField(max_length=64)
    description = models.TextField(max_length=4000, blank=True)
    lat = models.FloatField()
    lon = models.FloatField()
    attributes = models.JSONField(default=dict, blank=True)
    photo = models.FileField(upload_to=report_photo_path, blank=True)
    photo_token = models.CharField(max_length=32, default=_photo_token, unique=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    # private
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    submitted_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("public report")
        verbose_name_plural = _("public reports")

    def __str__(self) -> str:
        return f"Report {self.pk} (case {self.case_id})"


def _shop_code() -> str:
    # 10 characters of Crockford-like base32 (no 0/O/1/I/L): short enough for a QR of low density.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class ShopCode(models.Model):
    """The stable public code of an establishment, printed as a QR on its shop front."""

    establishment = models.OneToOneField(
        "inspections.Establishment", on_delete=models.CASCADE, related_name="public_code"
    )
    code = models.CharField(max_length=16, unique=True, default=_shop_code)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop code")
        verbose_name_plural = _("shop codes")

    def __str__(self) -> str:
        return self.code


class WebhookSubscription(models.Model):
    """An admin's subscription of another system's URL to event types, signed with its own secret."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text=_('e.g. ["visit.stored", "report.closed"]'))
    secret = models.CharField(max_length=100, help_text=_("whsec_ + base64; the receiver verifies with it"))
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One event, with a stable id (`webhook-id`): derived from what happened, so recording it twice is a no-op."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.CharField(max_length=64, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """The outbox row of one event for one subscription; a replay adds a row with the next `generation`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    generation = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription", "generation"], name="webhook_delivery_unique")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], condition=Q(status="pending"), name="wh_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: every HTTP attempt, its answer and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S} ({self.status_code or self.error})"


class CollectorCursor(models.Model):
    """How far the webhook collector has read a source table (visits, findings) by id."""

    source = models.CharField(max_length=32, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source} @ {self.last_id}"
