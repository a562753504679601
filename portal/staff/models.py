from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.directory.models import Clinic


class StaffMember(models.Model):
    """A staff account's role (docs/workspace.md).

    The role decides what a staff member may do; the account's clinic (``User.clinic``,
    which the admin and the booking service already read), what they may see: a clerk or
    a head without a clinic sees nothing, the regional operator the whole region. Every
    check goes through `portal.staff.permissions`, never through this model directly.
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

    class Meta:
        # The table keeps the name it had when roles lived in the workspace app: moving
        # the model below the domain (docs/architecture.md) changed no data.
        db_table = "workspace_staffmember"
        verbose_name = _("сотрудник")
        verbose_name_plural = _("сотрудники")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.get_role_display()})"

    @property
    def is_operator(self) -> bool:
        return self.role == self.Role.OPERATOR

    @property
    def clinic(self) -> "Clinic | None":
        """The one clinic of a clerk or head; None for the operator (the whole region)."""
        return None if self.is_operator else self.user.clinic

    @property
    def clinic_id(self) -> int | None:
        return None if self.is_operator else self.user.clinic_id
