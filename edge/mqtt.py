"""Building aiomqtt clients from a broker section of gateway.yaml."""

from __future__ import annotations

import aiomqtt

from streetwatch.broker import BrokerConfig, tls_context


def make_client(
    config: BrokerConfig,
    *,
    identifier: str,
    will: aiomqtt.Will | None = None,
    persistent: bool = False,
) -> aiomqtt.Client:
    """A client for ``config``; ``persistent`` keeps the session (queued QoS 1) on reconnect."""
    client = aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        identifier=identifier,
        will=will,
        clean_session=not persistent,
        keepalive=config.keepalive_s,
        tls_context=tls_context(config),
        timeout=10.0,
        max_inflight_messages=100,
    )
    # The uplink publishes a batch of records concurrently on purpose (up to 64 in flight);
    # aiomqtt's default warns from 10 pending publishes.
    client.pending_calls_threshold = 200
    return client
