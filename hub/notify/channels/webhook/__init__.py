"""``webhook``: a signed JSON POST to any receiver (a duty system, a city platform)."""

from hub.notify.channels.webhook.config import WebhookConfig
from hub.notify.channels.webhook.sender import WebhookSender, signature

__all__ = ["WebhookConfig", "WebhookSender", "signature"]
