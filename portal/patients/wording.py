"""Texts that agree with the patient's sex: «добавлена» for a daughter, «добавлен» for a son.

Russian past-tense verbs and pronouns carry gender; «добавлен(а)» reads like a form to
fill in. A patient whose sex is unknown gets the masculine form, which agrees with the
noun «ребёнок».
"""

from django.utils.translation import gettext as _

from portal.patients.models import Patient, Sex


def is_female(patient: Patient) -> bool:
    return patient.sex == Sex.FEMALE


def relative_added_message(child: Patient) -> str:
    if is_female(child):
        return _("%(name)s добавлена в список родственников.") % {"name": child.full_name}
    return _("%(name)s добавлен в список родственников.") % {"name": child.full_name}
