"""What a SMART app asks for, turned into what this server grants (docs/api.md, «Scopes»).

Apps ask in SMART v2 (`patient/Appointment.rs`), in v1 (`patient/Appointment.read`,
`patient/*.read`, `user/*.*`) and with context and identity scopes (`launch/patient`,
`offline_access`, `openid fhirUser profile`). OAuth lets a server grant less than asked and
say so in the token's `scope` (RFC 6749 §3.3): each of the server's own scopes is granted
when a requested one covers it — the same resource or `*`, and every permission letter —
so a request is never widened; identity scopes are not supported (no id_token) and are
left out rather than refusing the app (the SMART client library asks for them by default).
A request that covers nothing the server offers is refused with `invalid_scope`.
"""

from collections.abc import Iterable

from portal.api.auth import SCOPES

CONTEXT_SCOPES = ("launch/patient", "offline_access")
LETTERS_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


def _letters(permission: str) -> str:
    """SMART v2 letters (`rs`, `cruds`) or a v1 word (`read`, `write`, `*`) as letters."""
    if permission in LETTERS_V1:
        return LETTERS_V1[permission]
    return permission if permission and set(permission) <= set("cruds") else ""


def _covers(requested: str, own: str) -> bool:
    kind, _, rest = requested.partition("/")
    # `user/` asks for what the user may see: here that is exactly their patients' data.
    if kind not in ("patient", "user"):
        return False
    resource, _, permission = rest.partition(".")
    if "?" in permission:  # a v2 filter asks for less than any scope of ours gives
        return False
    own_resource, _, own_letters = own.removeprefix("patient/").partition(".")
    letters = _letters(permission)
    return resource in ("*", own_resource) and bool(letters) and set(own_letters) <= set(letters)


def scopes_granted(requested: Iterable[str]) -> list[str]:
    """The server's scopes that ``requested`` covers, context scopes kept, in a stable order."""
    asked = list(requested)
    granted = [own for own in SCOPES if any(_covers(scope, own) for scope in asked)]
    if not granted:
        return []
    return granted + [scope for scope in CONTEXT_SCOPES if scope in asked]
