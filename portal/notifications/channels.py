"""The two gateways: e-mail over SMTP (Django's backend) and SMS over SMPP.

Each `*_send` returns the gateway's ids for what it accepted, or raises
`DeliveryRefused` (permanent: retrying cannot help) or `DeliveryDeferred` (try later).
"""

import hashlib
import logging
import smtplib
import threading
import time
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string

from portal.notifications.models import Kind, Message
from portal.notifications.receipts import receipt_apply
from portal.scheduling.documents import ticket_ics

logger = logging.getLogger(__name__)
SMTP_IDLE_SECONDS = 20  # relays drop idle sessions; reopen rather than fail an attempt
SMTP_QUIT_SECONDS = 1.0  # a polite QUIT must not wait a whole EMAIL_TIMEOUT on a hung relay


class DeliveryRefused(Exception):
    """The gateway refused for good (bad address, rejected content)."""


class DeliveryDeferred(Exception):
    """Not now (gateway down, throttled): retry with backoff."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


# --- e-mail ---------------------------------------------------------------------------


def message_id_of(message: Message) -> str:
    """The same Message-ID on every attempt: a repeat after a crash is recognisable."""
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:20]
    return f"<notify.{message.pk}.{digest}@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}>"


def _calendar_attachment(message: Message) -> bytes | None:
    appointment = message.appointment
    if appointment is None:
        return None
    # The ticket's own calendar file: a live event while booked, its cancellation (same
    # UID, METHOD:CANCEL, higher SEQUENCE) once cancelled (portal.scheduling.documents).
    if message.kind in (Kind.BOOKED, Kind.MOVED):  # a move: the new ticket's event
        return ticket_ics(appointment, cancelled=False)
    if message.kind in (Kind.CANCELLED, Kind.CANCELLED_BY_CLINIC):
        return ticket_ics(appointment, cancelled=True)
    return None


def email_build(message: Message, connection: BaseEmailBackend | None = None) -> Any:
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.address],
        headers={"Message-ID": message_id_of(message)},
        connection=connection,
    )
    html = render_to_string(
        "notifications/email/message.html",
        {"subject": message.subject, "paragraphs": message.text.split("\n\n")},
    )
    mail.attach_alternative(html, "text/html")
    ics = _calendar_attachment(message)
    if ics is not None:
        method = "CANCEL" if b"METHOD:CANCEL" in ics else "PUBLISH"
        mail.attach("talon.ics", ics, f"text/calendar; charset=utf-8; method={method}")
    return mail


class _SmtpSession(threading.local):
    """One open SMTP session per worker thread, reused while it is fresh."""

    backend: BaseEmailBackend | None = None
    used_at: float = 0.0


_session = _SmtpSession()


class _RelayRest:
    """Process-wide: until when the relay is left alone after it timed out.

    A relay that accepts connections and never answers costs EMAIL_TIMEOUT per try; asking
    it again for every e-mail of a batch held the worker for minutes (docs/notifications.md,
    «A hung relay»). The first timeout defers the rest of the batch at once instead.
    """

    lock = threading.Lock()
    until: float = 0.0

    def begin(self) -> None:
        with self.lock:
            self.until = time.monotonic() + settings.NOTIFICATIONS_SMTP_REST_SECONDS

    def active(self) -> bool:
        return time.monotonic() < self.until

    def end(self) -> None:
        with self.lock:
            self.until = 0.0


_relay_rest = _RelayRest()


def _smtp() -> BaseEmailBackend:
    if _session.backend is not None and time.monotonic() - _session.used_at > SMTP_IDLE_SECONDS:
        smtp_close()
    if _session.backend is None:
        backend = get_connection(settings.NOTIFICATIONS_EMAIL_BACKEND, fail_silently=False)
        backend.open()
        _session.backend = backend
    _session.used_at = time.monotonic()
    return _session.backend


def smtp_close() -> None:
    backend, _session.backend = _session.backend, None
    if backend is None:
        return
    sock = getattr(getattr(backend, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(SMTP_QUIT_SECONDS)
    try:
        backend.close()
    except Exception:
        logger.debug("closing a broken SMTP session", exc_info=True)


def smtp_reset() -> None:
    """Forget the session and any rest (tests, and a worker told the relay is back)."""
    smtp_close()
    _relay_rest.end()


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected raised while handling it.
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _relay_hung(exc: BaseException) -> DeliveryDeferred:
    smtp_close()
    _relay_rest.begin()
    logger.warning(
        "SMTP relay did not answer within %s s; e-mail rests for %s s",
        settings.EMAIL_TIMEOUT,
        settings.NOTIFICATIONS_SMTP_REST_SECONDS,
    )
    return DeliveryDeferred(f"SMTP не отвечает ({type(exc).__name__}); повтор позже")


def _smtp_refusal(exc: smtplib.SMTPException) -> Exception:
    """5xx is final, 4xx and lost connections are worth another try."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return DeliveryRefused(f"SMTP: адрес отклонён ({codes[0]})")
        return DeliveryDeferred(f"SMTP: адрес временно не принят ({codes})")
    # The relay's own words often quote the address: the error (in the log and the admin)
    # keeps the code and the kind of failure only.
    code = getattr(exc, "smtp_code", 0)
    if isinstance(code, int) and code >= 500:
        return DeliveryRefused(f"SMTP {code}: {type(exc).__name__}")
    return DeliveryDeferred(f"SMTP {code or ''}: {type(exc).__name__}".replace("  ", " "))


def email_send(message: Message) -> str:
    """Send one e-mail; returns its Message-ID once the relay has accepted it."""
    if _relay_rest.active():
        raise DeliveryDeferred("SMTP не отвечает: отправка отложена до следующей попытки")
    for fresh_session in (False, True):
        try:
            connection = _smtp()
            mail = email_build(message, connection)
            connection.send_messages([mail])
            return message_id_of(message)
        except smtplib.SMTPServerDisconnected as exc:
            if _timed_out(exc):
                raise _relay_hung(exc) from exc
            smtp_close()
            if fresh_session:  # a stale session is worth one fresh try, a dead relay is not
                raise DeliveryDeferred(f"SMTP: соединение разорвано ({exc})") from exc
        except smtplib.SMTPException as exc:
            smtp_close()
            raise _smtp_refusal(exc) from exc
        except ValueError as exc:  # a malformed address never becomes valid
            # Not the exception's text: it quotes the address into the worker's log.
            raise DeliveryRefused("Неверный адрес электронной почты") from exc
        except TimeoutError as exc:
            raise _relay_hung(exc) from exc
        except OSError as exc:
            smtp_close()
            raise DeliveryDeferred(f"SMTP недоступен: {exc}") from exc
    raise AssertionError("unreachable")


# --- SMS ------------------------------------------------------------------------------

_gateway_lock = threading.Lock()
_gateway: Any = None


def sms_gateway() -> Any:
    """The process's SMPP session: bound once, kept alive (enquire_link, receipts,
    reconnects) by the client's own thread; receipts go to `receipts.receipt_apply`."""
    global _gateway
    with _gateway_lock:
        if _gateway is None:
            from portal.notifications.smpp.client import SmppGateway

            gateway = SmppGateway.from_settings(on_receipt=_receipt_in_thread(receipt_apply))
            gateway.start()
            _gateway = gateway
        return _gateway


def sms_gateway_close() -> None:
    global _gateway
    with _gateway_lock:
        gateway, _gateway = _gateway, None
    if gateway is not None:
        gateway.close()


def _receipt_in_thread(apply: Any) -> Any:
    """Receipts arrive on the client's thread: give each its own fresh connection use."""
    from django.db import close_old_connections

    def on_receipt(message_id: str, state: str) -> None:
        close_old_connections()
        apply(message_id, state)

    return on_receipt


def sms_send(message: Message) -> list[str]:
    """Submit one SMS (split into parts by the client); returns the parts' message_ids."""
    from portal.notifications.smpp.errors import SmppRejected, SmppThrottled, SmppUnavailable

    try:
        ids = sms_gateway().submit(message.address, message.text)
    except SmppRejected as exc:
        raise DeliveryRefused(f"SMSC отклонил сообщение: {exc}") from exc
    except SmppThrottled as exc:
        raise DeliveryDeferred(f"SMSC: ограничение скорости ({exc})", throttled=True) from exc
    except SmppUnavailable as exc:
        raise DeliveryDeferred(f"SMSC недоступен: {exc}") from exc
    if not ids:
        raise DeliveryDeferred("SMSC не вернул message_id")
    return [str(i) for i in ids]
