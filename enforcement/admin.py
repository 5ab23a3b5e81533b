"""Staff views of enforcement. Notices, assessments, evidence and objections are read-only here: they
are written by the services (the sweep, the API and the public page); the catalogue is loaded with
`manage.py import_violation_catalogue`. Only letterheads, plain configuration, are edited here."""

from django.contrib import admin

from enforcement.models import (
    Acknowledgement,
    DaySignature,
    EvidenceRecord,
    FindingAssessment,
    Letterhead,
    Objection,
    PenaltyNotice,
    ViolationType,
    VisitReport,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ViolationType)
class ViolationTypeAdmin(ReadOnlyAdmin):
    list_display = ("code", "grade", "fine_min_sar", "fine_max_sar", "grace_days", "cap_sar", "is_sample")
    list_filter = ("grade", "is_sample")
    search_fields = ("code", "text_ar", "text_en", "article")


@admin.register(PenaltyNotice)
class PenaltyNoticeAdmin(ReadOnlyAdmin):
    list_display = ("number", "establishment", "violation", "amount_sar", "status", "issued_at")
    list_filter = ("status", "reason", "municipality")
    search_fields = ("number", "establishment__licence_no")


@admin.register(FindingAssessment)
class FindingAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("finding", "violation", "result", "notice", "assessed_at")
    list_filter = ("result",)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("notice", "status", "decision", "filed_at", "decided_at")
    list_filter = ("status", "decision")


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("visit", "kind", "received_at")


@admin.register(EvidenceRecord)
class EvidenceRecordAdmin(ReadOnlyAdmin):
    list_display = ("inspector", "seq", "kind", "object_id", "content_hash", "day")
    list_filter = ("kind", "day")


@admin.register(DaySignature)
class DaySignatureAdmin(ReadOnlyAdmin):
    list_display = ("day", "signed_at", "public_key")


@admin.register(VisitReport)
class VisitReportAdmin(ReadOnlyAdmin):
    list_display = ("number", "visit", "total_fines_sar", "generated_at")


@admin.register(Letterhead)
class LetterheadAdmin(admin.ModelAdmin):
    list_display = ("municipality", "title_ar", "colour")
