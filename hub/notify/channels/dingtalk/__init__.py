"""``dingtalk``: a DingTalk (钉钉) custom robot, signed (加签), Markdown with @-mentions."""

from hub.notify.channels.dingtalk.config import DingtalkConfig
from hub.notify.channels.dingtalk.sender import DingtalkSender, dingtalk_sign

__all__ = ["DingtalkConfig", "DingtalkSender", "dingtalk_sign"]
