"""Admin views of devices and the outbox (read-mostly: rows are written by the events)."""

from django.contrib import admin

from notifications.models import Delivery, Device, Notification


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "platform", "is_active", "deactivated_reason", "created_at", "last_seen_at"]
    list_filter = ["platform", "is_active"]
    search_fields = ["user__username", "token"]
    raw_id_fields = ["user"]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ["device", "status", "message_id", "error", "attempts", "updated_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "status", "attempts", "language", "created_at", "sent_at", "read_at"]
    list_filter = ["kind", "status", "language"]
    search_fields = ["recipient__username", "dedupe_key", "title"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["dedupe_key", "queued_at", "claimed_until", "sent_at", "attempts", "last_error", "created_at"]
    inlines = [DeliveryInline]
