"""Email over SMTP: HTML and text alternatives, RFC 8058 one-click unsubscribe headers, connections kept
open between messages (a worker may hold a few, its lanes)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import smtplib
import ssl
import uuid
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

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
    email["From"] = _from_header(sender)
    email["To"] = outgoing.address
    email["Subject"] = Header(str(outgoing.content.get("subject", "")), "utf-8").encode()
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id_of(outgoing.idempotency_key, _domain_of(sender))
    for name, value in outgoing.headers.items():
        email[name] = value
    return email


def _domain_of(sender: str) -> str:
    return sender.rsplit("@", 1)[-1].rstrip(">").strip() or "omni.local"


def _from_header(sender: str) -> str:
    # A display name that is not ASCII becomes an encoded word; the address itself must stay readable.
    return formataddr(parseaddr(sender), "utf-8")


def _plain_header(name: str, value: str) -> bool:
    # RFC 5322 caps a line at 998 characters; anything else unusual is left to the email package.
    return value.isascii() and "\r" not in value and "\n" not in value and len(name) + len(value) < 990


def _part(subtype: str, body: str) -> bytes:
    encoded = base64.encodebytes(body.encode()).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + encoded


def wire_email(outgoing: Outgoing, *, sender: str) -> tuple[str, bytes] | None:
    """The message as it goes on the wire (CRLF lines, base64 parts), and its Message-ID; None when a
    header needs the email package's encoding (non-ASCII address or header, a header too long to keep on one
    line), for build_email to handle.

    The same MIME structure as build_email, written directly: flattening a Message object costs several
    times the SMTP conversation itself.
    """
    domain = _domain_of(sender)
    message_id = message_id_of(outgoing.idempotency_key, domain)
    subject = Header(str(outgoing.content.get("subject", "")), "utf-8").encode(linesep="\r\n")
    headers = [
        ("From", _from_header(sender)),
        ("To", outgoing.address),
        ("Date", formatdate(localtime=False)),
        ("Message-ID", message_id),
        *outgoing.headers.items(),
    ]
    if not all(_plain_header(name, value) for name, value in headers):
        return None
    text = _part("plain", str(outgoing.content.get("text", "")))
    html = outgoing.content.get("html")
    if html:
        # Base64 never contains "=_", so the boundary cannot occur inside a part.
        boundary = f"=_omni_{uuid.uuid4().hex}"
        top = f'Content-Type: multipart/alternative; boundary="{boundary}"\r\nMIME-Version: 1.0\r\n'
        mark = f"--{boundary}\r\n".encode()
        body = mark + text + mark + _part("html", str(html)) + f"--{boundary}--\r\n".encode()
    else:
        # A text-only message is the part itself, its headers first.
        split = text.index(b"\r\n\r\n") + 2
        top, body = text[:split].decode(), text[split:]
    lines = [top, f"Subject: {subject}\r\n", *(f"{name}: {value}\r\n" for name, value in headers)]
    return message_id, "".join(lines).encode() + b"\r\n" + body


class SmtpProvider:
    name = "smtp"
    # SMTP cannot be asked what it already accepted.
    resend_safe = False
    # Each lane is a connection of its own; servers take a few at once from one client.
    lanes = 4

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
        self._envelope_sender = parseaddr(sender)[1]

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

    def _email(self, outgoing: Outgoing) -> tuple[str, bytes | Message]:
        # An address that is not ASCII needs SMTPUTF8, which send_message negotiates.
        wire = wire_email(outgoing, sender=self.sender) if outgoing.address.isascii() else None
        if wire is not None:
            return wire
        email = build_email(outgoing, sender=self.sender)
        return str(email["Message-ID"]), email

    def send(self, outgoing: Outgoing) -> str:
        message_id, email = self._email(outgoing)
        connection = self._connect()
        try:
            if isinstance(email, bytes):
                refused = connection.sendmail(self._envelope_sender, [outgoing.address], email)
            else:
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
        return message_id

    def lookup(self, outgoing: Outgoing) -> str | None:
        return None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._connection = None
