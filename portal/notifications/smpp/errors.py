"""What can go wrong talking to the SMSC, in the terms the caller acts on.

- `SmppUnavailable`: no answer, refused connection or bind, connection lost: try again
  later (the message may or may not have been accepted if it was lost mid-submit).
- `SmppThrottled`: the SMSC said ESME_RTHROTTLED: back off, then try again.
- `SmppRejected`: the SMSC refused this message for good (bad number, ...): do not retry.

Each carries the message ids of the parts the SMSC had already accepted before it went
wrong (`accepted`), so the caller can record them.
"""


class SmppError(Exception):
    def __init__(
        self, reason: str, *, status: int | None = None, accepted: list[str] | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.status = status  # the SMPP command_status, when the SMSC sent one
        self.accepted = list(accepted or [])


class SmppUnavailable(SmppError):
    """Connecting, binding or waiting for an answer failed; try again later."""


class SmppThrottled(SmppError):
    """ESME_RTHROTTLED: the account's message rate is exceeded; back off and retry."""


class SmppRejected(SmppError):
    """The SMSC refused the message itself (e.g. ESME_RINVDSTADR); retrying will not help."""
