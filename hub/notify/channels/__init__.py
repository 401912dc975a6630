"""One folder per channel: its config model, its sender, its tests (``CHANNELS`` registry).

Importing this package registers every channel type in ``hub.notify.base.CHANNELS``.
"""

from hub.notify.channels import dingtalk, email, feishu, mqtt, sms, webhook, wecom

__all__ = ["dingtalk", "email", "feishu", "mqtt", "sms", "webhook", "wecom"]
