"""`streetwatch demo --notify FILE`: real channels for the demo's pages, checked like hub.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.notify import load_watcher
from simulators.city import generate_city
from simulators.run.stack import hub_config
from streetwatch.config import ConfigError

KEY = "STREETWATCH_HUB_NOTIFY__CHANNELS__PHONE__KEY"


def problems(path: Path) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_watcher(path)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_a_channel_whose_secret_is_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY, "robot-key")
    path = tmp_path / "notify.yaml"
    path.write_text("channels:\n  phone: {type: wecom}\nrecipient: {email: zs@example.com}\n")
    watcher = load_watcher(path)
    assert dict(watcher.channels) == {"phone": {"type": "wecom"}}
    city = generate_city(1, 1, 1, 2, 1, "residential")
    config = hub_config(city, tmp_path, ("127.0.0.1", 1883), "http://127.0.0.1:9/page", "s" * 20,
                        watcher=watcher)  # fmt: skip
    assert set(config.notify.channels) == {"webhook", "phone"}
    watchers = [r for r in config.notify.responders if r.id.startswith("watcher-")]
    assert len(watchers) == 2  # one per community, on its first tier
    assert {(w.role.value, tuple(w.contact), w.email) for w in watchers} == {
        ("community", ("phone",), "zs@example.com")
    }


def test_every_problem_at_once_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY, raising=False)
    path = tmp_path / "notify.yaml"
    path.write_text(
        "channels:\n"
        "  phone: {type: wecom}\n"
        "  mail: {type: emali}\n"
        "  webhook: {type: webhook, url: 'http://127.0.0.1:9/', secret: not-here-please}\n"
        "recipient: {email: nobody}\n"
    )
    found = problems(path)
    assert (
        2,
        "channels.phone",
        f"key: set the environment variable {KEY} (not in this file)",
    ) in found
    assert any(line == 3 and "unknown channel type 'emali'" in m for line, _, m in found)
    assert any(f == "channels.webhook.secret" and "environment variable" in m
               for _, f, m in found)  # fmt: skip
    assert any(f == "channels.webhook" and "demo's own channel" in m for _, f, m in found)
    assert any(line == 5 and f == "recipient.email" for line, f, _ in found)


def test_a_file_without_channels(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("recipient: {name: 张三}\n")
    assert any(f == "channels" for _, f, _ in problems(path))
    assert problems(tmp_path / "missing.yaml")[0][2].startswith("cannot read")
