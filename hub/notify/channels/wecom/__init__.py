"""``wecom``: a WeCom (企业微信) group robot, Markdown by default, text to @ mobile numbers."""

from hub.notify.channels.wecom.config import WecomConfig
from hub.notify.channels.wecom.sender import WecomSender

__all__ = ["WecomConfig", "WecomSender"]
