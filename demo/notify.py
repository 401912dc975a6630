"""``--notify FILE``: the demo's pages also on real channels (WeCom, DingTalk, e-mail, webhook).

The file holds the channels exactly as under ``notify.channels`` in hub.yaml, and optionally who
receives them::

    channels:
      phone: {type: wecom}            # the key from STREETWATCH_HUB_NOTIFY__CHANNELS__PHONE__KEY
    recipient: {name: 张三, email: zhangsan@example.com}

Secrets are read from the environment only, as the hub reads them; a secret written in the file
is refused with the name of the variable to use. The demo's own channel is called ``webhook``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from hub.config import HubConfig
from hub.notify.config import NotifyConfig
from simulators.run.stack import Watcher
from streetwatch.config import (
    ConfigError,
    ConfigProblem,
    FieldPath,
    Section,
    YamlDocument,
    env_name,
    parse_yaml,
)
from streetwatch.ids import Slug

RESERVED = "webhook"  # the channel the simulated responders are paged on


class Recipient(Section):
    name: str = Field("StreetWatch 演示观众", min_length=1, max_length=64, description="Shown.")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", description="For e-mail.")
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$", description="For SMS.")
    extra: dict[str, str] = Field(default_factory=dict, description="Per-channel addresses.")


class NotifyFile(Section):
    channels: dict[Slug, dict[str, Any]] = Field(min_length=1, description="As in hub.yaml.")
    recipient: Recipient = Field(default_factory=Recipient)


def load_watcher(path: Path) -> Watcher:
    """The watcher of ``path``, or ``ConfigError`` with every problem (file, line, field)."""
    file = str(path)
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"), file)
    except OSError as exc:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read: {exc.strerror}")]) from None
    if not isinstance(doc.data, dict):
        raise ConfigError([ConfigProblem(file, 1, "", "expected a mapping with `channels:`")])
    channels = doc.data.get("channels")
    channels = channels if isinstance(channels, dict) else {}
    with_env, unset, problems = _secrets(doc, file, channels)
    for model, data in ((NotifyFile, doc.data), (NotifyConfig, {"channels": with_env})):
        try:  # the file's shape; each channel against its type, with its secrets
            model.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                message = str(e["msg"]).removeprefix("Value error, ")
                for hint in unset.get(str(e["loc"][1]) if len(e["loc"]) > 1 else "", ()):
                    message = message.replace(f"{hint[0]}: Field required", hint[1])
                problems.append(_problem(doc, file, tuple(e["loc"]), message))
    if RESERVED in channels:
        why = f"`{RESERVED}` is the demo's own channel; give yours another name"
        problems.append(_problem(doc, file, ("channels", RESERVED), why))
    if problems:
        raise ConfigError(sorted(set(problems), key=lambda p: (p.line or 0, p.field)))
    notify = NotifyFile.model_validate(doc.data)
    r = notify.recipient
    return Watcher(notify.channels, name=r.name, email=r.email, phone=r.phone, extra=r.extra)


def _secrets(
    doc: YamlDocument, file: str, channels: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[tuple[str, str]]], list[ConfigProblem]]:
    """The channels with their secrets from the environment (as the hub will read them), what
    to say of each secret set nowhere (by channel), and a problem for each one in the file."""
    with_env = {name: dict(spec) if isinstance(spec, dict) else spec
                for name, spec in channels.items()}  # fmt: skip
    unset: dict[str, list[tuple[str, str]]] = {}
    problems = []
    for path in HubConfig.file_secret_paths({"notify": {"channels": channels}}):
        if path[:2] != ("notify", "channels") or len(path) != 4:
            continue  # the hub's own secrets, not in this file
        name, key = str(path[2]), str(path[3])
        variable = env_name(HubConfig, path)
        if ("channels", name, key) in doc.lines:
            why = ("secrets are not read from files; remove it and set the environment "
                   f"variable {variable} instead")  # fmt: skip
            problems.append(_problem(doc, file, ("channels", name, key), why))
        elif variable in os.environ:
            with_env[name][key] = os.environ[variable]
        else:
            hint = f"{key}: set the environment variable {variable} (not in this file)"
            unset.setdefault(name, []).append((key, hint))
    return with_env, unset, problems


def _problem(doc: YamlDocument, file: str, loc: FieldPath, message: str) -> ConfigProblem:
    field = ".".join(str(p) for p in loc)
    return ConfigProblem(file, doc.line_of(loc), field, message.removeprefix("Value error, "))
