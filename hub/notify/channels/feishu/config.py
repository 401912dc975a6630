"""Config of a ``feishu`` channel: one Feishu / Lark (飞书) custom bot, signed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from streetwatch.config import Section


class FeishuConfig(Section):
    base_url: str = Field(
        "https://open.feishu.cn/open-apis/bot/v2/hook",
        pattern=r"^https?://\S+[^/]$",
        description="Bot webhook endpoint without the hook id; Lark: "
        "https://open.larksuite.com/open-apis/bot/v2/hook (a test or proxy may replace it).",
    )
    hook: SecretStr = Field(
        min_length=1,
        description="The hook id, the last part of the bot's webhook URL. From the environment "
        "only (…__HOOK), never from the file.",
    )
    secret: SecretStr | None = Field(
        None,
        description="The bot's signing secret (签名校验); unset if it is secured by keywords or "
        "IP only. From the environment only (…__SECRET), never from the file.",
    )
    msg_type: Literal["interactive", "text"] = Field(
        "interactive",
        description="interactive: a card coloured by level with an acknowledge button; "
        "text: plain text.",
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Connect, send and answer.")
