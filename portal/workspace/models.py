from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StaffMember(models.Model):
    """A staff account's role and the clinic it is bound to (docs/workspace.md).

    The role decides what a staff member may do; the clinic, what they may see. The
    regional operator has no clinic: the whole region is theirs. Every check goes through
    `portal.workspace.permissions`, never through this model directly.
    """

    class Role(models.TextChoices):
        CLERK = "clerk", _("регистратор")
        HEAD = "head", _("заведующий")
        OPERATOR = "operator", _("региональный оператор")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("учётная запись"),
        on_delete=models.CASCADE,
        related_name="staff_member",
    )
    role = models.CharField(_("роль"), max_length=10, choices=Role.choices)
    clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("медицинская организация"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff_members",
    )

    class Meta:
        verbose_name = _("сотрудник")
        verbose_name_plural = _("сотрудники")
        constraints = [
            # A clerk or head without a clinic would see nothing or, worse, be mistaken
            # for an operator; an operator bound to one clinic would be a head.
            models.CheckConstraint(
                condition=(Q(role="operator") & Q(clinic__isnull=True))
                | (~Q(role="operator") & Q(clinic__isnull=False)),
                name="staff_member_clinic_matches_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.get_role_display()})"

    @property
    def is_operator(self) -> bool:
        return self.role == self.Role.OPERATOR
