import datetime
import hashlib
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from portal.core.dates import day_within_calendar
from portal.core.sorting import natural_key
from portal.directory.models import Clinic, Doctor, Specialty
from portal.scheduling.models import Absence, ScheduleRule
from portal.scheduling.services import RuleDraft, schedule_draft_problems
from portal.workspace.doctor_choice import DoctorChoiceField


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
    """Which day to show: a clinic of the scope, the date, and all its doctors or one, by
    specialty and by cabinet (docs/workspace.md, «The day list»)."""

    clinic = forms.ModelChoiceField(label=_("Медицинская организация"), queryset=Clinic.objects)
    doctor = DoctorChoiceField(
        label=_("Врач"), queryset=Doctor.objects.none(), required=False, empty_label=_("Все врачи")
    )
    specialty = forms.ModelChoiceField(
        label=_("Специальность"),
        queryset=Specialty.objects.none(),
        required=False,
        empty_label=_("Все специальности"),
    )
    room = forms.ChoiceField(label=_("Кабинет"), required=False, choices=[])
    date = forms.DateField(
        label=_("Дата"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД, например 2025-03-01.")},
    )

    def __init__(self, *args: object, clinics: "QuerySet[Clinic]", **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]
        clinic_id = self.data.get("clinic") or self.initial.get("clinic")
        if clinic_id and str(clinic_id).isdigit():
            doctors = Doctor.objects.filter(clinic__in=clinics, clinic_id=int(clinic_id))
            self.fields["doctor"].queryset = doctors  # type: ignore[attr-defined]
            self.fields["specialty"].queryset = (  # type: ignore[attr-defined]
                Specialty.objects.filter(doctors__in=doctors).distinct().order_by("name")
            )
            rooms = sorted(
                set(doctors.exclude(room="").values_list("room", flat=True)), key=natural_key
            )
            self.fields["room"].choices = [("", _("Все кабинеты"))] + [(r, r) for r in rooms]  # type: ignore[attr-defined]


class AbsenceForm(forms.Form):
    """A doctor's absence. Training is kept as the scheduling area's «другое» kind."""

    KINDS = {
        "sick": (Absence.Kind.SICK, _("Больничный"), _("Врач заболел")),
        "vacation": (Absence.Kind.VACATION, _("Отпуск"), _("Врач в отпуске")),
        "training": (Absence.Kind.TRAINING, _("Учёба"), _("Врач на обучении")),
    }

    doctor = DoctorChoiceField(label=_("Врач"), queryset=Doctor.objects.none())
    kind = forms.ChoiceField(
        label=_("Причина"),
        choices=[(key, label) for key, (_kind, label, _text) in KINDS.items()],
        widget=forms.RadioSelect,
    )
    starts_on = forms.DateField(
        label=_("С"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД.")},
    )
    ends_on = forms.DateField(
        label=_("По (включительно)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД.")},
    )
    reason = forms.CharField(
        label=_("Что сказать пациентам"),
        required=False,
        max_length=200,
        help_text=_(
            "Пациенты увидят это в записи и в уведомлении. Если оставить пустым — "
            "«Врач заболел», «Врач в отпуске» или «Врач на обучении»."
        ),
    )

    def __init__(self, *args: Any, doctors: "QuerySet[Doctor]", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = doctors.select_related("specialty", "clinic")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on:
            if ends_on < starts_on:
                self.add_error(
                    "ends_on", _("Дата окончания раньше даты начала. Исправьте одну из дат.")
                )
            elif starts_on < timezone.localdate():
                self.add_error(
                    "starts_on",
                    _("Прошедшие дни не меняются. Укажите сегодняшнюю или будущую дату."),
                )
        if data.get("kind") in self.KINDS and not data.get("reason"):
            data["reason"] = str(self.KINDS[data["kind"]][2])
        return data

    @property
    def absence_kind(self) -> str:
        return str(self.KINDS[self.cleaned_data["kind"]][0])


class RegistrySearchForm(forms.Form):
    """Find an insured person by the policy number, or by name and birth date."""

    policy = forms.CharField(
        label=_("Номер полиса ОМС"),
        required=False,
        max_length=24,  # spaces between groups of digits are dropped in clean()
        help_text=_("16 цифр единого полиса, или номер полиса старого образца."),
    )
    last_name = forms.CharField(label=_("Фамилия"), required=False, max_length=80)
    first_name = forms.CharField(label=_("Имя"), required=False, max_length=80)
    birth_date = forms.DateField(
        label=_("Дата рождения"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={"invalid": _("Введите дату в виде ГГГГ-ММ-ДД.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["policy"] = "".join(str(data.get("policy") or "").split())
        by_name = data.get("last_name") and data.get("first_name") and data.get("birth_date")
        if not data["policy"] and not by_name:
            raise forms.ValidationError(
                _(
                    "Введите номер полиса или фамилию, имя и дату рождения пациента — "
                    "по неполным данным реестр не ищет."
                )
            )
        return data


class DoctorPickForm(forms.Form):
    clinic = forms.ModelChoiceField(label=_("Медицинская организация"), queryset=Clinic.objects)
    doctor = DoctorChoiceField(label=_("Врач"), queryset=Doctor.objects.none(), required=False)

    def __init__(self, *args: Any, clinics: "QuerySet[Clinic]", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]
        clinic_id = self.data.get("clinic") or self.initial.get("clinic")
        if clinic_id and str(clinic_id).isdigit():
            self.fields["doctor"].queryset = (  # type: ignore[attr-defined]
                Doctor.objects.filter(clinic__in=clinics, clinic_id=int(clinic_id), is_active=True)
                .select_related("specialty")
                .order_by("specialty__name", "last_name")
            )


class ClinicPickForm(forms.Form):
    clinic = forms.ModelChoiceField(label=_("Медицинская организация"), queryset=Clinic.objects)

    def __init__(self, *args: Any, clinics: "QuerySet[Clinic]", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]


WEEKDAYS = [
    ("1", _("Пн")),
    ("2", _("Вт")),
    ("3", _("Ср")),
    ("4", _("Чт")),
    ("5", _("Пт")),
    ("6", _("Сб")),
    ("7", _("Вс")),
]
TIME_INVALID = _("Введите время в виде ЧЧ:ММ, например 08:30.")
DATE_INVALID = _("Введите дату в виде ГГГГ-ММ-ДД.")


def _time_field(
    label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = ""
) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=["%H:%M", "%H:%M:%S"],
        # A text field, not type=time: a browser shows type=time in its own locale's
        # 12-hour clock; the registry writes 24-hour «08:30».
        widget=forms.TimeInput(
            attrs={
                "class": "input-time",
                "inputmode": "numeric",
                "placeholder": "ЧЧ:ММ",
                "maxlength": 5,
                "autocomplete": "off",
            },
            format="%H:%M",
        ),
        error_messages={"invalid": TIME_INVALID, "required": TIME_INVALID},
    )


def _date_field(label: StrOrPromise, help_text: StrOrPromise) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[day_within_calendar],
        error_messages={"invalid": DATE_INVALID},
    )


class ScheduleRuleForm(forms.Form):
    """A doctor's weekly rule. Its checks are `schedule_draft_problems`, the same the
    booking service's `schedule_publish` applies (docs/workspace.md, «Schedules»)."""

    DEFAULT_REASON = _("Изменилось расписание приёма врача")

    weekdays = forms.MultipleChoiceField(
        label=_("Дни приёма"),
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Отметьте хотя бы один день недели.")},
    )
    start_time = _time_field(_("Начало приёма"))
    end_time = _time_field(_("Конец приёма"))
    break_start = _time_field(_("Начало перерыва"), required=False)
    break_end = _time_field(
        _("Конец перерыва"),
        required=False,
        help_text=_("Без перерыва — оставьте оба поля пустыми."),
    )
    slot_minutes = forms.IntegerField(
        label=_("Длительность приёма, минут"),
        min_value=5,
        max_value=120,
        error_messages={
            "invalid": _("Введите число минут, от 5 до 120."),
            "required": _("Введите число минут, от 5 до 120."),
            "min_value": _("Длительность приёма — от 5 до 120 минут."),
            "max_value": _("Длительность приёма — от 5 до 120 минут."),
        },
    )
    days_ahead = forms.IntegerField(
        label=_("Запись открывается за, дней"),
        min_value=1,
        max_value=60,
        help_text=_("Горизонт записи: от 1 до 60 дней."),
        error_messages={
            "invalid": _("Введите число дней, от 1 до 60."),
            "required": _("Введите число дней, от 1 до 60."),
            "min_value": _("Запись открывается не раньше чем за 1 и не позже чем за 60 дней."),
            "max_value": _("Запись открывается не раньше чем за 1 и не позже чем за 60 дней."),
        },
    )
    opens_at = _time_field(
        _("Время открытия нового дня"),
        help_text=_("В это время (по местному времени) открывается запись на очередной день."),
    )
    valid_from = _date_field(_("Действует с"), _("Пусто — с сегодняшнего дня."))
    valid_until = _date_field(
        _("Действует по"),
        _("Пусто — бессрочно. Чтобы завершить правило, укажите последний день приёма по нему."),
    )
    reason = forms.CharField(
        label=_("Что сказать пациентам, чьи записи отменятся"),
        required=False,
        max_length=200,
        help_text=_("Если оставить пустым — «Изменилось расписание приёма врача»."),
    )

    def __init__(
        self,
        *args: Any,
        current: "list[ScheduleRule]",
        rule_id: int | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        self.rule_id = rule_id

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("reason"):
            data["reason"] = str(self.DEFAULT_REASON)
        if self.errors:
            return data
        draft = self.draft
        problems = schedule_draft_problems(self.current, self.rule_id, draft, timezone.localdate())
        for name, message in problems.items():
            self.add_error(name, message)
        return data

    @property
    def draft(self) -> RuleDraft:
        data = self.cleaned_data
        return RuleDraft(
            weekdays="".join(sorted(data["weekdays"])),
            start_time=data["start_time"],
            end_time=data["end_time"],
            break_start=data.get("break_start"),
            break_end=data.get("break_end"),
            slot_minutes=data["slot_minutes"],
            days_ahead=data["days_ahead"],
            opens_at=data["opens_at"],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
        )

    def fingerprint(self) -> str:
        """The previewed values: a confirm of other values shows the preview again."""
        draft = self.draft
        text = "|".join(str(getattr(draft, name)) for name in RuleDraft.__dataclass_fields__)
        return hashlib.sha256(f"{text}|{self.cleaned_data['reason']}".encode()).hexdigest()[:32]


def schedule_rule_initial(rule: "ScheduleRule | None") -> dict[str, Any]:
    """The form's starting values: the rule's own, or the demo region's usual day."""
    if rule is None:
        return {
            "weekdays": list("12345"),
            "start_time": datetime.time(8, 0),
            "end_time": datetime.time(14, 0),
            "slot_minutes": 20,
            "days_ahead": 14,
            "opens_at": datetime.time(7, 0),
        }
    draft = RuleDraft.of(rule)
    values = {name: getattr(draft, name) for name in RuleDraft.__dataclass_fields__}
    values["weekdays"] = list(rule.weekdays)
    return values
