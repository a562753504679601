"""The request form, shared by the patient's page and the clerk's phone entry. It only
parses: every rule and its Russian text is `services.visit_data_check`'s, so the API
answers the same."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.home_visits.rules import RED_FLAGS, SYMPTOMS
from portal.home_visits.services import VisitData


class VisitForm(forms.Form):
    # Generous limits: a longer value reaches the rule, which says what is allowed.
    address = forms.CharField(label=_("Адрес (населённый пункт, улица, дом)"), max_length=2000)
    apartment = forms.CharField(label=_("Квартира"), required=False, max_length=2000)
    entrance = forms.CharField(label=_("Подъезд"), required=False, max_length=2000)
    floor = forms.CharField(label=_("Этаж"), required=False, max_length=2000)
    intercom = forms.CharField(label=_("Код домофона"), required=False, max_length=2000)
    phone = forms.CharField(label=_("Телефон для связи"), max_length=2000)
    red_flags = forms.MultipleChoiceField(
        label=_("Есть ли сейчас опасные признаки?"),
        choices=list(RED_FLAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Что беспокоит"),
        choices=list(SYMPTOMS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    temperature = forms.CharField(label=_("Температура, °C"), required=False, max_length=2000)
    details = forms.CharField(
        label=_("Опишите жалобы"), required=False, max_length=20000, widget=forms.Textarea
    )
    consent = forms.BooleanField(
        label=_("Согласен(на) на посещение врачом на дому"), required=False
    )

    def visit_data(self) -> VisitData:
        data: dict[str, Any] = self.cleaned_data
        return VisitData(
            address=data["address"],
            apartment=data["apartment"],
            entrance=data["entrance"],
            floor=data["floor"],
            intercom=data["intercom"],
            phone=data["phone"],
            red_flags=list(data["red_flags"]),
            symptoms=list(data["symptoms"]),
            temperature=data["temperature"],
            details=data["details"],
            consent=bool(data["consent"]),
        )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Причина"), required=False, max_length=2000)


class AssignForm(forms.Form):
    doctor = forms.IntegerField(label=_("Врач"), required=False, min_value=1, max_value=2**31 - 1)
    start = forms.TimeField(label=_("Ожидать с"), required=False)
    end = forms.TimeField(label=_("Ожидать до"), required=False)


class PhoneForm(VisitForm):
    """The clerk's entry for a person who phones: the patient by their OMS policy."""

    policy = forms.CharField(label=_("Номер полиса ОМС"), max_length=2000)
    field_order = ["policy"]

    def clean_policy(self) -> str:
        digits = "".join(self.cleaned_data["policy"].split())
        if not (digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 16):
            raise forms.ValidationError(_("Номер полиса — от 6 до 16 цифр."))
        return digits
