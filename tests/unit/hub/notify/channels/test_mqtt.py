"""The MQTT channel's topic template (publishing is tested on Mosquitto in tests/integration)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from support.pages import fire, page, person

from hub.notify.base import Notification
from hub.notify.channels.mqtt import MqttConfig, responder_topic
from streetwatch.ids import InvalidSlugError


def test_default_topic_with_and_without_prefix() -> None:
    assert responder_topic(MqttConfig(), page(), "app") == "sw/v1/responders/p-7"
    prefixed = MqttConfig(prefix="city-a/prod")
    assert responder_topic(prefixed, page(), "app") == "city-a/prod/sw/v1/responders/p-7"


def test_the_persons_address_on_this_channel_wins_over_their_id() -> None:
    notification = page(recipient=person(extra={"app": "dev-42", "other": "x"}))
    assert responder_topic(MqttConfig(), notification, "app") == "sw/v1/responders/dev-42"


@pytest.mark.parametrize(
    ("notification", "message"),
    [
        (page(recipient=person(id="p+1")), "'\\+'"),
        (page(recipient=person(extra={"app": "a/b"})), "'/'"),
        (page(fire(street=None)), "street is empty"),
    ],
)
def test_values_unfit_for_a_topic_are_refused(notification: Notification, message: str) -> None:
    config = MqttConfig(topic="sw/v1/responders/{street}/{recipient}")
    with pytest.raises(InvalidSlugError, match=message):
        responder_topic(config, notification, "app")


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("sw/v1/responders/{name}", "unknown"),
        ("sw/v1/responders/all", "must contain {recipient}"),
        ("sw/v1/+/{recipient}", "wildcards"),
        ("sw/v1/#/{recipient}", "wildcards"),
    ],
)
def test_config_refuses_bad_templates(topic: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MqttConfig(topic=topic)
