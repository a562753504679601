"""The operator's view of the outbox: failed messages first, and a «retry» action."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.notifications.models import Message, MessagePart, Preference
from portal.notifications.services import messages_retry


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = (
        "created_at",
        "kind",
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
    )
    list_filter = ("status", "channel", "kind")
    search_fields = ("address", "dedupe_key", "gateway_id")
    date_hierarchy = "created_at"
    list_select_related = True
    raw_id_fields = ("patient", "recipient", "appointment")
    actions = ["retry"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Повторить отправку (только не доставленные)"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = messages_retry(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(n)s уведомление поставлено в очередь.",
                "%(n)s уведомлений поставлено в очередь.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )


@admin.register(MessagePart)
class MessagePartAdmin(admin.ModelAdmin[MessagePart]):
    list_display = ("gateway_id", "message", "state", "updated_at")
    search_fields = ("gateway_id",)
    raw_id_fields = ("message",)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin[Preference]):
    list_display = ("patient", "email_enabled", "sms_enabled", "reminders_enabled", "updated_at")
    raw_id_fields = ("patient",)
