from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """An account of the portal.

    Citizens come from ESIA: keyed by their ESIA ``oid``, no usable password.
    Staff (registry clerks, regional operators) log in with a password and
    may be bound to one clinic.
    """

    esia_oid = models.CharField(_("OID в ЕСИА"), max_length=32, unique=True, null=True, blank=True)
    clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("медицинская организация"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("Для регистраторов: организация, расписание которой они ведут."),
    )

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    @property
    def is_citizen(self) -> bool:
        return self.esia_oid is not None
