from django import forms
from django.utils.translation import gettext_lazy as _

from portal.directory.models import Doctor
from portal.release.models import Times


class RequestForm(forms.Form):
    """«Подать заявку»: which of the ballot's doctors and what time of day will do."""

    doctors = forms.MultipleChoiceField(
        label=_("Подходящие врачи"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Не отмечено ни одного — подойдёт любой врач из списка."),
        error_messages={
            "invalid_choice": _("Выберите врачей из списка на этой странице."),
            "invalid_list": _("Выберите врачей из списка на этой странице."),
        },
    )
    times = forms.ChoiceField(
        label=_("Подходящее время"),
        choices=Times.choices,
        initial=Times.ANY,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Выберите подходящее время: утром, днём или в любое время."),
            "invalid_choice": _("Выберите подходящее время из предложенных на этой странице."),
        },
    )

    def __init__(
        self, *args: object, doctors: list[Doctor], parts: list[str], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["doctors"].choices = [(str(d.pk), d.full_name) for d in doctors]  # type: ignore[attr-defined]
        # Only the day's real parts (`selectors.ballot_day`): a morning with no morning
        # times is not offered, so the draw never loses a request to a time that is not there.
        self.fields["times"].choices = [c for c in Times.choices if c[0] in parts]  # type: ignore[attr-defined]

    def doctor_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["doctors"]]
