"""Email over SMTP: HTML and text alternatives, RFC 8058 one-click unsubscribe headers, one connection
kept open between messages."""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

from omni.channels.providers.base import Outcome, Outgoing, ProviderError

# Codes after which the server has certainly not taken the message and says to try later.
_TRANSIENT = range(400, 500)


def message_id_of(idempotency_key: str, domain: str) -> str:
    """The Message-ID header of a message: stable per idempotency key, so a copy is recognisable."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build_email(outgoing: Outgoing, *, sender: str) -> Message:
    """The MIME message: text first, HTML as the preferred alternative, and the message's headers.

    Built with the compat32 MIME classes: the modern EmailMessage API parses every header it is given,
    which costs more than the SMTP conversation itself when thousands of emails go out.
    """
    text = MIMEText(str(outgoing.content.get("text", "")), "plain", "utf-8")
    html = outgoing.content.get("html")
    email: Message = text
    if html:
        email = MIMEMultipart("alternative")
        email.attach(text)
        email.attach(MIMEText(str(html), "html", "utf-8"))
    email["From"] = sender
    email["To"] = outgoing.address
    email["Subject"] = Header(str(outgoing.content.get("subject", "")), "utf-8").encode()
    email["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or "omni.local"
    email["Message-ID"] = message_id_of(outgoing.idempotency_key, domain)
    for name, value in outgoing.headers.items():
        email[name] = value
    return email


class SmtpProvider:
    name = "smtp"
    # SMTP cannot be asked what it already accepted.
    resend_safe = False

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        try:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls and connection.has_extn("starttls"):
                connection.starttls(context=ssl.create_default_context())
            if self.username:
                connection.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderError(
                f"SMTP server {self.host}:{self.port} not usable: {exc}", outcome="retry"
            ) from None
        self._connection = connection
        return connection

    def send(self, outgoing: Outgoing) -> str:
        email = build_email(outgoing, sender=self.sender)
        connection = self._connect()
        try:
            refused = connection.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            outcome: Outcome = "retry" if code in _TRANSIENT else "failed"
            raise ProviderError(
                f"SMTP refused {outgoing.address}: {code} {reason!r}", outcome=outcome
            ) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            rejected: Outcome = "retry" if exc.smtp_code in _TRANSIENT else "failed"
            raise ProviderError(
                f"SMTP refused the message: {exc.smtp_code} {exc.smtp_error!r}", outcome=rejected
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke mid-conversation: the server may have queued the message already.
            self.close()
            raise ProviderError(f"SMTP connection lost: {exc}", outcome="unknown") from None
        if refused:
            raise ProviderError(f"SMTP refused {', '.join(refused)}", outcome="failed")
        return str(email["Message-ID"])

    def lookup(self, outgoing: Outgoing) -> str | None:
        return None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._connection = None
