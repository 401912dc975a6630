"""``sms``: the short text and the link through any SMS gateway with an HTTP API (a template)."""

from hub.notify.channels.sms.config import PLACEHOLDERS, SmsConfig
from hub.notify.channels.sms.sender import SmsSender

__all__ = ["PLACEHOLDERS", "SmsConfig", "SmsSender"]
