"""Every doctor picker of the workspace: «Фамилия И.О. — специальность, каб. N», grouped
by specialty, so «мне к ЛОРу» needs no one to remember who the ENT is."""

import itertools
from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext as _

from portal.directory.models import Doctor


def doctor_label(doctor: Doctor) -> str:
    initials = "".join(f"{name[0]}." for name in (doctor.first_name, doctor.middle_name) if name)
    label = f"{doctor.last_name} {initials} — {doctor.specialty.name}"
    return f"{label}, {_('каб.')} {doctor.room}" if doctor.room else label


class _BySpecialty(ModelChoiceIterator):  # type: ignore[type-arg]
    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        doctors = self.queryset.select_related("specialty").order_by(
            "specialty__name", "last_name", "first_name", "pk"
        )
        for specialty, group in itertools.groupby(doctors, key=lambda d: d.specialty.name):
            yield (specialty, [self.choice(doctor) for doctor in group])


class DoctorChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A doctor of the queryset, shown in <optgroup>s by specialty."""

    iterator = _BySpecialty

    def label_from_instance(self, obj: Doctor) -> str:
        return doctor_label(obj)
