"""How any StreetWatch component reaches an MQTT broker: the config section and its TLS context.

The edge agent uses it twice (the local broker its devices publish to, the uplink to the hub's
broker); the hub uses it once. Passwords come from the environment only (see
``streetwatch.config``).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import Field, SecretStr

from streetwatch.config import Section as _Section


class TlsConfig(_Section):
    ca_file: Path | None = Field(None, description="CA certificate; the system store if unset.")
    cert_file: Path | None = Field(None, description="Client certificate for mutual TLS.")
    key_file: Path | None = Field(None, description="Client key for mutual TLS.")
    insecure: bool = Field(False, description="Skip hostname checks. Only for commissioning.")


class BrokerConfig(_Section):
    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 for TLS).")
    tls: TlsConfig | None = Field(None, description="Use TLS with these settings.")
    username: str | None = Field(None, max_length=128, description="MQTT user name.")
    password: SecretStr | None = Field(
        None, description="From the environment only (…__PASSWORD), never from the file."
    )
    keepalive_s: int = Field(30, ge=5, le=600, description="MQTT keepalive in seconds.")


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
