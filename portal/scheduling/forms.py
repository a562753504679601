import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from portal.core.widgets import (
    PlainChoiceField,
    PlainHiddenInput,
    PlainSelect,
    plain_choices_property,
)
from portal.directory import selectors as directory
from portal.directory.models import Specialty
from portal.patients.models import Patient
from portal.scheduling import rules

ATTACHED = "attached"


class BookingConfirmForm(forms.Form):
    """«Записаться»: carries the one-time key that makes a double click book once."""

    key = forms.UUIDField(
        widget=PlainHiddenInput,
        error_messages={
            "required": _("Страница устарела. Обновите её и нажмите «Записаться» ещё раз."),
            "invalid": _("Страница устарела. Обновите её и нажмите «Записаться» ещё раз."),
        },
    )
    # The referral the patient picked when several fit (docs/referrals.md); empty: the
    # booking service takes the one that expires first.
    referral = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": _("Выберите направление из списка.")},
    )

    @staticmethod
    def fresh() -> "BookingConfirmForm":
        return BookingConfirmForm(initial={"key": uuid.uuid4()})


def _place_choices() -> list[tuple[str, str]]:
    """Asked on every form (from the directory's cache: a district added since is offered
    at once)."""
    return [
        (ATTACHED, str(_("Моя поликлиника прикрепления"))),
        *((str(pk), n) for pk, n in directory.district_choices()),
    ]


class SpecialtyChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A specialty by id, looked up in the directory's cache instead of a query; the
    choices a form sets are kept as given (`core.widgets.plain_choices`)."""

    choices = plain_choices_property(forms.ModelChoiceField)

    def __deepcopy__(self, memo: dict[int, Any]) -> "SpecialtyChoiceField":
        """Every form copies its fields; ModelChoiceField's copy also clones its queryset,
        twice, so that each form iterates its own. This field never iterates it (its
        choices are set per form, its values looked up in the directory's cache), so the
        copies share it: 1 % of a nearest-time search's instructions (docs/performance.md)."""
        return forms.Field.__deepcopy__(self, memo)

    def to_python(self, value: Any) -> Specialty | None:
        if value in self.empty_values:
            return None
        try:
            return directory.specialty_get(int(value))
        except (TypeError, ValueError, Http404):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class NearestForm(forms.Form):
    """«Ближайшее свободное время»: a specialty, in a district or at the attached clinic."""

    specialty = SpecialtyChoiceField(
        label=_("Специальность"),
        widget=PlainSelect,
        queryset=Specialty.objects.order_by("name"),
        empty_label=_("— выберите —"),
        error_messages={"required": _("Выберите специальность врача.")},
    )
    place = PlainChoiceField(
        label=_("Где"),
        widget=PlainSelect,
        choices=_place_choices,
        error_messages={
            "required": _("Выберите район или свою поликлинику."),
            "invalid_choice": _("Выберите район или свою поликлинику из списка."),
        },
    )

    def __init__(self, *args: Any, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # For a patient, only the specialties that receive their age; any other one (a
        # link from elsewhere) is still accepted and answered with its reason.
        field = self.fields["specialty"]
        assert isinstance(field, forms.ModelChoiceField)
        ages = rules.specialty_age_groups_for(patient) if patient is not None else None
        # Whom the specialties are offered to: the same choices draw the same markup.
        self.offered_to = tuple(sorted(ages)) if ages is not None else None
        offered = directory.specialties_list(ages)
        field.choices = [("", str(field.empty_label)), *((s.pk, s.name) for s in offered)]
        # Once per form, not at each reading of a callable (validation, the select).
        place = self.fields["place"]
        assert isinstance(place, PlainChoiceField)
        place.choices = _place_choices()

    def markup_key(self) -> tuple[Any, ...] | None:
        """What the form's markup depends on, when it is the same for everyone who sends
        it (the page keeps it per directory generation): a new form, or a valid choice
        sent in its canonical spelling. A form with errors, or input spelled otherwise
        («06»), is drawn every time from what was sent."""
        if not self.is_bound:
            return ("new", self.offered_to)
        if not self.is_valid():
            return None
        specialty, place = self.cleaned_data["specialty"].pk, self.cleaned_data["place"]
        if (self.data.get("specialty"), self.data.get("place")) != (str(specialty), place):
            return None
        return ("chosen", self.offered_to, specialty, place)

    def describe_errors(self) -> None:
        """Tie each error message to its field for screen readers."""
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}-errors"
                self.fields[name].widget.attrs["aria-invalid"] = "true"
