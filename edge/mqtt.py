"""Building aiomqtt clients from a broker section of gateway.yaml."""

from __future__ import annotations

import ssl

import aiomqtt

from edge.config import BrokerConfig


def tls_context(config: BrokerConfig) -> ssl.SSLContext | None:
    if config.tls is None:
        return None
    context = ssl.create_default_context(
        cafile=str(config.tls.ca_file) if config.tls.ca_file else None
    )
    if config.tls.cert_file:
        context.load_cert_chain(
            str(config.tls.cert_file), str(config.tls.key_file) if config.tls.key_file else None
        )
    if config.tls.insecure:
        context.check_hostname = False
    return context


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
