"""What the emulator received: whole messages, concatenated parts put back together.

Read from other threads (tests, the control API) while the emulator's event loop writes,
hence the lock. With a file path the messages are also kept as JSON, rewritten whole after
each message (write to a temporary file, then rename) so a reader never sees half a file,
and read back when the emulator starts again.
"""

import datetime
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portal.smsc_emulator.pdu import ESM_CLASS_UDHI, SubmitSm, decode_text, split_udh

KEEP_MESSAGES = 500


@dataclass
class ReceivedSms:
    """One message as the handset would show it."""

    system_id: str
    source: str
    destination: str
    text: str
    message_ids: list[str]
    parts: int
    data_coding: int
    received_at: str
    state: str = "ENROUTE"
    valid_until: str = ""  # the submit's validity_period as sent


@dataclass
class _Pending:
    parts: dict[int, bytes] = field(default_factory=dict)
    message_ids: dict[int, str] = field(default_factory=dict)


class MessageStore:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._messages: list[ReceivedSms] = []
        self._pending: dict[tuple[str, str, str, int, int], _Pending] = {}
        self._messages = self._load()

    def _load(self) -> list[ReceivedSms]:
        """What an earlier run kept, so a restarted `make run` still shows it."""
        if self._path is None or not self._path.exists():
            return []
        try:
            kept = json.loads(self._path.read_text())["messages"]
            return [ReceivedSms(**message) for message in reversed(kept)]
        except (ValueError, KeyError, TypeError):
            return []  # a file from another version: start afresh

    def add_part(self, system_id: str, submit: SubmitSm, message_id: str) -> ReceivedSms | None:
        """Record one submit_sm; returns the message once all its parts have arrived."""
        concat, payload = (
            split_udh(submit.short_message)
            if submit.esm_class & ESM_CLASS_UDHI
            else (None, submit.short_message)
        )
        with self._lock:
            if concat is None:
                message = self._complete(system_id, submit, [payload], [message_id])
            else:
                reference, total, number = concat
                key = (system_id, submit.source_addr, submit.destination_addr, reference, total)
                pending = self._pending.setdefault(key, _Pending())
                pending.parts[number] = payload
                pending.message_ids[number] = message_id
                if len(pending.parts) < total:
                    return None
                del self._pending[key]
                numbers = sorted(pending.parts)
                message = self._complete(
                    system_id,
                    submit,
                    [pending.parts[n] for n in numbers],
                    [pending.message_ids[n] for n in numbers],
                )
        self._save()
        return message

    def _complete(
        self, system_id: str, submit: SubmitSm, payloads: list[bytes], message_ids: list[str]
    ) -> ReceivedSms:
        message = ReceivedSms(
            system_id=system_id,
            source=submit.source_addr,
            destination=submit.destination_addr,
            text=decode_text(b"".join(payloads), submit.data_coding),
            message_ids=message_ids,
            parts=len(payloads),
            data_coding=submit.data_coding,
            received_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            valid_until=submit.validity_period,
        )
        self._messages.append(message)
        del self._messages[:-KEEP_MESSAGES]
        return message

    def set_state(self, message_id: str, state: str) -> None:
        with self._lock:
            for message in self._messages:
                if message_id in message.message_ids:
                    message.state = state
        self._save()

    def messages(self) -> list[ReceivedSms]:
        """Oldest first, copies: the caller may keep them."""
        with self._lock:
            return [ReceivedSms(**asdict(m)) for m in self._messages]

    def as_json(self) -> dict[str, Any]:
        return {"messages": [asdict(m) for m in reversed(self.messages())]}

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._pending.clear()
        self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(self.as_json(), ensure_ascii=False, indent=1))
        temporary.replace(self._path)
