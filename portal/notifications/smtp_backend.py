"""Django's SMTP backend, declaring 8-bit bodies the way RFC 6152 asks.

Django writes UTF-8 text parts as `Content-Transfer-Encoding: 8bit`, but `smtplib`
sends `MAIL FROM` without `BODY=8BITMIME`, so a strict relay may refuse or mangle the
Russian text (issue 23). When the relay offers 8BITMIME, every message of the session
says so.
"""

from functools import partial
from typing import Any

from django.core.mail.backends.smtp import EmailBackend


class EightBitMimeBackend(EmailBackend):
    def open(self) -> bool | None:
        opened: bool | None = super().open()
        connection: Any = self.connection
        if connection is not None and opened:
            connection.ehlo_or_helo_if_needed()
            if connection.has_extn("8bitmime"):
                connection.sendmail = partial(connection.sendmail, mail_options=["BODY=8BITMIME"])
        return opened
