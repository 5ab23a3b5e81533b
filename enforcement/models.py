"""Enforcement: the violation catalogue, penalty notices, objections, the evidence chain, the
owner's acknowledgement and signed visit reports.

This app reads `inspections` (visits, findings, establishments); `inspections` knows nothing of
it (checklist items carry a plain `violation_code`). Rules live in `enforcement.services`.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ViolationType(models.Model):
    """One row of the penalty table: what the violation is, under which article, and how it is fined.

    The amount of a notice starts from `fine_max_sar` (the table's amount for a large establishment
    in a class A municipality), scaled by class, size and the repeat step, and never above `cap_sar`.
    """

    class Grade(models.TextChoices):
        SERIOUS = "serious", _("Serious")
        NOT_SERIOUS = "not_serious", _("Not serious")

    code = models.CharField(_("code"), max_length=32, unique=True)
    article = models.CharField(_("article / legal basis"), max_length=200)
    text_ar = models.TextField(_("Arabic text"))
    text_en = models.TextField(_("English text"))
    grade = models.CharField(_("grade"), max_length=16, choices=Grade.choices)
    fine_min_sar = models.DecimalField(_("minimum fine (SAR)"), max_digits=12, decimal_places=2)
    fine_max_sar = models.DecimalField(_("maximum fine (SAR)"), max_digits=12, decimal_places=2)
    grace_days = models.PositiveIntegerField(_("grace period (days)"), default=0)
    repeat_multiplier = models.DecimalField(_("repeat multiplier"), max_digits=6, decimal_places=3, default=2)
    repeat_min_days = models.PositiveIntegerField(_("minimum days between penalties"), default=14)
    repeat_window_days = models.PositiveIntegerField(_("repeat window (days)"), default=365)
    cap_sar = models.DecimalField(_("cap of one notice (SAR)"), max_digits=12, decimal_places=2)
    closure_days = models.PositiveIntegerField(_("closure (days)"), default=0)
    licence_suspension_days = models.PositiveIntegerField(_("licence suspension (days)"), default=0)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("Where the row came from, e.g. 'SAMPLE (demo)' or the official table.")
    )
    is_sample = models.BooleanField(_("sample row (not official)"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("violation type")
        verbose_name_plural = _("violation catalogue")
        constraints = [
            models.CheckConstraint(
                condition=Q(fine_min_sar__lte=models.F("fine_max_sar")), name="violation_fine_range"
            ),
            models.CheckConstraint(condition=Q(fine_max_sar__lte=models.F("cap_sar")), name="violation_cap_above_max"),
            models.CheckConstraint(condition=Q(repeat_multiplier__gte=1), name="violation_multiplier_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text_en}"


class FindingAssessment(models.Model):
    """What enforcement decided about one finding: a notice, corrected in its grace period, or not
    counted (a repeat inside the minimum interval of the last penalty)."""

    class Result(models.TextChoices):
        PENALISED = "penalised", _("Penalty notice issued")
        CORRECTED = "corrected", _("Corrected within the grace period")
        NOT_COUNTED = "not_counted", _("Inside the minimum interval: not counted again")

    finding = models.OneToOneField("inspections.Finding", on_delete=models.PROTECT, related_name="assessment")
    violation = models.ForeignKey(ViolationType, on_delete=models.PROTECT, related_name="assessments")
    result = models.CharField(max_length=16, choices=Result.choices)
    notice = models.ForeignKey(
        "PenaltyNotice", on_delete=models.PROTECT, null=True, blank=True, related_name="assessments"
    )
    explanation = models.TextField(blank=True)
    assessed_at = models.DateTimeField()

    class Meta:
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        return f"Assessment of finding {self.finding_id}: {self.result}"


class PenaltyNotice(models.Model):
    """A penalty notice: its number, legal basis and every factor of its amount (Decimal throughout).

    `original_amount_sar` is what was computed; `amount_sar` is what is owed now (an objection
    decision may reduce or cancel it).
    """

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        OBJECTED = "objected", _("Under objection")
        UPHELD = "upheld", _("Upheld after objection")
        REDUCED = "reduced", _("Reduced after objection")
        CANCELLED = "cancelled", _("Cancelled after objection")

    class Reason(models.TextChoices):
        SERIOUS = "serious", _("Serious violation: penalised at once")
        GRACE_LAPSED = "grace_lapsed", _("Grace period lapsed uncorrected")

    number = models.CharField(_("notice number"), max_length=40, unique=True)
    finding = models.OneToOneField("inspections.Finding", on_delete=models.PROTECT, related_name="penalty_notice")
    visit = models.ForeignKey("inspections.Visit", on_delete=models.PROTECT, related_name="penalty_notices")
    establishment = models.ForeignKey(
        "inspections.Establishment", on_delete=models.PROTECT, related_name="penalty_notices"
    )
    municipality = models.ForeignKey(
        "inspections.Municipality", on_delete=models.PROTECT, related_name="penalty_notices"
    )
    violation = models.ForeignKey(ViolationType, on_delete=models.PROTECT, related_name="notices")
    legal_basis = models.CharField(max_length=200)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    base_sar = models.DecimalField(max_digits=12, decimal_places=2)
    class_factor = models.DecimalField(max_digits=5, decimal_places=3)
    size_factor = models.DecimalField(max_digits=5, decimal_places=3)
    repeat_step = models.PositiveIntegerField(default=1)
    repeat_factor = models.DecimalField(max_digits=10, decimal_places=3, default=1)
    capped = models.BooleanField(default=False)
    factors = models.JSONField(help_text=_("Every factor of the amount, as shown to the owner."))
    original_amount_sar = models.DecimalField(max_digits=12, decimal_places=2)
    amount_sar = models.DecimalField(max_digits=12, decimal_places=2)
    previous_notice = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeats")
    closure_days = models.PositiveIntegerField(default=0)
    licence_suspension_days = models.PositiveIntegerField(default=0)
    offence_at = models.DateTimeField(help_text=_("When the violation was recorded (the visit's finish)."))
    issued_at = models.DateTimeField()
    due_date = models.DateField(_("payment due"))
    objection_deadline = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("penalty notice")
        verbose_name_plural = _("penalty notices")
        indexes = [models.Index(fields=["establishment", "violation", "offence_at"])]
        constraints = [models.CheckConstraint(condition=Q(amount_sar__gte=0), name="notice_amount_not_negative")]

    def __str__(self) -> str:
        return f"{self.number} ({self.amount_sar} SAR, {self.status})"


class Objection(models.Model):
    """An owner's objection to a notice, filed on the public page or by staff on the owner's behalf,
    and decided by a supervisor who had no part in the inspection."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        DECIDED = "decided", _("Decided")

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Penalty upheld")
        REDUCED = "reduced", _("Penalty reduced")
        CANCELLED = "cancelled", _("Penalty cancelled")

    notice = models.OneToOneField(PenaltyNotice, on_delete=models.PROTECT, related_name="objection")
    owner_name = models.CharField(max_length=200)
    owner_contact = models.CharField(max_length=200, blank=True)
    reasons = models.TextField()
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections_filed",
        help_text=_("Staff who filed it on the owner's behalf; empty when the owner filed it on the public page."),
    )
    filed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decision_reasons = models.TextField(blank=True)
    decided_amount_sar = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="objections_decided"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"Objection to {self.notice_id} ({self.status})"


def objection_upload_path(attachment: "ObjectionAttachment", filename: str) -> str:
    return f"objections/{attachment.objection_id}/{attachment.sha256[:16]}-{filename[-60:]}"


class ObjectionAttachment(models.Model):
    """A file the owner attached to an objection (image or PDF), with its hash."""

    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=objection_upload_path)
    content_type = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["objection", "id"]

    def __str__(self) -> str:
        return f"Attachment {self.pk} of objection {self.objection_id}"


def signature_upload_path(acknowledgement: "Acknowledgement", filename: str) -> str:
    return f"acknowledgements/{acknowledgement.client_id.hex[:2]}/{acknowledgement.client_id.hex}.png"


class Acknowledgement(models.Model):
    """The owner's (or manager's) acknowledgement of a visit: a signature drawn on the screen and a
    name, or a recorded refusal to sign. Sealed into the inspector's evidence chain."""

    class Kind(models.TextChoices):
        SIGNED = "signed", _("Signed")
        REFUSED = "refused", _("Refused to sign")

    client_id = models.UUIDField(unique=True)
    visit = models.OneToOneField("inspections.Visit", on_delete=models.PROTECT, related_name="acknowledgement")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    signer_name = models.CharField(max_length=200, blank=True)
    signature = models.FileField(upload_to=signature_upload_path, blank=True)
    signature_sha256 = models.CharField(max_length=64, blank=True)
    captured_at = models.DateTimeField(help_text=_("device clock"))
    received_at = models.DateTimeField(help_text=_("server clock"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"Acknowledgement of visit {self.visit_id} ({self.kind})"


class EvidenceRecord(models.Model):
    """One link of an inspector's hash chain: the canonical form of a visit (with its answers, fix,
    times and photo hashes), of a photo that arrived after its visit was sealed, or of an
    acknowledgement. chain_hash = sha256(prev_hash + content_hash)."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        PHOTO = "photo", _("Photo")
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")

    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.BigIntegerField()
    canonical = models.TextField(help_text=_("The canonical JSON that was hashed (kept to name what changed)."))
    content_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()
    day = models.DateField(help_text=_("The local (Asia/Riyadh) day it was sealed: whose signature covers it."))

    class Meta:
        ordering = ["inspector", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["inspector", "seq"], name="evidence_chain_seq_unique"),
            models.UniqueConstraint(fields=["kind", "object_id"], name="evidence_one_record_per_object"),
        ]
        indexes = [models.Index(fields=["day", "inspector", "seq"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} (inspector {self.inspector_id} #{self.seq})"


class DaySignature(models.Model):
    """The Ed25519 signature over one day's chain heads: {inspector id: [seq, chain_hash]} of every
    chain that grew that day. Rewriting a sealed record then needs the server's key."""

    day = models.DateField(unique=True)
    heads = models.JSONField()
    signature = models.CharField(max_length=128)
    public_key = models.CharField(max_length=64, help_text=_("The signing key's raw public key, hex."))
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Chain heads of {self.day}"


def report_upload_path(report: "VisitReport", filename: str) -> str:
    return f"reports/{report.number}.pdf"


class VisitReport(models.Model):
    """A signed (PAdES) PDF report of a visit. Its QR opens /verify/<code>/, the public page that says
    whether the record still matches its hash and the PDF its signature."""

    number = models.CharField(max_length=40, unique=True)
    code = models.CharField(max_length=32, unique=True, help_text=_("The unguessable part of the verification URL."))
    visit = models.ForeignKey("inspections.Visit", on_delete=models.PROTECT, related_name="reports")
    pdf = models.FileField(upload_to=report_upload_path)
    pdf_sha256 = models.CharField(max_length=64)
    visit_content_hash = models.CharField(max_length=64, help_text=_("The visit's evidence hash when reported."))
    total_fines_sar = models.DecimalField(max_digits=12, decimal_places=2)
    generated_at = models.DateTimeField()
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-generated_at", "-id"]

    def __str__(self) -> str:
        return f"Report {self.number}"


class Letterhead(models.Model):
    """The letterhead a municipality's reports carry (the Amanah's name by default)."""

    municipality = models.OneToOneField("inspections.Municipality", on_delete=models.CASCADE, related_name="letterhead")
    title_ar = models.CharField(max_length=200)
    subtitle_ar = models.CharField(max_length=200, blank=True)
    colour = models.CharField(
        max_length=6,
        default="0f4c5c",
        help_text=_("Hex RGB of the band, without '#'."),
        validators=[RegexValidator(r"^[0-9a-fA-F]{6}$")],
    )

    def __str__(self) -> str:
        return f"Letterhead of {self.municipality_id}"
