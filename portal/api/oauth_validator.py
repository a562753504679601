"""django-oauth-toolkit's validator with what RFC 6749 §4.1.2 asks on a reused code.

The first exchange of a code records the tokens it gave (`SpentCode`); a second exchange
of the same code, by the same app, revokes them — the access token and every refresh
token rotated from it (the refresh family) — and is refused with `invalid_grant` as
before. The token endpoint runs in one transaction and locks the code's grant
(`oauth_views.TokenView`), so two exchanges racing for one code are serialised: the later
one finds the grant gone and revokes what the earlier one got.
"""

import datetime
import hashlib
import logging
from typing import Any

from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator

from portal.api.models import SpentCode
from portal.api.queries import patient_of_user
from portal.api.smart_scopes import scopes_granted

logger = logging.getLogger(__name__)
SPENT_CODES_KEPT = datetime.timedelta(days=1)  # codes live 60 s; a day is plenty


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def spent_code_revoke(code: str, application_id: int) -> bool:
    """Revoke what the first exchange of ``code`` gave; True when it had been exchanged."""
    spent = SpentCode.objects.filter(code_hash=code_hash(code), application_id=application_id)
    row = spent.first()
    if row is None:
        return False
    RefreshToken.revoke_family(row.token_family)
    if row.access_token_id is not None:
        AccessToken.objects.filter(pk=row.access_token_id).delete()
    logger.warning("authorization code of app %s reused: its tokens revoked", application_id)
    return True


class PortalOAuth2Validator(OAuth2Validator):  # type: ignore[misc]
    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kw: Any
    ) -> bool:
        """Grant what the SMART request covers (`smart_scopes`); the token's `scope` says
        what was granted. Idempotent: the consent's POST validates the granted list again."""
        granted = scopes_granted(scopes)
        if not granted:
            return False
        request.scopes = granted
        return bool(super().validate_scopes(client_id, granted, client, request, *args, **kw))

    def is_within_original_scope(
        self, request_scopes: list[str], refresh_token: str, request: Any, *args: Any, **kw: Any
    ) -> bool:
        """A refresh may repeat the scopes the app first asked for, in the form it asked
        (`patient/*.read`, as OAuth clients do): they are read as at the authorization and
        must fall within what was granted then; the new token gets the granted form."""
        granted = scopes_granted(request_scopes)
        scopes = self.get_original_scopes(refresh_token, request)  # the library: a string
        original = set(scopes.split() if isinstance(scopes, str) else scopes)
        if not granted or not set(granted) <= original:
            return False
        request.scopes = granted
        return True

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kw: Any) -> Any:
        """SMART standalone patient launch: `launch/patient` puts the patient in context —
        the user's own record (an app reaches the children they act for through Patient)."""
        saved = super().save_bearer_token(token, request, *args, **kw)
        if "launch/patient" in (request.scopes or []):
            own = patient_of_user(request.user)
            if own is not None:
                token["patient"] = str(own.pk)
        return saved

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # Lock the grant: a concurrent exchange of the same code waits for this one.
        Grant.objects.select_for_update().filter(code=code, application=client).exists()
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        spent_code_revoke(code, client.pk)
        return False

    def _create_refresh_token(
        self,
        request: Any,
        refresh_token_code: str,
        access_token: AccessToken,
        previous_refresh_token: RefreshToken | None,
    ) -> RefreshToken:
        refresh_token: RefreshToken = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        if previous_refresh_token is None and request.grant_type == "authorization_code":
            SpentCode.objects.filter(created__lt=timezone.now() - SPENT_CODES_KEPT).delete()
            SpentCode.objects.create(
                code_hash=code_hash(request.code),
                application_id=request.client.pk,
                access_token_id=access_token.pk,
                token_family=refresh_token.token_family,
            )
        return refresh_token
