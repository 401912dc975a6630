"""Signed acknowledgement links: what a valid token says, and every way one is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from hub.notify.links import LinkClaim, LinkRefused, LinkSigner, UsedLinks, UsedLinksError
from streetwatch.clock import ManualClock
from streetwatch.levels import Level

SECRET = b"s" * 32
TTL_S = 3600


def signer(clock: ManualClock, secret: bytes = SECRET) -> LinkSigner:
    return LinkSigner(secret, "https://hub.example.cn/", TTL_S, clock=clock)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refusal(links: LinkSigner, token: str) -> str:
    with pytest.raises(LinkRefused) as caught:
        links.verify(token)
    return caught.value.reason


def test_round_trip() -> None:
    clock = ManualClock()
    links = signer(clock)
    url = links.url("inc-1", "zhang-wei", Level.YELLOW)
    assert url.startswith("https://hub.example.cn/ack/")
    claim = links.verify(url.rsplit("/", 1)[1])
    assert claim.incident_id == "inc-1"
    assert claim.responder_id == "zhang-wei"
    assert claim.level is Level.YELLOW
    assert claim.expires == int(clock.now()) + TTL_S
    assert len(claim.nonce) >= 16


@pytest.mark.parametrize("level", list(Level))
def test_the_level_round_trips(level: Level) -> None:
    links = signer(ManualClock())
    url = links.url("inc-1", "zhang-wei", level)
    assert links.verify(url.rsplit("/", 1)[1]).level is level


def test_every_link_has_its_own_nonce() -> None:
    links = signer(ManualClock())
    claims = {
        links.verify(links.token("inc-1", "zhang-wei", Level.YELLOW)).nonce for _ in range(50)
    }
    assert len(claims) == 50


def test_signature_of_another_secret_is_forged() -> None:
    clock = ManualClock()
    token = signer(clock, b"x" * 32).token("inc-1", "zhang-wei", Level.YELLOW)
    assert refusal(signer(clock), token) == "forged"


def test_flipped_signature_is_forged() -> None:
    links = signer(ManualClock())
    body, mac = links.token("inc-1", "zhang-wei", Level.YELLOW).split(".")
    raw = bytearray(unb64(mac))
    raw[0] ^= 1
    assert refusal(links, f"{body}.{b64(bytes(raw))}") == "forged"


def test_tampered_payload_is_forged() -> None:
    links = signer(ManualClock())
    body, mac = links.token("inc-1", "zhang-wei", Level.YELLOW).split(".")
    payload = json.loads(unb64(body))
    changes = (("i", "inc-2"), ("r", "li-na"), ("lv", "red"), ("e", payload["e"] + 86400))
    for field, value in changes:
        tampered = b64(json.dumps({**payload, field: value}, separators=(",", ":")).encode())
        assert refusal(links, f"{tampered}.{mac}") == "forged", field


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", "abc.", ".abc", "ab+c.def", "abc.d=", "a" * 2000 + ".b", "不是.链接"],
)
def test_malformed(token: str) -> None:
    assert refusal(signer(ManualClock()), token) == "malformed"


def test_one_spelling_per_token() -> None:
    links = signer(ManualClock())
    body, mac = links.token("inc-1", "zhang-wei", Level.YELLOW).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(mac[-1])  # 43 characters carry 256 bits: the last 2 bits are unused
    lookalike = mac[:-1] + alphabet[last ^ 1]
    assert unb64(lookalike) == unb64(mac)
    assert refusal(links, f"{body}.{lookalike}") == "malformed"


def test_a_signed_token_of_version_1_without_a_level_is_malformed() -> None:
    clock = ManualClock()
    expires = int(clock.now()) + TTL_S
    old = {"v": 1, "i": "inc-1", "r": "zhang-wei", "e": expires, "n": "n" * 16}
    body = json.dumps(old, separators=(",", ":")).encode()
    mac = hmac.new(SECRET, body, hashlib.sha256).digest()
    assert refusal(signer(clock), f"{b64(body)}.{b64(mac)}") == "malformed"


@pytest.mark.parametrize("level", ["purple", "", 4, None])
def test_a_signed_token_of_an_unknown_level_is_malformed(level: object) -> None:
    clock = ManualClock()
    expires = int(clock.now()) + TTL_S
    data = {"v": 2, "i": "inc-1", "r": "zhang-wei", "lv": level, "e": expires, "n": "n" * 16}
    body = json.dumps(data, separators=(",", ":")).encode()
    mac = hmac.new(SECRET, body, hashlib.sha256).digest()
    assert refusal(signer(clock), f"{b64(body)}.{b64(mac)}") == "malformed"


def test_signed_garbage_is_malformed() -> None:
    body = b'{"v":2,"i":"inc-1"}'
    mac = hmac.new(SECRET, body, hashlib.sha256).digest()
    assert refusal(signer(ManualClock()), f"{b64(body)}.{b64(mac)}") == "malformed"


async def test_expired_on_the_clock() -> None:
    clock = ManualClock()
    links = signer(clock)
    token = links.token("inc-1", "zhang-wei", Level.YELLOW)
    await clock.advance(TTL_S - 1)
    assert links.verify(token).incident_id == "inc-1"
    await clock.advance(1)
    assert refusal(links, token) == "expired"


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LinkSigner(b"short", "https://x", TTL_S, clock=ManualClock())


async def test_claim_once() -> None:
    async with UsedLinks(None) as used:
        assert await used.claim("nonce-aaaa", 2_000_000_000)
        assert not await used.claim("nonce-aaaa", 2_000_000_000)
        assert await used.claim("nonce-bbbb", 2_000_000_000)


async def test_reuse_refused_across_reopen(tmp_path: Path) -> None:
    clock = ManualClock()
    claim = signer(clock).verify(signer(clock).token("inc-1", "zhang-wei", Level.YELLOW))
    async with UsedLinks(tmp_path / "used.sqlite3", clock=clock) as used:
        assert await used.claim(claim.nonce, claim.expires)
    async with UsedLinks(tmp_path / "used.sqlite3", clock=clock) as used:
        assert not await used.claim(claim.nonce, claim.expires)


async def test_release_lets_the_link_work_again() -> None:
    async with UsedLinks(None) as used:
        assert await used.claim("nonce-aaaa", 2_000_000_000)
        await used.release("nonce-aaaa")
        assert await used.claim("nonce-aaaa", 2_000_000_000)


async def test_expired_records_are_pruned_after_grace() -> None:
    clock = ManualClock(start=1_000_000)
    async with UsedLinks(None, clock=clock) as used:
        assert await used.claim("old-nonce", 1_000_100)
        await clock.advance(100 + 299)
        assert not await used.claim("old-nonce", 1_000_100)  # inside the grace: still used
        await clock.advance(2)
        await used.claim("other-nonce", 1_010_000)
        db = used._open()
        rows = await db.execute_fetchall("SELECT nonce FROM used_link")
        assert [r[0] for r in rows] == ["other-nonce"]


async def test_missing_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsedLinksError, match="directory does not exist"):
        async with UsedLinks(tmp_path / "nope" / "used.sqlite3"):
            pass


async def test_one_hub_per_file(tmp_path: Path) -> None:
    async with UsedLinks(tmp_path / "used.sqlite3") as used:
        assert await used.claim("nonce-aaaa", 2_000_000_000)
        with pytest.raises(UsedLinksError, match="another hub"):
            async with UsedLinks(tmp_path / "used.sqlite3", lock_timeout_s=0.1):
                pass


def test_claim_is_a_frozen_value() -> None:
    claim = LinkClaim(incident_id="i", responder_id="r", level=Level.RED, nonce="n" * 16, expires=1)
    with pytest.raises(ValueError, match="frozen"):
        claim.expires = 2  # type: ignore[misc]
