from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from portal.directory.models import Clinic, Doctor


class StaffLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Имя пользователя"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Пароль"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Код из приложения"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        max_length=8,
        error_messages={
            "invalid": _("Введите 6 цифр кода из приложения-аутентификатора."),
            "required": _("Введите 6 цифр кода из приложения-аутентификатора."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )


class DayListForm(forms.Form):
    """Which day list to show: a clinic of the scope, one of its doctors, a date."""

    clinic = forms.ModelChoiceField(label=_("Медицинская организация"), queryset=Clinic.objects)
    doctor = forms.ModelChoiceField(label=_("Врач"), queryset=Doctor.objects.none(), required=False)
    date = forms.DateField(
        label=_("Дата"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД, например 2025-03-01.")},
    )

    def __init__(self, *args: object, clinics: "QuerySet[Clinic]", **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]
        clinic_id = self.data.get("clinic") or self.initial.get("clinic")
        if clinic_id and str(clinic_id).isdigit():
            self.fields["doctor"].queryset = (  # type: ignore[attr-defined]
                Doctor.objects.filter(clinic__in=clinics, clinic_id=int(clinic_id))
                .select_related("specialty")
                .order_by("last_name", "first_name")
            )
