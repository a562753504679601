"""The one base of every refusal the portal gives a person (docs/architecture.md).

A service refuses by raising a subclass of `Refused` with a code; the area's table of
texts turns the code into Russian that says what happened and what to do instead. A
page shows `message`, the API puts the code and the text into an OperationOutcome, and a
caller that serves several areas (the waitlist books through the booking service, the
fair release through both) catches `Refused` once.
"""


class Refused(Exception):
    """A rule refused the action; ``code`` is a key of the area's table of texts."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return self.text(self.code)

    @classmethod
    def text(cls, code: str) -> str:
        """The Russian text of ``code``; each area's subclass reads its own table."""
        raise NotImplementedError(cls.__name__)
