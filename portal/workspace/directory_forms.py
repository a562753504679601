"""The operator's forms for the directory: districts, clinics, specialties, doctors.

Validation beyond the model's: a doctor's specialty must suit the clinic's patients, and a
doctor with booked future appointments is neither moved to another clinic nor taken off
the schedule here — that is an absence's job, which tells every patient.
"""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.scheduling.models import Appointment
from portal.workspace.directory_selectors import DoctorFilter


class DistrictForm(forms.ModelForm[District]):
    class Meta:
        model = District
        fields = ["name", "kind", "position"]


class ClinicForm(forms.ModelForm[Clinic]):
    class Meta:
        model = Clinic
        fields = ["district", "short_name", "full_name", "address", "phone", "kind"]

    def clean_kind(self) -> str:
        kind = str(self.cleaned_data["kind"])
        if self.instance.pk is None or kind == Clinic.Kind.MIXED:
            return kind
        unsuited = (
            Specialty.AgeGroup.ADULTS
            if kind == Clinic.Kind.CHILDREN
            else (Specialty.AgeGroup.CHILDREN)
        )
        if self.instance.doctors.filter(specialty__age_group=unsuited, is_active=True).exists():
            raise forms.ValidationError(
                _(
                    "В организации есть врачи, чья специальность не подходит такому типу "
                    "(детские или взрослые). Сначала переведите или отключите их."
                )
            )
        return kind


class SpecialtyForm(forms.ModelForm[Specialty]):
    class Meta:
        model = Specialty
        fields = ["code", "name", "access", "age_group"]
        help_texts = {"code": _("Латинские буквы, цифры и дефис, например «cardiologist».")}


class DoctorForm(forms.ModelForm[Doctor]):
    class Meta:
        model = Doctor
        fields = [
            "clinic", "specialty", "last_name", "first_name", "middle_name", "room", "area",
            "is_active",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        clinic, specialty = data.get("clinic"), data.get("specialty")
        if clinic and specialty:
            if clinic.kind == Clinic.Kind.CHILDREN and specialty.age_group == "adults":
                self.add_error(
                    "specialty", _("Детская поликлиника: выберите специальность для детей.")
                )
            if clinic.kind == Clinic.Kind.ADULT and specialty.age_group == "children":
                self.add_error(
                    "specialty", _("Взрослая поликлиника: выберите специальность для взрослых.")
                )
        if self.instance.pk is not None:
            moved = clinic is not None and clinic.pk != self.instance.clinic_id
            stopped = not data.get("is_active", True) and self.instance.is_active
            if (moved or stopped) and self._has_future_bookings():
                raise forms.ValidationError(
                    _(
                        "У врача есть предстоящие записи пациентов. Сначала запишите "
                        "отсутствие врача на эти дни — пациенты получат отмену и "
                        "уведомление, — затем переведите или отключите врача."
                    )
                )
        return data

    def _has_future_bookings(self) -> bool:
        return Appointment.objects.filter(
            slot__doctor=self.instance,
            status=Appointment.Status.BOOKED,
            starts_at__gt=timezone.now(),
        ).exists()


# kind in the URL -> (model form, title of the list, title of one)
DIRECTORY_FORMS: dict[str, tuple[type[forms.ModelForm[Any]], StrOrPromise, StrOrPromise]] = {
    "district": (DistrictForm, _("Районы и города"), _("район или город")),
    "clinic": (ClinicForm, _("Медицинские организации"), _("медицинская организация")),
    "specialty": (SpecialtyForm, _("Специальности"), _("специальность")),
    "doctor": (DoctorForm, _("Врачи"), _("врач")),
}


class DoctorSearchForm(forms.Form):
    """The doctors' list: a name (or a cabinet), a clinic, a specialty."""

    q = forms.CharField(label=_("Фамилия, имя или кабинет"), required=False, max_length=80)
    clinic = forms.ModelChoiceField(
        label=_("Медицинская организация"),
        queryset=Clinic.objects.order_by("short_name"),
        required=False,
        empty_label=_("Все"),
    )
    specialty = forms.ModelChoiceField(
        label=_("Специальность"),
        queryset=Specialty.objects.order_by("name"),
        required=False,
        empty_label=_("Все"),
    )

    def chosen(self) -> DoctorFilter:
        if not self.is_bound or not self.is_valid():
            return DoctorFilter()
        data = self.cleaned_data
        return DoctorFilter(
            text=data["q"].strip(),
            clinic_id=data["clinic"].pk if data["clinic"] else None,
            specialty_id=data["specialty"].pk if data["specialty"] else None,
        )
