from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def cabinet(request: HttpRequest) -> HttpResponse:
    """«Личный кабинет»: the login choice (Рис. 2) for visitors, the cabinet (Рис. 4) for users."""
    if not request.user.is_authenticated:
        return render(request, "identity/login.html")
    return render(request, "identity/cabinet.html")


@require_GET
def esia_login(request: HttpRequest) -> HttpResponse:
    # Replaced by the ESIA client (issue 3); until then say so honestly.
    return render(request, "identity/login.html", status=503)
