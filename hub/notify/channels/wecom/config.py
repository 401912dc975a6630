"""Config of a ``wecom`` channel: one WeCom (企业微信) group robot and whom it @-mentions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr

from streetwatch.config import Section

Mobile = Annotated[str, Field(pattern=r"^(\+?[0-9][0-9 -]{4,19}|@all)$")]


class WecomConfig(Section):
    base_url: str = Field(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        pattern=r"^https?://\S+$",
        description="Robot webhook endpoint without the key (a test or proxy may replace it).",
    )
    key: SecretStr = Field(
        min_length=1,
        description="The robot's webhook key (the `key=` of its URL). From the environment "
        "only (…__KEY), never from the file: whoever has it can post to the group.",
    )
    mention_mobiles: list[Mobile] = Field(
        default_factory=list,
        max_length=20,
        description="Mobile numbers to @ in every page ('@all' for everyone). With any mention "
        "the page is sent as text: WeCom @-mentions by number only in text messages.",
    )
    mention_recipient: bool = Field(
        False, description="Also @ the paged person by their phone number, when they have one."
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Connect, send and answer.")
