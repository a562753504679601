"""The regional operator edits the directory with validated forms (not the admin)."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import ModelForm
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from portal.core.http import client_ip
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import staff_may_edit_directory
from portal.workspace.directory_forms import DIRECTORY_FORMS, DoctorSearchForm
from portal.workspace.directory_selectors import directory_doctors, namesakes_among
from portal.workspace.services import directory_save

PAGE_SIZE = 50


def _refused(request: StaffRequest) -> HttpResponse:
    return render(request, "workspace/directory_refused.html", status=403)


def _kind(kind: str) -> tuple[type[ModelForm[Any]], str, str]:
    if kind not in DIRECTORY_FORMS:
        raise Http404
    form_class, plural, singular = DIRECTORY_FORMS[kind]
    return form_class, str(plural), str(singular)


@staff_required
def directory_list(request: StaffRequest, section: str) -> HttpResponse:
    if not staff_may_edit_directory(request.user):
        return _refused(request)
    kind = section
    form_class, plural, singular = _kind(kind)
    search = None
    if kind == "doctor":
        search = DoctorSearchForm(request.GET or None)
        objects: Any = directory_doctors(search.chosen())
    else:
        objects = form_class._meta.model._default_manager.all()
    page = Paginator(objects, PAGE_SIZE).get_page(request.GET.get("page"))
    namesakes = namesakes_among(list(page)) if kind == "doctor" else {}
    return render(
        request,
        "workspace/directory_list.html",
        {"kind": kind, "plural": plural, "singular": singular, "page": page,
         "search": search, "namesakes": namesakes, "query": _query_without_page(request),
         "kinds": {k: str(v[1]) for k, v in DIRECTORY_FORMS.items()}},
    )  # fmt: skip


def _query_without_page(request: StaffRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_required
def directory_edit(request: StaffRequest, section: str, pk: int | None = None) -> HttpResponse:
    if not staff_may_edit_directory(request.user):
        return _refused(request)
    kind = section
    form_class, plural, singular = _kind(kind)
    model = form_class._meta.model
    instance = get_object_or_404(model, pk=pk) if pk is not None else None
    form = form_class(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = directory_save(actor=request.user, form=form, ip=client_ip(request))
        messages.success(request, _("Сохранено: %(name)s.") % {"name": saved})
        return redirect("workspace:directory_list", section=kind)
    return render(
        request,
        "workspace/directory_edit.html",
        {"form": form, "kind": kind, "plural": plural, "singular": singular,
         "instance": instance},
        status=400 if form.errors else 200,
    )  # fmt: skip
