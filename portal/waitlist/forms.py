import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.directory.models import Clinic, Doctor, Specialty
from portal.waitlist.models import TimeOfDay


class PlaceForm(forms.Form):
    """Step 1 of joining: where (a GET form, so it works without JavaScript)."""

    clinic = forms.ModelChoiceField(
        label=_("Медицинская организация"),
        queryset=Clinic.objects.order_by("short_name"),
        empty_label=_("— выберите —"),
        error_messages={
            "required": _("Выберите медицинскую организацию."),
            "invalid_choice": _("Выберите медицинскую организацию из списка."),
        },
    )
    specialty = forms.ModelChoiceField(
        label=_("Специальность"),
        queryset=Specialty.objects.order_by("name"),
        empty_label=_("— выберите —"),
        error_messages={
            "required": _("Выберите специальность врача."),
            "invalid_choice": _("Выберите специальность из списка."),
        },
    )


class JoinForm(forms.Form):
    """Step 2: which doctor, which dates and which parts of the day."""

    doctor = forms.TypedChoiceField(
        label=_("Врач"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Выберите врача из списка или «любой врач».")},
    )
    date_from = forms.DateField(
        label=_("С какого дня"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        error_messages={
            "required": _("Укажите, с какого дня вы можете прийти."),
            "invalid": _("Укажите дату «с» в виде ДД.ММ.ГГГГ."),
        },
    )
    date_to = forms.DateField(
        label=_("По какой день"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        error_messages={
            "required": _("Укажите, по какой день вы можете прийти."),
            "invalid": _("Укажите дату «по» в виде ДД.ММ.ГГГГ."),
        },
    )
    times = forms.MultipleChoiceField(
        label=_("Время дня (не выбрано — любое)"),
        choices=TimeOfDay.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Выберите время дня из списка.")},
    )

    def __init__(
        self, *args: object, clinic: Clinic, specialty: Specialty, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        doctors = Doctor.objects.filter(clinic=clinic, specialty=specialty, is_active=True)
        field = self.fields["doctor"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Любой врач")), *((d.pk, d.full_name) for d in doctors)]
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("date_from", today)
            self.initial.setdefault("date_to", today + datetime.timedelta(days=14))

    def describe_errors(self) -> None:
        """Tie each error message to its field for screen readers."""
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}-errors"
                self.fields[name].widget.attrs["aria-invalid"] = "true"
