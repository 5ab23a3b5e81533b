"""Django admin for every inspections model, in Arabic and English (LocaleMiddleware).

The admin is a staff tool, not a second write path: where a rule applies, it writes through the
same services as the API, or shows the field read-only.
- Establishments are created and changed by `establishment_create` / `establishment_update`
  (scope, location check, the municipality found again from a new location, audit).
- Checklist versions: drafts are made and published by actions calling the checklist services
  (validation, published_at, the previous version retired, audit); a version's status is never a
  form field, and a published version is read-only whole.
- Rounds are planned and reassigned by `round_create` / `round_update` (scope, route order, audit,
  notifications to both inspectors); the rest of a round is read-only here.
A service refusing a change shows its message on the page; nothing is written.
Evidence (visits, answers, findings, photos, amendments, audit events) is read-only: a submitted
visit is never edited in place; corrections go through the amendment service.

Over 500 lines because Django registers one app's admin from one module; each ModelAdmin is short.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from backend.exceptions import ApplicationError
from inspections import models as m
from inspections.services.checklists import checklist_version_draft, checklist_version_publish
from inspections.services.establishments import establishment_create, establishment_update
from inspections.services.rounds import RoundChange, round_create, round_update

User = get_user_model()


class ServiceAdmin(admin.ModelAdmin):
    """Saves go through a service (`save_model`); a refusal (ApplicationError) becomes a message on the
    form page instead of a 500, and the admin's transaction rolls back so nothing is written."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def adopt(obj, saved) -> None:
        """Let the admin's own bookkeeping (messages, log entry, redirect) see the row the service wrote."""
        obj.__dict__.update({key: value for key, value in saved.__dict__.items() if key != "_state"})
        obj._state.adding = False


class ReadOnlyMixin:
    """Viewable by staff, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Evidence: viewable by staff, never added, changed or deleted through the admin."""


@admin.register(m.Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ar", "name_en", "kind", "parent", "boundary_is_demo", "boundary_repaired")
    list_filter = ("kind", "boundary_is_demo", "boundary_repaired", "parent")
    search_fields = ("code", "name_ar", "name_en")
    readonly_fields = ("boundary_repaired", "updated_at")
    fields = (
        "code",
        "name_ar",
        "name_en",
        "kind",
        "parent",
        ("centre_lat", "centre_lon"),
        "boundary_is_demo",
        "boundary_repaired",
        "boundary",
        "updated_at",
    )


class MembershipInline(admin.StackedInline):
    model = m.Membership
    can_delete = False
    fk_name = "user"
    filter_horizontal = ("municipalities",)
    extra = 0
    verbose_name_plural = _("role and scope")


@admin.register(m.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "amanah", "scope_summary", "language")
    list_filter = ("role", "national", "language", "amanah")
    search_fields = ("user__username", "user__first_name", "user__last_name", "phone")
    filter_horizontal = ("municipalities",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "amanah").prefetch_related("municipalities")

    @admin.display(description=_("municipalities"))
    def scope_summary(self, membership: m.Membership) -> str:
        if membership.national:
            return str(_("every Amanah (ministry)"))
        if membership.amanah_id:
            return str(_("whole Amanah"))
        return ", ".join(municipality.name_en for municipality in membership.municipalities.all())


# The user admin with the role and scope inline, so one page sets up a new inspector.
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (MembershipInline,)
    list_display = ("username", "first_name", "last_name", "role", "is_active", "is_staff", "last_login")
    list_filter = ("membership__role", "is_active", "is_staff", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership")

    @admin.display(description=_("role"), ordering="membership__role")
    def role(self, user) -> str:
        membership = getattr(user, "membership", None)
        return membership.get_role_display() if membership else "-"


@admin.register(m.Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ar", "name_en")
    search_fields = ("code", "name_ar", "name_en")


@admin.register(m.Establishment)
class EstablishmentAdmin(ServiceAdmin):
    list_display = ("licence_no", "name_ar", "name_en", "category", "municipality", "status", "risk_score")
    list_filter = ("status", "category", "municipality", "municipality_overridden")
    search_fields = ("licence_no", "name_ar", "name_en", "address")
    list_select_related = ("category", "municipality")
    readonly_fields = (
        "municipality_overridden",
        "h3_r5",
        "h3_r6",
        "h3_r7",
        "h3_r8",
        "h3_r9",
        "risk_score",
        "created_at",
        "updated_at",
    )
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        # The licence number is the register's key: set once (a re-import matches on it).
        return (*self.readonly_fields, "licence_no") if obj is not None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "municipality" in form.base_fields:
            form.base_fields["municipality"].required = False
            form.base_fields["municipality"].help_text = _(
                "Leave empty to find it from the location; a municipality chosen here overrides the location."
            )
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        municipality = data.get("municipality")
        if not change:
            saved = establishment_create(
                user=request.user,
                name_ar=data["name_ar"],
                name_en=data.get("name_en") or "",
                category=data["category"].code,
                licence_no=data["licence_no"],
                lat=data["lat"],
                lon=data["lon"],
                address=data.get("address") or "",
                municipality_id=municipality.pk if municipality else None,
            )
            if data.get("status") and data["status"] != saved.status:
                saved = establishment_update(user=request.user, establishment=saved, changes={"status": data["status"]})
            self.adopt(obj, saved)
            return
        changes = {}
        for name in form.changed_data:
            if name == "category":
                changes["category"] = data["category"].code
            elif name == "municipality":
                changes["municipality_id"] = municipality.pk if municipality else None
            elif name in ("name_ar", "name_en", "address", "lat", "lon", "status"):
                changes[name] = data[name]
        if changes:
            self.adopt(obj, establishment_update(user=request.user, establishment=obj, changes=changes))


class ChecklistVersionInline(admin.TabularInline):
    """Versions are listed here; a draft is made by the "New draft version" action, never typed in."""

    model = m.ChecklistVersion
    fields = ("number", "status", "published_at", "notes")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(m.Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ar", "name_en", "is_active")
    list_filter = ("is_active", "categories")
    search_fields = ("code", "name_ar", "name_en")
    filter_horizontal = ("categories",)
    inlines = (ChecklistVersionInline,)
    actions = ("new_draft_version",)

    @admin.action(description=_("New draft version (a copy of the latest)"))
    def new_draft_version(self, request, queryset):
        for checklist in queryset:
            try:
                draft = checklist_version_draft(actor=request.user, checklist=checklist)
            except ApplicationError as error:
                self.message_user(request, f"{checklist.code}: {error.message}", level=messages.ERROR)
            else:
                self.message_user(
                    request, _("%(code)s: draft version %(n)s") % {"code": checklist.code, "n": draft.number}
                )


class ChecklistItemInline(admin.StackedInline):
    model = m.ChecklistItem
    extra = 0
    filter_horizontal = ("categories",)


class ReadOnlyChecklistItemInline(ReadOnlyMixin, ChecklistItemInline):
    pass


@admin.register(m.ChecklistVersion)
class ChecklistVersionAdmin(admin.ModelAdmin):
    """Items of a draft are shown read-only too: they are written through the checklist services (the
    console or the API), which validate each one; publishing is the "Publish" action."""

    list_display = ("checklist", "number", "status", "published_at")
    list_filter = ("status", "checklist")
    search_fields = ("checklist__code", "checklist__name_en", "checklist__name_ar")
    inlines = (ReadOnlyChecklistItemInline,)
    actions = ("publish",)

    def has_add_permission(self, request):
        return False  # the "New draft version" action on a checklist

    def has_change_permission(self, request, obj=None):
        # Status and published_at belong to the services; a published version never changes (what visits
        # answered must stay what they answered); a draft's notes are all the form could edit.
        return obj is None or obj.status == m.ChecklistVersion.Status.DRAFT

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in m.ChecklistVersion._meta.fields if field.name != "notes"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == m.ChecklistVersion.Status.DRAFT

    @admin.action(description=_("Publish (checks every item; retires the version it replaces)"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                checklist_version_publish(actor=request.user, version=version)
            except ApplicationError as error:
                self.message_user(request, f"{version}: {error.message}", level=messages.ERROR)
            else:
                self.message_user(request, _("%(version)s published") % {"version": version})


@admin.register(m.ChecklistItem)
class ChecklistItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "text_en", "answer_type", "severity", "fine_sar")
    list_filter = ("severity", "answer_type", "version__checklist")
    search_fields = ("code", "text_ar", "text_en")


class RoundStopInline(admin.TabularInline):
    """Stops are planned by the round services (scope, route order, audit): listed read-only here."""

    model = m.RoundStop
    extra = 0
    fields = ("position", "establishment", "status", "is_follow_up")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RoundAddForm(forms.ModelForm):
    """Planning a round in the admin: the same inputs as POST rounds, handed to `round_create`."""

    establishments = forms.CharField(
        label=_("establishments"),
        help_text=_("Establishment ids, separated by commas."),
    )
    optimize_route = forms.BooleanField(label=_("optimise the route"), required=False, initial=True)

    class Meta:
        model = m.Round
        fields = ("inspector", "date", "checklist", "notes")

    def clean_establishments(self) -> list[int]:
        try:
            ids = [int(part) for part in self.cleaned_data["establishments"].replace(" ", "").split(",") if part]
        except ValueError as error:
            raise forms.ValidationError(_("Establishment ids are whole numbers, separated by commas.")) from error
        if not ids:
            raise forms.ValidationError(_("At least one establishment."))
        return ids


@admin.register(m.Round)
class RoundAdmin(ServiceAdmin):
    list_display = ("id", "date", "municipality", "inspector", "checklist", "status", "route_optimized")
    list_filter = ("status", "municipality", "date")
    search_fields = ("inspector__username", "inspector__first_name", "inspector__last_name")
    date_hierarchy = "date"
    raw_id_fields = ("inspector",)
    list_select_related = ("municipality", "inspector", "checklist")
    inlines = (RoundStopInline,)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RoundAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("inspector", "date", "checklist", "establishments", "optimize_route", "notes")
        return super().get_fields(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Only the inspector can be changed here (a reassignment, through round_update); the rest of a
        # round is planned through the API or the console.
        return [field.name for field in m.Round._meta.fields if field.name != "inspector"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = round_create(
                actor=request.user,
                inspector_id=data["inspector"].pk,
                date=data["date"],
                checklist_id=data["checklist"].pk,
                establishment_ids=data["establishments"],
                optimize_route=data.get("optimize_route", False),
                notes=data.get("notes") or "",
            )
            self.adopt(obj, saved)
        elif "inspector" in form.changed_data:
            saved = round_update(actor=request.user, round_id=obj.pk, change=RoundChange(inspector_id=obj.inspector_id))
            self.adopt(obj, saved)


@admin.register(m.RoundStop)
class RoundStopAdmin(ReadOnlyAdmin):
    list_display = ("round", "position", "establishment", "status", "is_follow_up")
    list_filter = ("status", "is_follow_up")


class AnswerInline(admin.TabularInline):
    model = m.Answer
    extra = 0
    fields = ("item_code", "value", "failed", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(m.Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "finished_at",
        "establishment",
        "inspector",
        "municipality",
        "outcome",
        "geo_status",
        "violation_count",
    )
    list_filter = ("outcome", "geo_status", "has_violation", "impossible_travel", "municipality", "category")
    search_fields = ("client_id", "establishment__name_ar", "establishment__name_en", "establishment__licence_no")
    date_hierarchy = "finished_at"
    list_select_related = ("establishment", "inspector", "municipality")
    inlines = (AnswerInline,)


@admin.register(m.Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ("visit", "item_code", "value", "failed")
    list_filter = ("failed",)
    search_fields = ("item_code",)


@admin.register(m.Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("id", "item_code", "establishment", "municipality", "severity", "fine_sar", "due_date", "status")
    list_filter = ("status", "severity", "municipality")
    search_fields = ("item_code", "establishment__name_ar", "establishment__name_en", "establishment__licence_no")
    date_hierarchy = "opened_at"
    list_select_related = ("establishment", "municipality")


@admin.register(m.Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ("client_id", "visit", "width", "height", "size_bytes", "exif_distance_m", "created_at")
    search_fields = ("client_id", "sha256")


@admin.register(m.VisitAmendment)
class VisitAmendmentAdmin(ReadOnlyAdmin):
    list_display = ("visit", "author", "created_at", "reason")
    search_fields = ("reason", "author__username")


@admin.register(m.FollowUpPending)
class FollowUpPendingAdmin(ReadOnlyAdmin):
    """Follow-ups waiting for the placing task (normally for under a second; the sweeper places any
    row older than 30 s). A row that stays here means the worker or beat is not running."""

    list_display = ("establishment", "due_date", "inspector", "created_at")
    list_select_related = ("establishment", "inspector")
    date_hierarchy = "created_at"


@admin.register(m.RiskPending)
class RiskPendingAdmin(ReadOnlyAdmin):
    """Establishments whose stored risk score waits for the flush task (settings.RISK_DEFERRED; every
    5 s). A row that stays here for minutes means the worker or beat is not running."""

    list_display = ("establishment_id", "queued_at")
    search_fields = ("establishment_id",)


@admin.register(m.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor", "object_type", "object_id", "municipality")
    list_filter = ("action", "object_type", "municipality")
    search_fields = ("object_id", "actor__username", "action")
    date_hierarchy = "at"


@admin.register(m.HistoryImport)
class HistoryImportAdmin(ReadOnlyAdmin):
    """Imports of past inspections (made with `manage.py import_history` or the history-imports API)."""

    list_display = ("created_at", "file_name", "imported_by", "status", "total", "imported", "duplicates")
    list_filter = ("status",)
    search_fields = ("file_name", "file_sha256")
    exclude = ("rows",)


@admin.register(m.ImportedVisit)
class ImportedVisitAdmin(ReadOnlyAdmin):
    list_display = ("visit", "source_file", "row_number", "inspector_name", "imported_by", "imported_at")
    search_fields = ("source_file", "inspector_name")
    list_select_related = ("visit", "imported_by")


@admin.register(m.RefreshToken)
class RefreshTokenAdmin(ReadOnlyAdmin):
    """Who is signed in where; revocation happens through the API (logout) and the rules in services.auth."""

    list_display = ("user", "family", "is_sign_in", "client_ip", "created_at", "used_at", "revoked_reason")
    list_filter = ("revoked_reason", "is_sign_in")
    search_fields = ("user__username", "client_ip")
    exclude = ("auth_hash",)


@admin.register(m.DemoRecord)
class DemoRecordAdmin(ReadOnlyAdmin):
    """What `manage.py seed_demo` created (the seed touches nothing else)."""

    list_display = ("kind", "object_id", "created_at")
    list_filter = ("kind",)


# The console's records are written through their services (inspections.services.planning and
# .reviews, over the API); staff see them here, read only.
@admin.register(m.PlanSettings)
class PlanSettingsAdmin(ReadOnlyAdmin):
    list_display = (
        "municipality",
        "high_every_months",
        "medium_every_months",
        "low_every_months",
        "daily_capacity",
        "weekly_auto",
    )
    search_fields = ("municipality__name_en", "municipality__name_ar")


@admin.register(m.WeekPlan)
class WeekPlanAdmin(ReadOnlyAdmin):
    list_display = ("week_start", "municipality", "status", "created_by", "published_at")
    list_filter = ("status",)
    search_fields = ("municipality__name_en", "municipality__name_ar")


@admin.register(m.RecurringVisit)
class RecurringVisitAdmin(ReadOnlyAdmin):
    list_display = ("establishment", "municipality", "every_weeks", "start_week", "inspector")
    search_fields = ("establishment__name_ar", "establishment__licence_no")


@admin.register(m.VisitReview)
class VisitReviewAdmin(ReadOnlyAdmin):
    list_display = ("visit", "status", "reviewer", "decided_at", "answered_at")
    list_filter = ("status",)
    search_fields = ("reason",)
