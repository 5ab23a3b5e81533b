"""Staff views of the community app. Writes go through the services (subscriptions, replay,
volunteers); cases and reports are read-only here (triage is the API / console's job)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from community.models import Case, Report, ServiceType, ShopCode, Volunteer, WebhookDelivery, WebhookSubscription
from community.services.webhooks import subscription_create, subscription_update, webhooks_replay


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ar", "group", "is_active", "position"]
    list_editable = ["is_active", "position"]


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["user", "is_active", "joined_at"]
    raw_id_fields = ["user"]
    search_fields = ["user__username"]


class ReportInline(admin.TabularInline):
    model = Report
    extra = 0
    can_delete = False
    fields = ["submitted_at", "volunteer", "description", "email", "phone", "device_id", "ip", "photo"]
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "service_type", "establishment", "municipality", "opened_at", "round_stop", "dismissed_at"]
    list_filter = ["service_type", "municipality"]
    readonly_fields = [field.name for field in Case._meta.fields]
    inlines = [ReportInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ShopCode)
class ShopCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "establishment", "created_at"]
    search_fields = ["code", "establishment__licence_no", "establishment__name_ar"]
    readonly_fields = ["code", "establishment", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "description", "event_types", "is_active", "created_at"]
    readonly_fields = ["secret", "created_by", "created_at"]
    actions = ["replay_all_delivered_today"]

    def save_model(self, request, obj, form, change):
        if change:
            subscription_update(subscription=obj, event_types=obj.event_types, is_active=obj.is_active)
        else:
            created = subscription_create(
                actor=request.user, url=obj.url, event_types=obj.event_types, description=obj.description
            )
            obj.pk, obj.secret = created.pk, created.secret

    @admin.action(description=_("Replay the last 24 hours of events to the selected subscriptions"))
    def replay_all_delivered_today(self, request, queryset):
        from datetime import timedelta

        from django.utils import timezone

        now = timezone.now()
        queued = sum(
            webhooks_replay(since=now - timedelta(days=1), until=now, subscription=subscription)
            for subscription in queryset
        )
        self.message_user(request, _("%(n)d deliveries queued.") % {"n": queued}, messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "subscription", "generation", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "subscription"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Replay the selected events (same webhook-id)"))
    def replay(self, request, queryset):
        queued = webhooks_replay(event_ids=list(queryset.values_list("event_id", flat=True).distinct()))
        self.message_user(request, _("%(n)d deliveries queued.") % {"n": queued}, messages.SUCCESS)
