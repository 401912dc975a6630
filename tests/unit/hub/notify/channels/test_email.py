"""The e-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr, ValidationError
from support.http_receiver import closed_port
from support.pages import ACK_URL, page, person
from support.services import free_port

from hub.notify.channels.email import EmailConfig, EmailSender

SENDER = "alarm@huamu.example.cn"


@dataclass
class Inbox:
    """An SMTP handler that keeps what it accepts; ``refuse`` answers every RCPT with it."""

    refuse: str | None = None
    messages: list[Any] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alarm", b"pw-123")
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[int]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def sender(port: int, **values: Any) -> EmailSender:
    data = {"host": "127.0.0.1", "port": port, "security": "none", "sender": SENDER}
    data |= {"timeout_s": 3} | values
    return EmailSender("mail", EmailConfig.model_validate(data))


async def test_utf8_subject_text_and_html() -> None:
    inbox, notification = Inbox(), page()
    with smtp_server(inbox) as port:
        async with sender(port) as mail:
            delivery = await mail.send(notification)
    assert delivery.ok, delivery.detail
    [envelope] = inbox.messages
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["wang@lianyang.example.cn"]
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert received["Subject"] == notification.message.title
    assert received["From"].addresses[0].display_name == "StreetWatch 街道预警"
    assert received["To"].addresses[0].display_name == "王网格"
    assert received["X-Priority"] == "1"
    plain, html = (received.get_body((kind,)) for kind in ("plain", "html"))
    assert plain is not None
    assert html is not None
    text = plain.get_content().replace("\r\n", "\n").rstrip("\n")
    assert text == notification.message.text
    html = html.get_content()
    assert f'<a href="{ACK_URL}"' in html
    assert "点击确认收到" in html
    assert "联洋社区" in html


async def test_starttls_and_login(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    inbox = Inbox()
    options = {
        "tls_context": server_tls,
        "require_starttls": True,
        "authenticator": login,
    }
    with smtp_server(inbox, **options) as port:
        values = {"security": "starttls", "ca_file": cert, "username": "alarm"}
        async with sender(port, **values, password=SecretStr("pw-123")) as mail:
            delivery = await mail.send(page())
        async with sender(port, **values, password=SecretStr("wrong")) as mail:
            refused = await mail.send(page())
    assert delivery.ok, delivery.detail
    assert len(inbox.messages) == 1
    assert not refused.ok
    assert not refused.retryable
    assert refused.status == 535


async def test_starttls_required_but_not_offered_is_not_retryable() -> None:
    with smtp_server(Inbox()) as port:
        async with sender(port, security="starttls") as mail:
            delivery = await mail.send(page())
    assert not delivery.ok
    assert not delivery.retryable
    assert "STARTTLS" in delivery.detail


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [("550 5.1.1 No such user", False), ("451 4.3.0 Try again later", True)],
)
async def test_a_refused_recipient(answer: str, retryable: bool) -> None:
    with smtp_server(Inbox(refuse=answer)) as port:
        async with sender(port) as mail:
            delivery = await mail.send(page())
    assert not delivery.ok
    assert delivery.retryable is retryable
    assert delivery.status == int(answer[:3])


async def test_no_address_and_no_server() -> None:
    async with sender(closed_port()) as mail:
        no_address = await mail.send(page(recipient=person(email=None)))
        no_server = await mail.send(page())
    assert not no_address.ok
    assert not no_address.retryable
    assert not no_server.ok
    assert no_server.retryable


def test_config_refuses_a_password_without_user() -> None:
    with pytest.raises(ValidationError, match="username"):
        EmailConfig(host="smtp.example.cn", sender=SENDER, password=SecretStr("x"))
