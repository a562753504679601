"""The one view-only admin (docs/architecture.md): rows that only a service may write —
the journal, a draw's record, waitlist holds, schedule rules and absences — are shown to
administrators but never added, changed or deleted here, where a save would skip the
service's locks, checks and journal entry."""

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

_M = TypeVar("_M", bound=Model)


class ViewOnlyAdmin(admin.ModelAdmin[_M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
