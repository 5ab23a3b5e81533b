"""Django admin for every inspections model, in Arabic and English (LocaleMiddleware).

Reference data (municipalities, categories, establishments, checklists, rounds) is editable.
Evidence (visits, answers, findings, photos, amendments, audit events) is read-only here: a
submitted visit is never edited in place; corrections go through the amendment service.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from inspections import models as m
from inspections.geo import h3_cells

User = get_user_model()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence: viewable by staff, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    list_filter = ("role", "language", "amanah")
    search_fields = ("user__username", "user__first_name", "user__last_name", "phone")
    filter_horizontal = ("municipalities",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "amanah").prefetch_related("municipalities")

    @admin.display(description=_("municipalities"))
    def scope_summary(self, membership: m.Membership) -> str:
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
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ("licence_no", "name_ar", "name_en", "category", "municipality", "status", "risk_score")
    list_filter = ("status", "category", "municipality", "municipality_overridden")
    search_fields = ("licence_no", "name_ar", "name_en", "address")
    list_select_related = ("category", "municipality")
    readonly_fields = ("h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9", "risk_score", "created_at", "updated_at")
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        # Keep the H3 columns in step with the location when staff move an establishment here.
        for column, cell in h3_cells(obj.lat, obj.lon).items():
            setattr(obj, column, cell)
        super().save_model(request, obj, form, change)


class ChecklistVersionInline(admin.TabularInline):
    model = m.ChecklistVersion
    fields = ("number", "status", "published_at", "notes")
    readonly_fields = ("published_at",)
    extra = 0
    show_change_link = True


@admin.register(m.Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ar", "name_en", "is_active")
    list_filter = ("is_active", "categories")
    search_fields = ("code", "name_ar", "name_en")
    filter_horizontal = ("categories",)
    inlines = (ChecklistVersionInline,)


class ChecklistItemInline(admin.StackedInline):
    model = m.ChecklistItem
    extra = 0
    filter_horizontal = ("categories",)


class ReadOnlyChecklistItemInline(ChecklistItemInline):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.ChecklistVersion)
class ChecklistVersionAdmin(admin.ModelAdmin):
    list_display = ("checklist", "number", "status", "published_at")
    list_filter = ("status", "checklist")
    search_fields = ("checklist__code", "checklist__name_en", "checklist__name_ar")
    inlines = (ChecklistItemInline,)

    def get_readonly_fields(self, request, obj=None):
        # A published version never changes: what visits answered must stay what they answered.
        if obj is not None and obj.status != m.ChecklistVersion.Status.DRAFT:
            return [field.name for field in m.ChecklistVersion._meta.fields]
        return ("published_at",)

    def get_inlines(self, request, obj):
        if obj is not None and obj.status != m.ChecklistVersion.Status.DRAFT:
            return (ReadOnlyChecklistItemInline,)
        return self.inlines


@admin.register(m.ChecklistItem)
class ChecklistItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "text_en", "answer_type", "severity", "fine_sar")
    list_filter = ("severity", "answer_type", "version__checklist")
    search_fields = ("code", "text_ar", "text_en")


class RoundStopInline(admin.TabularInline):
    model = m.RoundStop
    extra = 0
    raw_id_fields = ("establishment",)
    fields = ("position", "establishment", "status", "is_follow_up")


@admin.register(m.Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ("id", "date", "municipality", "inspector", "checklist", "status", "route_optimized")
    list_filter = ("status", "municipality", "date")
    search_fields = ("inspector__username", "inspector__first_name", "inspector__last_name")
    date_hierarchy = "date"
    raw_id_fields = ("inspector", "created_by")
    list_select_related = ("municipality", "inspector", "checklist")
    inlines = (RoundStopInline,)
    readonly_fields = ("created_at", "updated_at", "cancelled_at", "tour_length_m")


@admin.register(m.RoundStop)
class RoundStopAdmin(admin.ModelAdmin):
    list_display = ("round", "position", "establishment", "status", "is_follow_up")
    list_filter = ("status", "is_follow_up")
    raw_id_fields = ("round", "establishment")


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


@admin.register(m.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor", "object_type", "object_id", "municipality")
    list_filter = ("action", "object_type", "municipality")
    search_fields = ("object_id", "actor__username", "action")
    date_hierarchy = "at"


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
