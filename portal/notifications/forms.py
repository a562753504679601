from django import forms
from django.utils.translation import gettext_lazy as _


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(
        label=_("Присылать уведомления по электронной почте"), required=False
    )
    sms_enabled = forms.BooleanField(label=_("Присылать SMS"), required=False)
    reminders_enabled = forms.BooleanField(
        label=_("Напоминать о приёме накануне вечером и за 2 часа"),
        required=False,
        help_text=_(
            "Подтверждения и отмены записей приходят всегда, если включён хотя бы один канал."
        ),
    )
