"""The ``email`` sender: one message per page over SMTP, UTF-8 text with an HTML alternative.

It uses the standard library's ``smtplib`` in a worker thread (``asyncio.to_thread``), one SMTP
session per page: pages are rare and a fresh session never finds a connection the server
dropped. The thread cannot be interrupted; every step ends within ``timeout_s``.

SMTP answers: 4xx (and lost connections, timeouts) are retryable; 5xx (a refused address,
failed login) and a server without STARTTLS when it is required are not.
"""

from __future__ import annotations

import asyncio
import html
import re
import smtplib
import ssl
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pydantic import BaseModel

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels.email.config import EmailConfig
from hub.notify.render import TZ
from streetwatch.clock import Clock, SystemClock

_URL = re.compile(r"https?://[^\s<>\"]+")
ACK_BUTTON = {"zh": "点击确认收到", "en": "Acknowledge"}
_BUTTON = "background:#d4380d;color:#fff;padding:10px 18px;text-decoration:none;border-radius:4px"


def _html(notification: Notification) -> str:
    message = notification.message
    escaped = (html.escape(line, quote=False) for line in message.text.splitlines()[1:])
    lines = [_URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', line) for line in escaped]
    label = ACK_BUTTON[notification.recipient.language]
    return (
        f"<!doctype html><html><body><h2>{html.escape(message.title)}</h2><p>{'<br>'.join(lines)}"
        f'</p><p><a href="{html.escape(message.ack_url)}" style="{_BUTTON}">{label}</a></p>'
        "</body></html>"
    )


def email_message(notification: Notification, config: EmailConfig, now: float) -> EmailMessage:
    person, message = notification.recipient, notification.message
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = Address(config.sender_name, addr_spec=config.sender)
    mail["To"] = Address(person.name, addr_spec=person.email or "")
    mail["Date"] = format_datetime(datetime.fromtimestamp(now, TZ))
    mail["Message-ID"] = make_msgid("page", domain=config.sender.rpartition("@")[2])
    mail["X-Priority"] = "1"
    mail["Importance"] = "high"
    mail["X-StreetWatch-Incident"] = notification.incident.id
    mail.set_content(message.text)
    mail.add_alternative(_html(notification), subtype="html")
    return mail


class EmailSender:
    def __init__(self, name: str, config: EmailConfig, *, clock: Clock | None = None) -> None:
        self.name = name
        self.config = config
        self.clock: Clock = clock or SystemClock()

    async def __aenter__(self) -> EmailSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, notification: Notification) -> Delivery:
        address = notification.recipient.email
        if not address:
            return self._failed(f"{notification.recipient.id} has no e-mail address", False)
        mail = email_message(notification, self.config, self.clock.now())
        try:
            await asyncio.to_thread(self._submit, mail, address)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return self._failed(f"{address} refused: {code} {reply!r}", code < 500, code)
        except smtplib.SMTPResponseException as exc:
            detail = f"{exc.smtp_code} {exc.smtp_error!r}"
            return self._failed(detail, exc.smtp_code < 500, exc.smtp_code)
        except smtplib.SMTPNotSupportedError as exc:
            return self._failed(f"server does not support it: {exc}", False)
        except ssl.SSLError as exc:
            return self._failed(f"TLS: {exc}", False)
        except (smtplib.SMTPException, OSError) as exc:
            return self._failed(f"{type(exc).__name__}: {exc}", True)
        return Delivery(ok=True, channel=self.name, detail=address, status=250)

    def _submit(self, mail: EmailMessage, address: str) -> None:
        config = self.config
        cafile = str(config.ca_file) if config.ca_file else None
        context = ssl.create_default_context(cafile=cafile)
        smtp = (
            smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s, context=context)
            if config.security == "tls"
            else smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
        )
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username is not None:
                password = config.password.get_secret_value() if config.password else ""
                smtp.login(config.username, password)
            smtp.send_message(mail, from_addr=config.sender, to_addrs=[address])

    def _failed(self, detail: str, retryable: bool, status: int | None = None) -> Delivery:
        return Delivery(
            ok=False, channel=self.name, detail=detail, retryable=retryable, status=status
        )


@channel("email", EmailConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, EmailConfig):
        raise TypeError(f"email channel {name!r} needs an EmailConfig")
    return EmailSender(name, config, clock=clock)
