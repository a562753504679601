import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.directory.models import District, Specialty

ATTACHED = "attached"


class BookingConfirmForm(forms.Form):
    """«Записаться»: carries the one-time key that makes a double click book once."""

    key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Страница устарела. Обновите её и нажмите «Записаться» ещё раз."),
            "invalid": _("Страница устарела. Обновите её и нажмите «Записаться» ещё раз."),
        },
    )

    @staticmethod
    def fresh() -> "BookingConfirmForm":
        return BookingConfirmForm(initial={"key": uuid.uuid4()})


class NearestForm(forms.Form):
    """«Ближайшее свободное время»: a specialty, in a district or at the attached clinic."""

    specialty = forms.ModelChoiceField(
        label=_("Специальность"),
        queryset=Specialty.objects.order_by("name"),
        empty_label=_("— выберите —"),
        error_messages={"required": _("Выберите специальность врача.")},
    )
    place = forms.ChoiceField(
        label=_("Где"),
        error_messages={
            "required": _("Выберите район или свою поликлинику."),
            "invalid_choice": _("Выберите район или свою поликлинику из списка."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [  # type: ignore[attr-defined]
            (ATTACHED, _("Моя поликлиника прикрепления")),
            *((str(pk), name) for pk, name in District.objects.values_list("pk", "name")),
        ]

    def describe_errors(self) -> None:
        """Tie each error message to its field for screen readers."""
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}-errors"
                self.fields[name].widget.attrs["aria-invalid"] = "true"
