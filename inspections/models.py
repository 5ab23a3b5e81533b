"""Jawla's domain: municipalities, memberships, establishments, checklists, rounds, visits,
findings, photos and the audit trail.

Models hold fields, constraints and indexes; the rules live in `inspections.services`.

Why one module over 500 lines: these models reference each other in both directions (a visit, its
round stop, its findings and their follow-up stops), and Django's migrations state and the admin
read them as one app; split into a package they would only be re-imported here again.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A municipality's classes (Municipality.municipality_class): the penalty table scales fines by them,
# and indicator targets may be set per class (analytics.IndicatorTarget).
MUNICIPALITY_CLASSES = "ABCDE"


class Municipality(models.Model):
    """An Amanah (regional municipality) or one of its sub-municipalities (baladiya).

    `boundary` is a GeoJSON geometry (Polygon or MultiPolygon, lon/lat order), already
    repaired with shapely's make_valid when it was imported.
    """

    class Kind(models.TextChoices):
        AMANAH = "amanah", _("Amanah")
        BALADIYA = "baladiya", _("Municipality")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_ar = models.CharField(_("Arabic name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BALADIYA)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("Amanah")
    )
    boundary = models.JSONField(_("boundary (GeoJSON geometry)"), null=True, blank=True)
    boundary_is_demo = models.BooleanField(
        _("demo boundary"), default=False, help_text=_("Derived from the city centre for the demo, not official.")
    )
    boundary_repaired = models.BooleanField(_("boundary was repaired on import"), default=False)
    centre_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    centre_lon = models.FloatField(_("centre longitude"), null=True, blank=True)
    # The class the penalty table scales fines by (the enforcement app reads it; A pays the full amount).
    municipality_class = models.CharField(
        _("municipality class"), max_length=1, choices=[(c, c) for c in MUNICIPALITY_CLASSES], default="A"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.name_en} / {self.name_ar}"


class Membership(models.Model):
    """A user's role and scope: one or more municipalities, or the whole Amanah (`amanah` set)."""

    class Role(models.TextChoices):
        INSPECTOR = "inspector", _("Inspector")
        SUPERVISOR = "supervisor", _("Supervisor")
        LEADERSHIP = "leadership", _("Leadership")
        ADMIN = "admin", _("Admin")

    class Language(models.TextChoices):
        AR = "ar", _("Arabic")
        EN = "en", _("English")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    amanah = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amanah_members",
        verbose_name=_("whole Amanah"),
        help_text=_("Set for a scope over the whole Amanah and every municipality in it."),
        limit_choices_to={"kind": Municipality.Kind.AMANAH},
    )
    municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="members", verbose_name=_("municipalities")
    )
    # The ministry's national leadership: every Amanah and every municipality, read-only (leadership only).
    national = models.BooleanField(
        _("national (ministry)"),
        default=False,
        db_default=False,
        help_text=_("Ministry leadership: sees every Amanah and its municipalities, read-only. Leadership only."),
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.AR)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(national=False) | Q(role="leadership"), name="membership_national_leadership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    def clean(self) -> None:
        super().clean()
        if self.national and self.role != self.Role.LEADERSHIP:
            raise ValidationError({"national": _("Only leadership can have the national (ministry) scope.")})


class Category(models.Model):
    """A kind of establishment (grocery, restaurant, bakery, ...); checklists apply to categories."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_ar = models.CharField(_("Arabic name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name_en


class Establishment(models.Model):
    """A shop, market, restaurant or other point of sale (منشأة).

    `municipality` is found by point-in-polygon unless `municipality_overridden`.
    The h3_r* columns are the H3 cells of (lat, lon), stored at write time as integers.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    name_ar = models.CharField(_("Arabic name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="establishments")
    licence_no = models.CharField(_("licence / CR number"), max_length=64, unique=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="establishments")
    municipality_overridden = models.BooleanField(_("municipality set by hand"), default=False)

    class SizeClass(models.TextChoices):
        LARGE = "large", _("Large")
        MEDIUM = "medium", _("Medium")
        SMALL = "small", _("Small")
        MICRO = "micro", _("Micro")

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The penalty table scales fines by size (100% large ... 25% micro); unknown counts as large.
    size_class = models.CharField(_("size class"), max_length=8, choices=SizeClass.choices, default=SizeClass.LARGE)
    risk_score = models.FloatField(_("risk score"), default=0.0)
    h3_r5 = models.BigIntegerField(db_index=False)
    h3_r6 = models.BigIntegerField(db_index=False)
    h3_r7 = models.BigIntegerField(db_index=True)
    h3_r8 = models.BigIntegerField(db_index=False)
    h3_r9 = models.BigIntegerField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("establishment")
        verbose_name_plural = _("establishments")
        indexes = [models.Index(fields=["municipality", "category"])]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="establishment_lat_range"),
            models.CheckConstraint(condition=Q(lon__gte=-180, lon__lte=180), name="establishment_lon_range"),
        ]

    def __str__(self) -> str:
        return f"{self.name_ar} ({self.licence_no})"


class Checklist(models.Model):
    """A checklist template; what inspectors answer lives in its immutable published versions."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name_ar = models.CharField(_("Arabic name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    description_ar = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="checklists")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")

    def __str__(self) -> str:
        return self.name_en


class ChecklistVersion(models.Model):
    """One version of a checklist. Once published it never changes; a new draft replaces it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checklist", "-number"]
        verbose_name = _("checklist version")
        verbose_name_plural = _("checklist versions")
        constraints = [
            models.UniqueConstraint(fields=["checklist", "number"], name="checklist_version_number_unique"),
            models.UniqueConstraint(
                fields=["checklist"], condition=Q(status="published"), name="one_published_version_per_checklist"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.checklist.code} v{self.number} ({self.status})"


class ChecklistItem(models.Model):
    """One question of a checklist version, identified across versions by its stable `code`.

    Failing answers: yes/no/na fails on "no"; number fails outside [min_value, max_value];
    choice fails on any value in `failing_choices`.
    """

    class AnswerType(models.TextChoices):
        YES_NO_NA = "yes_no_na", _("Yes / No / N/A")
        NUMBER = "number", _("Number")
        CHOICE = "choice", _("Choice")

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        MAJOR = "major", _("Major")
        CRITICAL = "critical", _("Critical")

    version = models.ForeignKey(ChecklistVersion, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=64)
    position = models.PositiveIntegerField(default=0)
    text_ar = models.TextField(_("Arabic text"))
    text_en = models.TextField(_("English text"))
    answer_type = models.CharField(max_length=16, choices=AnswerType.choices, default=AnswerType.YES_NO_NA)
    choices = models.JSONField(default=list, blank=True, help_text=_("For choice items: the allowed values."))
    failing_choices = models.JSONField(default=list, blank=True)
    choice_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'For choice items: each value\'s label in Arabic and English, {"good": {"ar": "جيد", "en": "Good"}}.'
        ),
    )
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MINOR)
    fine_sar = models.DecimalField(_("fine (SAR)"), max_digits=10, decimal_places=2, default=0)
    photo_required_on_fail = models.BooleanField(default=False)
    required = models.BooleanField(default=True)
    # A code of the violation catalogue (enforcement app); a plain code, so inspections needs nothing of it.
    violation_code = models.CharField(_("violation code"), max_length=32, blank=True)
    categories = models.ManyToManyField(
        Category, blank=True, related_name="checklist_items", help_text=_("Empty: applies to every category.")
    )

    class Meta:
        ordering = ["version", "position", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="checklist_item_code_unique")]

    def __str__(self) -> str:
        return f"{self.code}: {self.text_en}"


class Round(models.Model):
    """An inspection round (جولة رقابية): one inspector, one day, ordered stops."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        PARTLY_DONE = "partly_done", _("Partly done")
        CANCELLED = "cancelled", _("Cancelled")

    date = models.DateField(_("date"))
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="rounds")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rounds")
    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, related_name="rounds")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    route_optimized = models.BooleanField(default=False)
    tour_length_m = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="rounds_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)  # the delta-sync cursor
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # A drafted week's round: invisible to the inspector (me/rounds, reminders) until its plan is published.
    plan = models.ForeignKey("WeekPlan", on_delete=models.SET_NULL, null=True, blank=True, related_name="rounds")
    is_draft = models.BooleanField(default=False)

    class Meta:
        ordering = ["-date", "id"]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        indexes = [models.Index(fields=["inspector", "updated_at"]), models.Index(fields=["municipality", "date"])]

    def __str__(self) -> str:
        return f"Round {self.pk} {self.date} ({self.status})"


class RoundStop(models.Model):
    """One establishment to visit in a round, in route order. A follow-up stop re-checks findings."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        VISITED = "visited", _("Visited")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="stops")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="round_stops")
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_follow_up = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round", "position"]
        verbose_name = _("round stop")
        verbose_name_plural = _("round stops")

    def __str__(self) -> str:
        return f"Stop {self.position} of round {self.round_id}"


class Visit(models.Model):
    """A submitted inspection visit. Never edited in place: corrections are VisitAmendments.

    `client_id` is the phone's idempotency key. `municipality`, `category` and the h3_r*
    cells are copied from the establishment when the visit is stored so that analytics read
    one table through a covering index.
    """

    class Outcome(models.TextChoices):
        COMPLIANT = "compliant", _("Compliant")
        VIOLATIONS = "violations", _("Violations")
        CLOSED = "closed", _("Closed")
        REFUSED_ENTRY = "refused_entry", _("Refused entry")

    class GeoStatus(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        OUT_OF_RANGE = "out_of_range", _("Out of range")
        LOW_ACCURACY = "low_accuracy", _("Low accuracy")
        NO_FIX = "no_fix", _("No fix")

    client_id = models.UUIDField(unique=True)
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="visits")
    round_stop = models.ForeignKey(RoundStop, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    checklist_version = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="visits")
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="visits")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="visits")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()  # device clock
    received_at = models.DateTimeField()  # server clock
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    notes = models.TextField(blank=True)
    geo_status = models.CharField(max_length=16, choices=GeoStatus.choices)
    geo_distance_m = models.FloatField(null=True, blank=True)
    impossible_travel = models.BooleanField(default=False)
    has_violation = models.BooleanField(default=False)
    violation_count = models.PositiveIntegerField(default=0)
    h3_r5 = models.BigIntegerField()
    h3_r6 = models.BigIntegerField()
    h3_r7 = models.BigIntegerField()
    h3_r8 = models.BigIntegerField()
    h3_r9 = models.BigIntegerField()
    # SHA-256 of the visit as the phone sent it (canonical JSON of the parsed payload): a replay of the
    # client_id with other content is answered `duplicate` with payload_differed. Empty before 0004.
    payload_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    class Meta:
        ordering = ["-finished_at", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            # Covering index for the rates and heatmap: an index-only scan over a date range.
            models.Index(
                fields=["finished_at", "municipality", "category", "h3_r7", "has_violation"], name="visit_analytics_idx"
            ),
            models.Index(fields=["municipality", "finished_at"], name="visit_muni_time_idx"),
            models.Index(fields=["inspector", "finished_at"], name="visit_inspector_time_idx"),
            models.Index(fields=["establishment", "finished_at"], name="visit_establishment_time_idx"),
        ]

    def __str__(self) -> str:
        return f"Visit {self.pk} ({self.outcome})"


class Answer(models.Model):
    """One answer of a visit to one checklist item. `failed` is decided when the visit is stored."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="answers")
    item_code = models.CharField(max_length=64)
    value = models.JSONField(null=True)
    failed = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["visit", "id"]
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="answer_one_per_item")]
        indexes = [models.Index(fields=["item_code", "failed"])]

    def __str__(self) -> str:
        return f"{self.item_code}={self.value}"


class Finding(models.Model):
    """A violation opened by a failed item; closed by a later visit that passes the same item."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="findings")
    answer = models.OneToOneField(Answer, on_delete=models.PROTECT, related_name="finding")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="findings")
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="findings")
    item_code = models.CharField(max_length=64)
    severity = models.CharField(max_length=16, choices=ChecklistItem.Severity.choices)
    fine_sar = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    due_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="closed_findings"
    )
    follow_up_stop = models.ForeignKey(
        RoundStop, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_up_findings"
    )
    # A later visit that fails the same item while the finding is open does not open a second one:
    # it is counted here, and the latest such visit kept (a repeated critical failure alerts).
    repeat_count = models.PositiveIntegerField(default=0, db_default=0)
    last_seen_visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="repeated_findings"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        indexes = [
            models.Index(fields=["establishment", "item_code", "status"]),
            models.Index(fields=["municipality", "status", "due_date"]),
        ]

    def __str__(self) -> str:
        return f"Finding {self.pk} {self.item_code} ({self.status})"


def photo_upload_path(photo: "Photo", filename: str) -> str:
    return f"photos/{photo.client_id.hex[:2]}/{photo.client_id.hex}.jpg"


def thumbnail_upload_path(photo: "Photo", filename: str) -> str:
    return f"photos/{photo.client_id.hex[:2]}/{photo.client_id.hex}_thumb.jpg"


class Photo(models.Model):
    """A visit photo, re-encoded without EXIF; the EXIF GPS and capture time are kept here as evidence."""

    client_id = models.UUIDField(unique=True)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="photos")
    answer = models.ForeignKey(Answer, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=photo_upload_path)
    thumbnail = models.FileField(upload_to=thumbnail_upload_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    exif_lat = models.FloatField(null=True, blank=True)
    exif_lon = models.FloatField(null=True, blank=True)
    exif_taken_at = models.DateTimeField(null=True, blank=True)
    exif_distance_m = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["visit", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"Photo {self.client_id}"


class VisitAmendment(models.Model):
    """A supervisor's correction of a stored visit: who, when, why and what (the visit itself is untouched)."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="amendments")
    reason = models.TextField()
    changes = models.JSONField(help_text=_('{"field": {"from": ..., "to": ...}} or answer changes by item code'))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["visit", "created_at"]
        verbose_name = _("visit amendment")
        verbose_name_plural = _("visit amendments")

    def __str__(self) -> str:
        return f"Amendment of visit {self.visit_id} by {self.author_id}"


class FollowUpPending(models.Model):
    """A follow-up visit still to be placed in a round (issue 16: ingest at plain-SQL speed).

    The visit sync writes one row per establishment in its own transaction, so a follow-up is never
    lost; a task queued on commit places it (rounds.follow_ups.follow_ups_place_pending), and the
    periodic sweeper places any row the task did not (a crash between commit and task, a broker
    outage). Placing deletes the row and points the visits' findings to the stop."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="+")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField()
    visit_ids = models.JSONField(default=list)  # the visits whose open findings the stop re-checks
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"follow-up of establishment {self.establishment_id} due {self.due_date}"


class RiskPending(models.Model):
    """An establishment whose stored risk score waits for a recompute (settings.RISK_DEFERRED): the
    visit sync that changed its findings writes the row in its own transaction, and
    `establishments_risk_flush` (the Celery task inspections.risk_flush, every 5 s: backend/schedules.py)
    recomputes many at once and deletes their rows. A plain id, not a foreign key: an establishment
    deleted meanwhile just loses its row at the next flush. See inspections/services/findings.py."""

    establishment_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"risk of establishment {self.establishment_id} to recompute"


class AuditEvent(models.Model):
    """An append-only trail: rounds created and changed, visits received, amendments, findings closed."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=64)  # e.g. "round.created", "visit.received", "finding.closed"
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    municipality = models.ForeignKey(Municipality, on_delete=models.SET_NULL, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # "which rounds were reassigned away since the cursor" on every delta sync
            models.Index(fields=["action", "at"], name="auditevent_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class RefreshToken(models.Model):
    """One refresh token, by the `jti` its JWT carries. A sign-in starts a family; each use rotates the
    token (this row marked used, a successor issued in the same family). Presenting a used token again
    means a copy is in someone else's hands: the whole family is revoked (reuse detection). A family is
    also revoked by logout and, when next presented, after a password change (`auth_hash` differs), a
    deactivation or the removal of the user's membership."""

    class Reason(models.TextChoices):
        LOGOUT = "logout", _("signed out")
        REUSED = "reused", _("a used token was presented again")
        PASSWORD_CHANGED = "password_changed", _("password changed")
        DEACTIVATED = "deactivated", _("user deactivated")
        MEMBERSHIP_REMOVED = "membership_removed", _("membership removed")

    jti = models.UUIDField(unique=True)
    family = models.UUIDField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens")
    is_sign_in = models.BooleanField(default=False, help_text=_("The first token of a family (a password sign-in)."))
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    auth_hash = models.CharField(max_length=128)  # the user's session auth hash at issue: changes with the password
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")
        indexes = [
            # sign-ins per user and per client in the issuance window (POST auth/token's rate limit)
            models.Index(fields=["user", "created_at"], name="refreshtoken_user_created"),
            models.Index(fields=["client_ip", "created_at"], name="refreshtoken_ip_created"),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.jti} of user {self.user_id}"


class DemoRecord(models.Model):
    """A row that the demo seed (`manage.py seed_demo`) created.

    The seed writes only into an empty database or one that holds these records, and reads and
    changes only the users, municipalities, categories, establishments and checklists listed here: a
    real register imported beside the demo is never visited, planned or notified by it.
    """

    class Kind(models.TextChoices):
        USER = "user", _("user")
        MUNICIPALITY = "municipality", _("municipality")
        CATEGORY = "category", _("category")
        ESTABLISHMENT = "establishment", _("establishment")
        CHECKLIST = "checklist", _("checklist")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("demo record")
        verbose_name_plural = _("demo records")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="demorecord_once")]

    def __str__(self) -> str:
        return f"demo {self.kind} {self.object_id}"


class PlanSettings(models.Model):
    """How a municipality's weeks are planned: inspection frequency per risk class, the risk
    thresholds of the classes, an inspector's daily capacity, and whether Celery drafts the week."""

    municipality = models.OneToOneField(Municipality, on_delete=models.CASCADE, related_name="plan_settings")
    high_every_months = models.PositiveSmallIntegerField(default=3)
    medium_every_months = models.PositiveSmallIntegerField(default=6)
    low_every_months = models.PositiveSmallIntegerField(default=12)
    new_licence_days = models.PositiveSmallIntegerField(default=30)
    high_threshold = models.FloatField(default=60.0, help_text=_("Risk score at or above which a shop is high risk."))
    medium_threshold = models.FloatField(default=30.0)
    daily_capacity = models.PositiveSmallIntegerField(default=12)
    weekly_auto = models.BooleanField(_("draft next week automatically"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan settings")
        verbose_name_plural = _("plan settings")
        constraints = [
            models.CheckConstraint(condition=Q(daily_capacity__gte=1), name="plan_settings_capacity_positive"),
            models.CheckConstraint(
                condition=Q(medium_threshold__lte=models.F("high_threshold")), name="plan_thresholds"
            ),
        ]

    def __str__(self) -> str:
        return f"Plan settings of {self.municipality_id}"


class WeekPlan(models.Model):
    """A working week's rounds (Sunday to Thursday, Asia/Riyadh) for one municipality.

    Drafted by the planner, reviewed and edited by a supervisor, then published: only then do
    its rounds reach the inspectors' phones (`Round.is_draft`)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        DISCARDED = "discarded", _("Discarded")

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="week_plans")
    week_start = models.DateField(_("week start (Sunday)"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="week_plans"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start", "-id"]
        verbose_name = _("week plan")
        verbose_name_plural = _("week plans")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "week_start"],
                condition=~Q(status="discarded"),
                name="one_live_week_plan_per_week",
            )
        ]

    def __str__(self) -> str:
        return f"Week of {self.week_start} ({self.status})"


class RecurringVisit(models.Model):
    """A shop to visit every N weeks from a start week, whatever its risk (a market, a school canteen)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="recurring_visits")
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="recurring_visits")
    every_weeks = models.PositiveSmallIntegerField()
    start_week = models.DateField()
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="recurring_visits"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["establishment"], name="one_recurrence_per_establishment"),
            models.CheckConstraint(condition=Q(every_weeks__gte=1, every_weeks__lte=52), name="recurring_every_range"),
        ]

    def __str__(self) -> str:
        return f"{self.establishment_id} every {self.every_weeks} weeks"


class VisitReview(models.Model):
    """A supervisor's decision on a flagged visit: accepted, corrected (an amendment), or returned
    to the inspector with a reason; the inspector's answer to a return is an amendment too."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        CORRECTED = "corrected", _("Corrected")
        RETURNED = "returned", _("Returned to the inspector")
        ANSWERED = "answered", _("Answered by the inspector")

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="review")
    status = models.CharField(max_length=16, choices=Status.choices)
    flags = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    amendment = models.ForeignKey(VisitAmendment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.ForeignKey(VisitAmendment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("visit review")
        verbose_name_plural = _("visit reviews")

    def __str__(self) -> str:
        return f"Review of visit {self.visit_id} ({self.status})"


class HistoryImport(models.Model):
    """One upload of past inspections (a CSV file): validated whole first, then written in one
    transaction by a task. `processed`/`total` drive the progress bar; `report` is the per-row report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rows = models.JSONField(default=list, blank=True, help_text=_("The validated rows, until they are written."))
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("history import")
        verbose_name_plural = _("history imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class ImportedVisit(models.Model):
    """Provenance of a visit imported from history: which file, which row, who imported it and when.
    `key` (the file's SHA-256 and the row number) makes a re-import of the same file a no-op."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="imported")
    history_import = models.ForeignKey(HistoryImport, on_delete=models.PROTECT, related_name="visits")
    key = models.CharField(max_length=80, unique=True)
    source_file = models.CharField(max_length=255)
    row_number = models.PositiveIntegerField()
    inspector_name = models.CharField(max_length=150)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField()

    class Meta:
        verbose_name = _("imported visit")
        verbose_name_plural = _("imported visits")

    def __str__(self) -> str:
        return f"{self.source_file}:{self.row_number} → visit {self.visit_id}"
