from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.core.digits import has_foreign_digits
from portal.patients.models import Guardianship, Sex

# ДД.ММ.ГГГГ: the one date format the patient sees, types and reads in error messages.
BIRTH_DATE_FORMAT = "%d.%m.%Y"


def policy_digits_ascii(value: str) -> None:
    """«²» or «٣» look like digits to Python but are not in any policy number."""
    if has_foreign_digits(value):
        raise ValidationError(
            _("Номер и серию полиса вводите обычными цифрами 0–9, как они напечатаны в полисе.")
        )


class RelativeForm(forms.Form):
    """Рис. 6–7: the child as written in the OMS policy.

    Django 5.2 ties each field's errors and help text to its input
    (aria-describedby, aria-invalid) when rendered with ``{{ field }}``.
    """

    last_name = forms.CharField(label=_("Фамилия"), max_length=80)
    first_name = forms.CharField(label=_("Имя"), max_length=80)
    middle_name = forms.CharField(
        label=_("Отчество"), max_length=80, required=False, help_text=_("Если есть.")
    )
    # A text field, not type=date: a date input shows the browser's locale (mm/dd/yyyy in
    # an English browser) while the portal, like Gosuslugi, speaks ДД.ММ.ГГГГ.
    birth_date = forms.DateField(
        label=_("Дата рождения"),
        widget=forms.DateInput(
            format=BIRTH_DATE_FORMAT,
            attrs={
                "inputmode": "numeric",
                "pattern": r"\d{2}\.\d{2}\.\d{4}",
                "maxlength": "10",
                # Not "bday": that is the parent's own birthday, which the browser
                # would offer for the child (the name fields are "off" for the same reason).
                "autocomplete": "off",
                "class": "input-date",
            },
        ),
        # ISO too, quietly: a page opened before this change still sends its date input.
        input_formats=[BIRTH_DATE_FORMAT, "%Y-%m-%d"],
        help_text=_("В формате ДД.ММ.ГГГГ, например 05.09.2016."),
        error_messages={
            "invalid": _("Введите дату в формате ДД.ММ.ГГГГ, например 05.09.2016."),
            "required": _("Введите дату рождения в формате ДД.ММ.ГГГГ."),
        },
    )
    sex = forms.ChoiceField(label=_("Пол"), choices=[("", "—"), *Sex.choices])
    relation = forms.ChoiceField(
        label=_("Статус"),
        choices=[("", "—"), *Guardianship.Relation.choices],
        help_text=_("Кем ребёнок приходится вам."),
    )
    policy_series = forms.CharField(
        label=_("Серия полиса"),
        max_length=20,
        required=False,
        validators=[policy_digits_ascii],
        help_text=_("Только для полиса старого образца. В полисе нового образца серии нет."),
    )
    policy_number = forms.CharField(
        label=_("Номер полиса"),
        max_length=30,
        validators=[policy_digits_ascii],
        help_text=_("Полис нового образца — 16 цифр, временное свидетельство — 9 цифр."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("last_name", "first_name", "middle_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["policy_number"].widget.attrs["inputmode"] = "numeric"


class OwnPolicyForm(forms.Form):
    """For a user whose OMS policy ESIA did not provide (Рис. 5)."""

    policy_series = RelativeForm.base_fields["policy_series"]
    policy_number = RelativeForm.base_fields["policy_number"]
