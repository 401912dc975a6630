"""``feishu``: a Feishu / Lark (飞书) custom bot, signed; a level-coloured card or plain text."""

from hub.notify.channels.feishu.config import FeishuConfig
from hub.notify.channels.feishu.sender import FeishuSender, feishu_sign

__all__ = ["FeishuConfig", "FeishuSender", "feishu_sign"]
