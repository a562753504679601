"""A local SMTP server for development and tests (aiosmtpd, a dev dependency).

`MailboxHandler` keeps each accepted e-mail as one ``.eml`` file named after its
Message-ID, so a repeat of the same message (a worker that died after the relay's
"250 OK" and retried) lands on the same file: the mailbox shows it once, as a
mailbox that collapses duplicates would. The development page reads that folder.
"""

import asyncio
import email
import email.policy
import hashlib
import os
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    mail_options: list[str] = field(default_factory=list)  # e.g. BODY=8BITMIME
    raw: bytes = b""  # as the relay received it


@dataclass
class RecordingHandler:
    """Keeps what it accepted; refuses listed recipients with 550 (a bad address)."""

    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message,
                    list(envelope.mail_options),
                    envelope.content,
                )
            )
        self.accepted(envelope.content, message)
        return "250 Message accepted for delivery"

    def accepted(self, raw: bytes, message: EmailMessage) -> None:
        """Subclasses keep the message somewhere."""

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(r.message["Message-ID"]) for r in self.received]


@dataclass
class MailboxHandler(RecordingHandler):
    directory: Path = Path("data/dev-mailbox")

    def accepted(self, raw: bytes, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = str(message.get("Message-ID", "")) or hashlib.sha256(raw).hexdigest()
        name = hashlib.sha256(key.encode()).hexdigest()[:32] + ".eml"
        target = self.directory / name
        if target.exists():
            return  # the same Message-ID again: the mailbox already holds it
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(raw)
        os.replace(temporary, target)


class LocalController(Controller):
    """aiosmtpd's threaded controller, able to listen on port 0 (any free port)."""

    def _trigger_server(self) -> None:
        server = self.server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call,unused-ignore]


def mailbox_read(directory: Path, limit: int = 200) -> list[dict[str, Any]]:
    """The newest e-mails of a sink's folder, as the development page lists them."""
    if not directory.is_dir():
        return []
    files = sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    rows = []
    for path in files[:limit]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        rows.append(
            {
                "message_id": str(message.get("Message-ID", "")),
                "to": str(message.get("To", "")),
                "subject": str(message.get("Subject", "")),
                "date": str(message.get("Date", "")),
                "text": body.get_content() if body is not None else "",
                "attachments": [part.get_filename() for part in message.iter_attachments()],
            }
        )
    return rows
