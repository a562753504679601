"""Forms of the patient card and the window (docs/workspace.md)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.core.dates import day_within_calendar


class PatientSearchForm(forms.Form):
    """Find a person by the policy, by the surname with the birth date, or by a ticket."""

    policy = forms.CharField(
        label=_("Номер полиса ОМС"),
        required=False,
        max_length=24,  # spaces between groups of digits are dropped in clean()
    )
    last_name = forms.CharField(label=_("Фамилия"), required=False, max_length=80)
    birth_date = forms.DateField(
        label=_("Дата рождения"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД.")},
    )
    ticket = forms.CharField(
        label=_("Номер талона"),
        required=False,
        max_length=200,  # a scanner types the whole address of the QR code
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["policy"] = "".join(str(data.get("policy") or "").split())
        data["ticket"] = str(data.get("ticket") or "").strip()
        by_name = data.get("last_name") and data.get("birth_date")
        if not data["policy"] and not by_name and not data["ticket"]:
            raise forms.ValidationError(
                _(
                    "Введите номер полиса, или фамилию и дату рождения, или номер талона — "
                    "по неполным данным поиск не ведётся."
                )
            )
        return data

    @property
    def searched_by(self) -> str:
        data = self.cleaned_data
        return "ticket" if data["ticket"] else "policy" if data["policy"] else "name"


class TicketForm(forms.Form):
    """The window's one field: a ticket number typed on either layout, or a scanner."""

    code = forms.CharField(
        label=_("Номер талона или QR-код"),
        max_length=200,
        help_text=_("Наберите номер талона в любой раскладке или считайте QR-код сканером."),
        error_messages={"required": _("Введите номер талона или считайте QR-код.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )


class MoveDayForm(forms.Form):
    date = forms.DateField(
        label=_("Новая дата"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={
            "invalid": _("Введите дату в виде ГГГГ-ММ-ДД."),
            "required": _("Выберите дату, на которую перенести запись."),
        },
    )
