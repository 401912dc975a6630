"""``email``: SMTP (STARTTLS by default), a UTF-8 subject, text and HTML bodies."""

from hub.notify.channels.email.config import EmailConfig
from hub.notify.channels.email.sender import EmailSender, email_message

__all__ = ["EmailConfig", "EmailSender", "email_message"]
