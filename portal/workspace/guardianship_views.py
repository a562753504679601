"""Confirming a guardianship: the clerk of the child's clinic has seen the documents (the
birth certificate, or the act of guardianship) and confirms a parent who added the child
by hand. The write is `patients.guardianships.guardianship_confirm`; who may is
`workspace.permissions.staff_may_confirm_guardianship` (docs/workspace.md)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.audit.devices import request_device
from portal.core.http import client_ip
from portal.patients.guardianships import guardianship_confirm
from portal.patients.models import Guardianship
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import staff_may_confirm_guardianship
from portal.workspace.permissions import guardianship_get_for_staff
from portal.workspace.selectors import guardianships_pending


@staff_required
def guardianship_list(request: StaffRequest) -> HttpResponse:
    pending = guardianships_pending(request.user)
    for guardianship in pending:
        guardianship.may_confirm = staff_may_confirm_guardianship(  # type: ignore[attr-defined]
            request.user, guardianship.child.clinic_id
        )
    return render(request, "workspace/guardianship_list.html", {"pending": pending})


@require_POST
@staff_required
def guardianship_confirm_view(request: StaffRequest, guardianship_id: int) -> HttpResponse:
    guardianship = guardianship_get_for_staff(request.user, guardianship_id)
    if request.POST.get("documents_seen") != "1":
        messages.error(
            request,
            _(
                "Отметьте, что вы видели документ (свидетельство о рождении или решение об "
                "опеке), и нажмите «Подтвердить» ещё раз."
            ),
        )
        return redirect("workspace:guardianship_list")
    try:
        guardianship_confirm(
            actor=request.user,
            guardianship_id=guardianship.pk,
            ip=client_ip(request),
            device=request_device(request),
        )
    except PermissionDenied:
        messages.error(
            request,
            _(
                "Подтверждает регистратура поликлиники, к которой прикреплён ребёнок: там "
                "проверяют документы. Направьте законного представителя туда."
            ),
        )
    except Guardianship.DoesNotExist:
        messages.error(
            request,
            _("Эта связь уже прекращена: законный представитель удалил ребёнка или её отозвали."),
        )
    else:
        messages.success(
            request,
            _(
                "%(guardian)s подтверждён(а) как законный представитель: %(child)s. Запись "
                "появилась в журналах обоих."
            )
            % {
                "guardian": guardianship.guardian.short_name,
                "child": guardianship.child.short_name,
            },
        )
    return redirect("workspace:guardianship_list")
