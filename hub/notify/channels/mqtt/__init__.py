"""``mqtt``: the page as JSON at QoS 1 on each responder app's own topic."""

from hub.notify.channels.mqtt.config import MqttConfig
from hub.notify.channels.mqtt.sender import MqttSender, responder_topic

__all__ = ["MqttConfig", "MqttSender", "responder_topic"]
