"""The clinic's forms: issuing a referral and cancelling one issued in error."""

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from portal.directory.models import Clinic, Doctor, Specialty


class IssueForm(forms.Form):
    policy = forms.CharField(
        label=_("Номер полиса ОМС пациента"),
        max_length=24,  # spaces between groups of digits are dropped in clean_policy()
        help_text=_("Пациент ищется в регистре застрахованных вашей поликлиники."),
        error_messages={"required": _("Введите номер полиса пациента.")},
    )
    specialty = forms.ModelChoiceField(
        label=_("К специалисту"),
        queryset=Specialty.objects.filter(access=Specialty.Access.REFERRAL).order_by("name"),
        empty_label=_("— выберите —"),
        error_messages={
            "required": _("Выберите специалиста."),
            "invalid_choice": _("Выберите специалиста из списка."),
        },
    )
    clinic = forms.ModelChoiceField(
        label=_("В поликлинику"),
        queryset=Clinic.objects.order_by("short_name"),
        required=False,
        empty_label=_("любая поликлиника, где есть этот специалист"),
        error_messages={"invalid_choice": _("Выберите поликлинику из списка.")},
    )
    doctor = forms.ModelChoiceField(
        label=_("Выдал врач"),
        queryset=Doctor.objects.none(),
        empty_label=_("— выберите —"),
        error_messages={
            "required": _("Выберите врача, от имени которого выдаётся направление."),
            "invalid_choice": _("Выберите врача вашей поликлиники из списка."),
        },
    )
    valid_until = forms.DateField(
        label=_("Действует по"),
        required=False,
        help_text=_("Не заполнено — срок по умолчанию."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД.")},
    )
    reason = forms.CharField(
        label=_("Причина направления (для специалиста)"),
        required=False,
        max_length=300,
        help_text=_("Не отправляется в SMS и письмах."),
        error_messages={"max_length": _("Не длиннее 300 знаков.")},
    )

    def __init__(self, *args: Any, doctors: "QuerySet[Doctor]", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = doctors  # type: ignore[attr-defined]

    def clean_policy(self) -> str:
        policy = "".join(str(self.cleaned_data.get("policy") or "").split())
        if not policy.isdigit():
            raise forms.ValidationError(_("Номер полиса — только цифры."))
        return policy

    def clean_valid_until(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data.get("valid_until")
        return value


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Причина отмены (её прочтёт пациент)"),
        max_length=300,
        error_messages={
            "required": _("Укажите причину отмены: её прочтёт пациент."),
            "max_length": _("Не длиннее 300 знаков."),
        },
    )
