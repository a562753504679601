"""What the authorization server keeps beside django-oauth-toolkit's own tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SpentCode(models.Model):
    """An authorization code already exchanged, and the tokens the exchange gave.

    The library deletes a code's grant when it is exchanged, so a second exchange is refused
    but cannot tell a replay from a mistyped code. RFC 6749 §4.1.2: a code used twice was
    stolen, and the tokens it issued should be revoked. This row lets the second attempt
    find them (docs/api.md, «Authorization»).
    """

    code_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the code: never the code
    # An id, not a foreign key: the library's models are swappable by a setting this project
    # does not define, which a migration's dependency would need. Rows live a day.
    application_id = models.BigIntegerField()
    access_token_id = models.BigIntegerField(null=True)  # the library may delete it first
    token_family = models.UUIDField(null=True)  # the refresh tokens rotated from this exchange
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("использованный код авторизации")
        verbose_name_plural = _("использованные коды авторизации")

    def __str__(self) -> str:
        return f"{self.application_id}:{self.code_hash[:8]}"
