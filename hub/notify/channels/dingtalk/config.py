"""Config of a ``dingtalk`` channel: one DingTalk (钉钉) custom robot, signed, and whom it @s."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr

from streetwatch.config import Section

Mobile = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]


class DingtalkConfig(Section):
    base_url: str = Field(
        "https://oapi.dingtalk.com/robot/send",
        pattern=r"^https?://\S+$",
        description="Robot webhook endpoint without its query (a test or proxy may replace it).",
    )
    access_token: SecretStr = Field(
        min_length=1,
        description="The robot's access_token (from its webhook URL). From the environment "
        "only (…__ACCESS_TOKEN), never from the file.",
    )
    secret: SecretStr | None = Field(
        None,
        description="The robot's signing secret (加签, 'SEC…'); unset if the robot is secured by "
        "keywords or IP only. From the environment only (…__SECRET), never from the file.",
    )
    at_mobiles: list[Mobile] = Field(
        default_factory=list, max_length=20, description="Mobile numbers to @ in every page."
    )
    at_recipient: bool = Field(
        False, description="Also @ the paged person by their phone number, when they have one."
    )
    at_all: bool = Field(False, description="@ everyone in the group.")
    timeout_s: float = Field(5.0, gt=0, le=60, description="Connect, send and answer.")
